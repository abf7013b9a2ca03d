# NOBASE
azure "az" {
  cloud     = "AzureCloud"
  endpoint  = "https://127.0.0.1:8443/" # ERROR: Conflicting attributes
  vault     = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1"
  appliance = "a1"
}
