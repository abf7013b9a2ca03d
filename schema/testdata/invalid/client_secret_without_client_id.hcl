# NOBASE
azure "az" {
  vault         = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1"
  appliance     = "a1"
  tenant_id     = "00000000-0000-0000-0000-000000000002"
  credential    = "client_secret" # ERROR: Missing client_id
  client_secret = env("TEST_VC_PASSWORD")
}
