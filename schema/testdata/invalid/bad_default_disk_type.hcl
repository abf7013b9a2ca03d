vm "x" {
  replication {
    disk_type = "premium_lrs" # ERROR: Invalid value for disk_type
  }
}
