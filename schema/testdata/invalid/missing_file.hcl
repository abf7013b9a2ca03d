locals {
  rows = csvdecode(file("absent.csv")) # ERROR: Invalid function argument
}
