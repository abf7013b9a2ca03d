vm "x" {
  rehearsal { # ERROR: Rehearsal without placement
    name = "x-clone"
  }
}
