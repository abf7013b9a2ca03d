vm "x" {
  stagee = "tested" # ERROR: Unsupported argument
}
