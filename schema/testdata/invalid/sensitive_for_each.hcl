vm "x" {
  for_each = toset([env("TEST_VC_PASSWORD")]) # ERROR: Sensitive for_each
}
