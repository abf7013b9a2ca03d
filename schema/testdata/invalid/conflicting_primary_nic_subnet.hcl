vm "x" {
  target {
    subnet = "app"
    nic { # ERROR: Conflicting primary NIC subnet
      mac     = "00:50:56:aa:bb:cc"
      primary = true
      subnet  = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/web"
    }
    nic {
      mac    = "00:50:56:aa:bb:cd"
      subnet = "data"
    }
  }
}
