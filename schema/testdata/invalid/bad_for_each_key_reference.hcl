vm "x" {
  stage = each.value # ERROR: Unknown variable
}
