variable "wave" {
  type    = number
  default = "first" # ERROR: Invalid default value for variable
}
