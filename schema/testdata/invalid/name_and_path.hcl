vm "x" {
  source {
    name = "x"
    path = "/dc1/vm/x" # ERROR: Conflicting attributes
  }
}
