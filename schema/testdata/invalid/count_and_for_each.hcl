vm "x" {
  for_each = toset(["a"])
  count    = 2 # ERROR: Conflicting attributes
}
