# Secrets from env() and a sensitive variable flow into attributes that
# fail validation. Every message must name the problem, never the value.
variable "pw" {
  type      = string
  sensitive = true
}

variable "pin" {
  type      = number
  sensitive = true
  validation {
    condition     = var.pin > 1000000
    error_message = "The pin is too short."
  }
}

vcenter "dc1" {
  url      = var.pw
  username = env("LEAK_VC_PASSWORD")
  password = env("LEAK_VC_PASSWORD")
}

azure "az" {
  vault     = env("LEAK_VC_PASSWORD")
  appliance = "a1"
}

vm "a" {
  stage = env("LEAK_VC_PASSWORD")
  source {
    moref = var.pw
    path  = env("LEAK_VC_PASSWORD")
  }
  replication {
    policy = "p"
  }
  target {
    name           = var.pw
    size           = env("LEAK_VC_PASSWORD")
    resource_group = var.pw
    zone           = var.pw
    nic {
      mac       = env("LEAK_VC_PASSWORD")
      static_ip = var.pw
    }
  }
}

vm "b" {
  count = var.pw
  replication {
    policy = "p"
  }
  target {
    name           = var.pw
    resource_group = var.pw
  }
}
