vm "x" {
  source {
    shutdown = "soft" # ERROR: Invalid value for shutdown
  }
}
