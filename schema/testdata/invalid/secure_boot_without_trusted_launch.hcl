vm "x" {
  target {
    security_type = "None"
    secure_boot   = true # ERROR: Setting needs a security type
  }
}
