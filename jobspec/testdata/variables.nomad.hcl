# Reviewed against Nomad's variables docs: precedence default < NOMAD_VAR_
# < var files < -var; typed variables convert (-var for a map is parsed
# as HCL); locals see variables and functions.
variable "image_tag" {
  type        = string
  description = "Which build to run."
}

variable "replicas" {
  type    = number
  default = 2

  validation {
    condition     = var.replicas > 0 && var.replicas < 10
    error_message = "replicas must be between 1 and 9."
  }
}

variable "dcs" {
  type    = list(string)
  default = ["dc1"]
}

variable "labels" {
  type    = map(string)
  default = { team = "web" }
}

variable "region" {
  type      = string
  default   = "global"
  sensitive = false
}

variables {
  owner = "ops"
}

locals {
  full_name = "${local.prefix}-${var.image_tag}"
  prefix    = upper("app")
}

locals {
  dc_count = length(var.dcs)
  greeting = format("%s has %d datacenters", local.full_name, local.dc_count)
}

job "vars" {
  name        = local.full_name
  region      = var.region
  datacenters = var.dcs
  priority    = 40 + var.replicas
  meta = merge(var.labels, {
    owner   = var.owner
    joined  = join(",", concat(var.dcs, ["extra"]))
    encoded = jsonencode({ a = 1 })
    decoded = jsondecode("{\"x\": \"y\"}").x
    split   = split("-", local.full_name)[1]
    lower   = lower("MiXeD")
    maxed   = max(3, 7, 5)
    minned  = min(3, 7, 5)
    coal    = coalesce("", "fallback")
  })

  group "app" {
    count = var.replicas

    task "app" {
      driver = "raw_exec"

      config {
        command = "/bin/echo"
        args    = [local.greeting, "tag=${var.image_tag}"]
      }

      env {
        OWNER = var.owner
      }
    }
  }
}
