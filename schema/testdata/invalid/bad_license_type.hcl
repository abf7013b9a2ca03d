vm "x" {
  target {
    license_type = "Windows" # ERROR: Invalid value for license_type
  }
}
