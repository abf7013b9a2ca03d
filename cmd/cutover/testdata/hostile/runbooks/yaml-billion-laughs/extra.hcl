locals {
  x = yamldecode(file("b.yaml"))
}
