vm "x" {
  depends_on = [vm.db] # ERROR: Reference to undeclared vm
}
