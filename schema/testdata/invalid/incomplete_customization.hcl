vm "x" {
  rehearsal {
    resource_pool = "rehearsal"
    customization { # ERROR: Incomplete customization
      os = "linux"
    }
  }
}
