vm "a" {
  depends_on = [vm.a] # ERROR: Self-referential depends_on
}
