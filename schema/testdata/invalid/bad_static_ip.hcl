vm "x" {
  target {
    nic {
      mac       = "00:50:56:aa:bb:cc"
      static_ip = "10.0.0.300" # ERROR: Invalid IP address
    }
  }
}
