vm "x" {
}
vm "x" { # ERROR: Duplicate vm block
}
