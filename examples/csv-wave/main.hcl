# A migration wave kept as a CSV, one row per VM: the way most teams track
# waves today. Every row becomes vm.wave["<name>"].
#
#   cutover validate examples/csv-wave
#   cutover validate examples/csv-wave --var wave_file=wave2.csv

runbook {
  name        = "wave1"
  description = "Twenty mixed VMs from a CSV export of the migration tracker."
}

variable "wave_file" {
  type        = string
  default     = "wave1.csv"
  description = "CSV with columns name, size, subnet, ip, disk_type, stage, mac."

  validation {
    condition     = endswith(var.wave_file, ".csv")
    error_message = "The wave file must be a .csv file."
  }
}

variable "vc_password" {
  type        = string
  default     = ""
  sensitive   = true
  description = "vCenter password; prefer CUTOVER_VAR_vc_password over a file."
}

locals {
  rows    = csvdecode(file(var.wave_file))
  sub     = "22222222-3333-4444-5555-666666666666"
  network = "/subscriptions/${local.sub}/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/hub-vnet"
  # Test failovers land in a network with no route to production, so a
  # test VM never meets its running source.
  test_network = "/subscriptions/${local.sub}/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/test-vnet"
}

vcenter "dc1" {
  url      = "https://vc01.corp.example/sdk"
  username = "svc-cutover@vsphere.local"
  password = var.vc_password
}

azure "migrate" {
  subscription_id = local.sub
  vault           = "/subscriptions/${local.sub}/resourceGroups/migrate-rg/providers/Microsoft.RecoveryServices/vaults/wave-MigrateVault-7"
  appliance       = "appliance-02"
}

window "weekend" {
  schedule = "0 20 * * FRI"
  duration = "48h"
  timezone = "America/New_York"
}

defaults {
  replication {
    policy              = "24-hour-replication-policy"
    log_storage_account = "/subscriptions/${local.sub}/resourceGroups/migrate-rg/providers/Microsoft.Storage/storageAccounts/wavelogs01"
  }
  target {
    resource_group = "wave1-rg"
    network        = local.network
    test_network   = local.test_network
    test_subnet    = "test"
    license_type   = "WindowsServer"
  }
}

vm "wave" {
  for_each = { for r in local.rows : r.name => r }

  stage  = each.value.stage
  window = window.weekend

  target {
    size   = each.value.size
    subnet = each.value.subnet
    vm_tags = {
      wave = "1"
      tier = each.value.subnet
    }
    nic {
      mac       = each.value.mac
      primary   = true
      static_ip = each.value.ip
    }
  }

  replication {
    disk_type = each.value.disk_type
  }
}
