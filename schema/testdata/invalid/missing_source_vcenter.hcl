vcenter "dc2" {
  url = "https://vc02.example.com/sdk"
}
vm "x" {
  source { # ERROR: Missing source vcenter
    name = "x"
  }
}
