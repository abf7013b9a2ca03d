locals {
  x = templatefile("t.tpl", {})
}
