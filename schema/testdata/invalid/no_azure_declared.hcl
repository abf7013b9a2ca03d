# NOBASE
vcenter "dc1" {
  url = "https://vc01.example.com/sdk"
}
vm "x" { # ERROR: No azure declared
  replication {
    policy = "p"
  }
  target {
    resource_group = "rg"
  }
}
