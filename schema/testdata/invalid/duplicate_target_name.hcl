vm "a" {
  target {
    name = "app01"
  }
}
vm "b" { # ERROR: Duplicate target VM name
  target {
    name = "APP01"
  }
}
