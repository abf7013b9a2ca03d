vm "x" {
  stage = local.nope # ERROR: Unsupported attribute
}
