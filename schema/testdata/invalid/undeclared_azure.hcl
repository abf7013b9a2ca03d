vm "x" {
  target {
    azure = azure.other # ERROR: Reference to undeclared azure
  }
}
