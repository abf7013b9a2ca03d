runbook {
  name = "a"
}
runbook { # ERROR: Duplicate runbook block
  name = "b"
}
