vm "app" {
  for_each = toset(["a", "b"])
}
vm "web" {
  depends_on = [vm.app["c"]] # ERROR: Reference to undeclared vm instance
}
