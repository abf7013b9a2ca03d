vm "x" {
  target {
    nic {
      mac     = "00:50:56:aa:bb:01"
      primary = true
    }
    nic { # ERROR: Several primary NICs
      mac     = "00:50:56:aa:bb:02"
      primary = true
    }
  }
}
