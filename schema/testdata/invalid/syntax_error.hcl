vm "x" {
  stage = = "tested" # ERROR: Invalid expression
}
