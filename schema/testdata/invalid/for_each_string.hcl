vm "x" {
  for_each = "web01" # ERROR: Invalid for_each argument
}
