# NOBASE
azure "az" {
  cloud     = "AzureGermanCloud" # ERROR: Invalid value for cloud
  vault     = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1"
  appliance = "a1"
}
