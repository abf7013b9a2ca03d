vm "x" {
  stage = "done" # ERROR: Invalid value for stage
}
