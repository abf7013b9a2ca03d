runbook {
  name = "full"
}

variable "wave" {
  type    = number
  default = 1
}

variable "owners" {
  type    = map(string)
  default = { app = "team-a" }
}

variable "secret_tag" {
  type      = string
  default   = "classified"
  sensitive = true
}

locals {
  hosts  = yamldecode(file("hosts.yaml"))
  motd   = templatefile("motd.tftpl", { wave = var.wave })
  prefix = "w${var.wave}"
  rg     = "${local.prefix}-rg"
  sub    = "00000000-0000-0000-0000-000000000009"
  vnet   = "/subscriptions/${local.sub}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet"
}

vcenter "dc1" {
  url      = "https://vc01.example.com/sdk"
  username = env("VC_USER")
  password = env("VC_PASSWORD")
}

vcenter "dc2" {
  url      = "https://vc02.example.com/sdk"
  insecure = true
}

azure "az" {
  vault       = "/subscriptions/${local.sub}/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1"
  appliance   = "appl"
  credential  = "token"
  # a subscription shared with other automation: half of ARM's budget
  write_burst       = 100
  writes_per_second = 5
}

window "w" {
  schedule = "@daily"
  duration = "2h"
}

defaults {
  replication {
    policy    = "p24"
    disk_type = "StandardSSD_LRS"
  }
  target {
    resource_group = local.rg
    network        = local.vnet
    subnet         = "default"
    test_network   = "vnet-isolated"
    size           = "Standard_D2s_v5"
    vm_tags        = var.owners
  }
}

vm "db" {
  stage  = "completed"
  window = window.w
  source {
    vcenter = vcenter.dc2
    moref   = "vm-42"
  }
  target {
    name = "db-az"
    size = "Standard_E8s_v5"
    disk {
      label = "Hard disk 1"
      type  = "Premium_LRS"
    }
  }
}

vm "app" {
  for_each   = local.hosts
  depends_on = [vm.db]
  stage      = "tested"
  source {
    vcenter = vcenter[each.value.vc]
    name    = each.key
  }
  target {
    size    = each.value.size
    vm_tags = { motd = local.motd, secret = var.secret_tag }
  }
  replication {
    disk_type = "Premium_LRS"
  }
}

vm "web" {
  count      = 2
  depends_on = [vm.app["app02"]]
  source {
    vcenter = "dc1"
  }
}
