vm "x" {
  target {
    nic {
      mac = "00-50-56-zz" # ERROR: Invalid MAC address
    }
  }
}
