# NOBASE
window "w" {
  schedule = "0 22 * * SAT"
  duration = "six hours" # ERROR: Invalid duration
}
