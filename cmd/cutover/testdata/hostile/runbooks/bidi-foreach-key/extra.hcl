vm "w" {
  for_each = toset(["a\u202eb"])
}
