vm "x" {
  window = window.weekend # ERROR: Reference to undeclared window
}
