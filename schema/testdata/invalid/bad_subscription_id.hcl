# NOBASE
azure "az" {
  subscription_id = "my-subscription" # ERROR: Invalid subscription_id
  vault           = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1"
  appliance       = "a1"
}
