# An on-premises dress rehearsal: before the real cutover, clone the source
# VM into an isolated pool and port group, give the clone a new identity
# with a guest customization, re-address it once it runs, and replicate the
# real VM without failing over yet.

runbook {
  name        = "billing-rehearsal"
  description = "Clone billing01 into the rehearsal pool and start replication."
}

vcenter "dc1" {
  url        = "https://vc01.corp.example/sdk"
  username   = env("VC_USER", "administrator@vsphere.local")
  password   = env("VC_PASSWORD")
  thumbprint = "4F:2A:0B:91:7C:33:5E:D0:11:8A:C2:6B:09:FE:47:12:9D:3E:A5:60"
}

azure "migrate" {
  subscription_id = "44444444-5555-6666-7777-888888888888"
  vault           = "/subscriptions/44444444-5555-6666-7777-888888888888/resourceGroups/migrate-rg/providers/Microsoft.RecoveryServices/vaults/billing-MigrateVault-3"
  appliance       = "appliance-01"
}

vm "billing01" {
  stage = "replicating"

  source {
    path          = "/DC0/vm/finance/billing01"
    resource_pool = "/DC0/host/DC0_C0/Resources/prod"
  }

  rehearsal {
    name          = "billing01-rehearsal"
    resource_pool = "/DC0/host/DC0_C0/Resources/rehearsal"
    datastore     = "LocalDS_0"
    # Every adapter of the clone moves to this port group, which has no
    # route to production; without it the adapters start disconnected.
    # The clone powers on only once its adapters read back isolated.
    network  = "rehearsal-isolated"
    power_on = true

    customization {
      os          = "linux"
      hostname    = "billing01-reh"
      domain      = "rehearsal.corp.example"
      time_zone   = "Europe/Berlin"
      dns_servers = ["10.99.0.53"]
      nic {
        ip      = "10.99.1.21"
        netmask = "255.255.255.0"
        gateway = ["10.99.1.1"]
      }
    }

    # Once the clone runs in isolation, move it to the address it keeps
    # for the rehearsal: CustomizeGuest_Task inside the running guest,
    # read back from what the guest reports.
    recustomize {
      os       = "linux"
      hostname = "billing01-reh"
      domain   = "rehearsal.corp.example"
      nic {
        ip      = "10.99.1.22"
        netmask = "255.255.255.0"
        gateway = ["10.99.1.1"]
      }
      guest_username = "root"
      guest_password = env("REHEARSAL_GUEST_PASSWORD")
    }
  }

  replication {
    policy              = "24-hour-replication-policy"
    run_as_account      = "vcenter-runas"
    disk_type           = "StandardSSD_LRS"
    log_storage_account = "/subscriptions/44444444-5555-6666-7777-888888888888/resourceGroups/migrate-rg/providers/Microsoft.Storage/storageAccounts/billinglogs01"
  }

  target {
    resource_group = "billing-prod"
    size           = "Standard_D4s_v5"
    security_type  = "TrustedLaunch"
    secure_boot    = true
    tpm            = true
  }
}
