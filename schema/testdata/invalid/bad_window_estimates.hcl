# NOBASE
window "w" {
  schedule  = "0 22 * * SAT"
  duration  = "6h"
  estimates = { unplanned_failover = "forever" } # ERROR: Invalid estimate
}
window "x" {
  schedule  = "0 22 * * SUN"
  duration  = "6h"
  estimates = { reboot = "5m" } # ERROR: Unknown step kind in estimates
}
