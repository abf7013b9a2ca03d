locals {
  x = length(setproduct(range(1000), range(1000), range(1000)))
}
vm "q" {
  target {
    size = tostring(local.x)
  }
}
