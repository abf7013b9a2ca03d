state {
  backend = "s3" # ERROR: Invalid value for backend
}
