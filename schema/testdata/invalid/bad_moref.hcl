vm "x" {
  source {
    moref = "vm/42" # ERROR: Invalid moref
  }
}
