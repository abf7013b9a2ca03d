variable "stage" { # ERROR: No value for required variable
  type = string
}
vm "x" {
  stage = var.stage
}
