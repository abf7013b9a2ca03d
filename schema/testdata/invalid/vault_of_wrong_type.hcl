# NOBASE
azure "az" {
  vault     = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/logs" # ERROR: Malformed vault ID
  appliance = "a1"
}
