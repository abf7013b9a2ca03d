# NOBASE
azure "az" {
  vault             = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1"
  appliance         = "a1"
  write_burst       = 20.5 # ERROR: Invalid value
  writes_per_second = 0    # ERROR: Invalid value
}
