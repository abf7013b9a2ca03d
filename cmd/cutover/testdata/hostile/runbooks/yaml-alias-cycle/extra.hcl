locals {
  x = yamldecode("a: &a\n  b: *a\n")
}
