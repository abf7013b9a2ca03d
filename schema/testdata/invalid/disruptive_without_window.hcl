vm "x" { # WARNING: Disruptive stage without a window
  stage = "migrated"
}
