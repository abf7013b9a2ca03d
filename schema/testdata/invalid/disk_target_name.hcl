vm "x" {
  target {
    disk {
      label       = "Hard disk 1"
      target_name = "x-osdisk" # ERROR: Disk names are not settable
    }
  }
}
