vm "x" {
  count = -1 # ERROR: Invalid count argument
}
