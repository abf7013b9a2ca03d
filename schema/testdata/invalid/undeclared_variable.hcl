vm "x" {
  stage = var.stage # ERROR: Unsupported attribute
}
