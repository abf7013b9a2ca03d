vm "x" {
  target {
    nic { # ERROR: NIC without a source
      primary = true
    }
  }
}
