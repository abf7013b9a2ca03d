vm "x" {
  stage = "finished" # ERROR: Invalid value for stage
  source {
    shutdown = "gentle" # ERROR: Invalid value for shutdown
  }
  target {
    zone = "4" # ERROR: Invalid value for zone
  }
}
