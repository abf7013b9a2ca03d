vm "x" { # ERROR: Test network is the production network
  stage = "tested"
  target {
    test_network = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet"
  }
}

# Said explicitly: accepted.
vm "y" {
  stage = "tested"
  target {
    test_network             = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet"
    allow_test_in_production = true
  }
}

vm "z" {
  stage = "tested"
  target {
    allow_test_in_production = "maybe" # ERROR: Incorrect attribute value type
  }
}
