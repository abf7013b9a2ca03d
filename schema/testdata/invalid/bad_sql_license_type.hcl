vm "x" {
  target {
    sql_license_type = "BYOL" # ERROR: Invalid value for sql_license_type
  }
}
