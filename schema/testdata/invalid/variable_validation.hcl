variable "wave" { # ERROR: Invalid value for variable
  type    = number
  default = 0
  validation {
    condition     = var.wave > 0
    error_message = "Waves are numbered from 1."
  }
}
