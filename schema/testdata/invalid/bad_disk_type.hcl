vm "x" {
  target {
    disk {
      label = "Hard disk 1"
      type  = "Premium" # ERROR: Invalid value for type
    }
  }
}
