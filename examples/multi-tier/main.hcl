# A three-tier application moved in dependency order inside one window:
# the database fails over first, then the application servers, then the web
# front ends. Test failovers follow the same order.

runbook {
  name        = "orders-app"
  description = "Orders application: PostgreSQL, two app servers, two web servers."
}

variable "rpo_bound" {
  type        = string
  default     = "30m"
  description = "Refuse to fail over a VM whose last recovery point is older than this."
}

vcenter "dc1" {
  url        = "https://vc01.corp.example/sdk"
  username   = env("VC_USER", "administrator@vsphere.local")
  password   = env("VC_PASSWORD")
  datacenter = "DC0"
}

azure "migrate" {
  cloud           = "AzureChinaCloud"
  subscription_id = "33333333-4444-5555-6666-777777777777"
  vault           = "/subscriptions/33333333-4444-5555-6666-777777777777/resourceGroups/migrate-rg/providers/Microsoft.RecoveryServices/vaults/orders-MigrateVault-2"
  appliance       = "appliance-cn-01"
  credential      = "cli"
}

window "sat-night" {
  schedule = "0 22 * * SAT"
  duration = "6h"
  timezone = "Asia/Shanghai"
}

defaults {
  replication {
    policy              = "24-hour-replication-policy"
    max_rpo             = var.rpo_bound
    disk_type           = "Premium_LRS"
    log_storage_account = "/subscriptions/33333333-4444-5555-6666-777777777777/resourceGroups/orders-prod/providers/Microsoft.Storage/storageAccounts/orderslogs01"
  }
  target {
    resource_group = "orders-prod"
    network        = "/subscriptions/33333333-4444-5555-6666-777777777777/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/prod-vnet"
    test_network   = "/subscriptions/33333333-4444-5555-6666-777777777777/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/test-vnet"
    vm_tags = {
      app = "orders"
    }
  }
}

vm "db" {
  stage  = "migrated"
  window = window.sat-night
  source {
    name                    = "orders-db01"
    shutdown                = "guest"
    snapshot_before_cutover = true
  }
  target {
    name             = "orders-db01"
    size             = "Standard_E8s_v5"
    subnet           = "data"
    test_subnet      = "data"
    zone             = "1"
    sql_license_type = "AHUB"
    nic {
      mac       = "00:50:56:9a:10:01"
      primary   = true
      static_ip = "10.30.3.10"
    }
    disk {
      label = "Hard disk 1"
      type  = "Premium_LRS"
    }
    disk {
      label = "Hard disk 2"
      type  = "Premium_ZRS"
    }
  }
}

vm "app" {
  for_each   = toset(["orders-app01", "orders-app02"])
  stage      = "migrated"
  window     = window.sat-night
  depends_on = [vm.db]
  target {
    size             = "Standard_D4s_v5"
    subnet           = "app"
    test_subnet      = "app"
    availability_set = "/subscriptions/33333333-4444-5555-6666-777777777777/resourceGroups/orders-prod/providers/Microsoft.Compute/availabilitySets/orders-app"
  }
}

vm "web" {
  for_each   = toset(["orders-web01", "orders-web02"])
  stage      = "migrated"
  window     = window.sat-night
  depends_on = [vm.app]
  source {
    shutdown = "hard"
  }
  target {
    size        = "Standard_D2s_v5"
    subnet      = "web"
    test_subnet = "web"
    zone        = "2"
  }
}
