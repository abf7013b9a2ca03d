# NOBASE
vcenter "dc1" {
  url = "https://root:hunter2@vc01.example.com/sdk" # ERROR: Invalid vCenter URL
}
