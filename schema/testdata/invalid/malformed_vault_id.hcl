# NOBASE
azure "az" {
  vault     = "subscriptions/abc/vaults/v1" # ERROR: Malformed vault ID
  appliance = "a1"
}
