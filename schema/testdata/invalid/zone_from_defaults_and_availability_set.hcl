# NOBASE
vcenter "dc1" {
  url = "https://vc01.example.com/sdk"
}
azure "az" {
  vault     = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1"
  appliance = "a1"
}
defaults {
  replication {
    policy = "p"
  }
  target {
    resource_group = "rg"
    zone           = "2"
  }
}
vm "x" { # ERROR: Zone and availability set
  target {
    availability_set = "as-app"
  }
}
