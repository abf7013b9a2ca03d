# NOBASE: defaults here name no test network.
vcenter "dc1" {
  url = "https://vc01.example.com/sdk"
}

azure "az" {
  vault     = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1"
  appliance = "appliance-01"
}

window "w" {
  schedule = "0 22 * * SAT"
  duration = "6h"
}

defaults {
  replication {
    policy = "p24"
  }
  target {
    resource_group = "rg-target"
    network        = "vnet"
    subnet         = "default"
  }
}

vm "tested" { # ERROR: Missing test network
  stage = "tested"
}

vm "migrated" { # ERROR: Missing test network
  stage  = "migrated"
  window = window.w
}

vm "replicating" {
  stage = "replicating"
}

# A name in the target resource group and the ID of the same network.
vm "same_by_name" { # ERROR: Test network is the production network
  stage = "tested"
  target {
    test_network = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-target/providers/Microsoft.Network/virtualNetworks/VNET"
  }
}

# The same name in another resource group is another network.
vm "other_group" {
  stage = "tested"
  target {
    test_network = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/vnet"
  }
}
