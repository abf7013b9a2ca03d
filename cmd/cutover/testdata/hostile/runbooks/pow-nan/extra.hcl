locals {
  x = pow(-1, 0.5)
}
vm "q" {
  target {
    size = tostring(local.x)
  }
}
