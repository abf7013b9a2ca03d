vm "x" {
  target {
    zone             = "1"
    availability_set = "as-app" # ERROR: Conflicting attributes
  }
}
