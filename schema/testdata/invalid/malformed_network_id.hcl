vm "x" {
  target {
    network = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/net/providers/Microsoft.Network/subnets" # ERROR: Malformed network ID
  }
}
