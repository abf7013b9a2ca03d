variable "wave" { # ERROR: No value for required variable
  type = number
}
