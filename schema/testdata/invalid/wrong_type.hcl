vm "x" {
  source {
    snapshot_before_cutover = "sometimes" # ERROR: Incorrect attribute value type
  }
}
