vm "x" {
  source {
    vcenter = vcenter.dc2 # ERROR: Reference to undeclared vcenter
  }
}
