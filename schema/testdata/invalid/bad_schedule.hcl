# NOBASE
window "w" {
  schedule = "every saturday" # ERROR: Invalid schedule
  duration = "6h"
}
