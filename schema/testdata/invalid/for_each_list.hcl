vm "x" {
  for_each = ["web01", "web02"] # ERROR: Invalid for_each argument
}
