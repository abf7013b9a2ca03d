locals {
  rows = csvdecode(file("rows.csv"))
}
vm "x" {
  for_each = { for r in local.rows : r.name => r }
  target {
    size = "Standard_${each.value.size}" # ERROR: Unsupported attribute
  }
}
