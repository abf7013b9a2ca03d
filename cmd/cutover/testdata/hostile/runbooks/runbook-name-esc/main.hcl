# Quickstart: three VMs from one vCenter, migrated through one vault.
#
#   cutover validate examples/quickstart
#   cutover plan examples/quickstart --sim

runbook {
  name        = "q\u001b]0;pwn\u0007"
  description = "Three application VMs moved to Azure in one window."
}

vcenter "dc1" {
  url        = "https://vc01.corp.example/sdk"
  username   = env("VC_USER", "administrator@vsphere.local")
  password   = env("VC_PASSWORD")
  datacenter = "DC0"
}

azure "migrate" {
  cloud           = "AzureCloud"
  subscription_id = "11111111-2222-3333-4444-555555555555"
  vault           = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/migrate-rg/providers/Microsoft.RecoveryServices/vaults/proj-MigrateVault-1"
  appliance       = "appliance-01"
}

window "sat-night" {
  schedule = "0 22 * * SAT"
  duration = "6h"
  timezone = "Europe/Berlin"
}

defaults {
  replication {
    policy              = "24-hour-replication-policy"
    disk_type           = "Premium_LRS"
    log_storage_account = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/migrate-rg/providers/Microsoft.Storage/storageAccounts/migratelogs01"
  }
  target {
    resource_group = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/app-prod"
    network        = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/prod-vnet"
    subnet         = "app"
    test_network   = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/test-vnet"
    test_subnet    = "app"
  }
}

# The block label is the source VM's name in vCenter and, unless target
# sets another, the Azure VM's name.
vm "app01" {
  stage  = "migrated"
  window = window.sat-night
  target {
    size = "Standard_D2s_v5"
  }
}

vm "app02" {
  stage  = "migrated"
  window = window.sat-night
  target {
    size = "Standard_D2s_v5"
  }
}

vm "db01" {
  stage  = "migrated"
  window = window.sat-night
  source {
    shutdown                = "guest"
    snapshot_before_cutover = true
  }
  target {
    name = "db01-az"
    size = "Standard_E4s_v5"
    zone = "1"
  }
}
