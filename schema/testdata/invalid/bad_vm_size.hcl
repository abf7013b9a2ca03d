vm "x" {
  target {
    size = "D4s_v5" # ERROR: Invalid VM size
  }
}
