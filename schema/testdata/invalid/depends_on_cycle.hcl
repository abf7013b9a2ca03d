vm "a" {
  depends_on = [vm.b] # ERROR: Cycle in depends_on
}
vm "b" {
  depends_on = [vm.c]
}
vm "c" {
  depends_on = [vm.a]
}
