# NOBASE
window "w" {
  schedule = "0 22 * * SAT"
  duration = "6h"
  timezone = "Mars/Olympus" # ERROR: Unknown time zone
}
