# Dynamic blocks, as Nomad users write them: generated groups, ports,
# constraints, services, templates and driver config blocks, nested
# dynamic blocks, and iterator names that shadow each other.
variable "groups" {
  type = map(object({ count = number, ports = list(string) }))
  default = {
    api    = { count = 2, ports = ["http", "grpc"] }
    worker = { count = 1, ports = [] }
  }
}

variable "kernels" {
  default = ["linux", "darwin"]
}

locals {
  volumes = { "/etc/app" = "/local/etc", "/var/log/app" = "/alloc/logs" }
}

job "dynamic" {
  datacenters = ["dc1"]

  dynamic "constraint" {
    for_each = var.kernels
    iterator = k
    content {
      attribute = "${attr.kernel.name}"
      operator  = "!="
      value     = upper(k.value)
    }
  }

  dynamic "group" {
    for_each = var.groups
    labels   = [group.key]

    content {
      count = group.value.count

      network {
        mode = "bridge"
        dynamic "port" {
          for_each = group.value.ports
          iterator = p
          labels   = [p.value]
          content {
            to = 8080 + p.key
          }
        }
      }

      dynamic "service" {
        for_each = group.value.ports
        content {
          name = "${group.key}-${service.value}"
          port = service.value
          tags = ["idx-${service.key}", "${node.datacenter}"]
        }
      }

      task "main" {
        driver = "docker"

        config {
          image = "example/${group.key}:1.0"
          dynamic "mount" {
            for_each = local.volumes
            content {
              type   = "bind"
              source = mount.key
              target = mount.value
            }
          }
          ports = group.value.ports
        }

        dynamic "template" {
          for_each = ["a.conf", "b.conf"]
          content {
            data        = "name=${group.key} file=${template.value} alloc={{ env \"NOMAD_ALLOC_ID\" }}"
            destination = "local/${template.value}"
          }
        }

        dynamic "meta" {
          for_each = [group.key]
          content {
            role = meta.value
          }
        }
      }
    }
  }
}
