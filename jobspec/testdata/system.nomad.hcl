# A system job (one per node) with every placement rule.
#
# Reviewed against Nomad's constraint, affinity, spread, device, numa and
# resources docs:
# - constraint shorthands set the operator: distinct_hosts = true gives
#   Operand "distinct_hosts" with no targets, distinct_property puts the
#   property in LTarget, version/regexp/set_contains_any put their value in
#   RTarget; a missing operator is "=". is_set needs no value.
# - affinity with a shorthand (version) and a negative weight.
# - device "nvidia/gpu" count/constraint/affinity land in Resources.Devices;
#   numa affinity "require" in Resources.NUMA.
# - spread without targets; job-level spread with targets is in web.
job "node-agent" {
  type      = "system"
  namespace = "platform"
  region    = "global"
  priority  = 90

  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }

  constraint {
    attribute = "${attr.os.version}"
    operator  = ">="
    value     = "22.04"
  }

  constraint {
    attribute = "${meta.storage}"
    operator  = "is_set"
  }

  group "agent" {
    constraint {
      distinct_hosts = true
    }

    constraint {
      distinct_property = "${meta.rack}"
      value             = "2"
    }

    constraint {
      attribute = "${attr.driver.docker.version}"
      version   = ">= 20.10"
    }

    constraint {
      attribute = "${node.class}"
      regexp    = "^(edge|core)$"
    }

    constraint {
      attribute        = "${meta.features}"
      set_contains_any = "gpu,ssd"
    }

    affinity {
      attribute = "${attr.cpu.arch}"
      value     = "amd64"
      weight    = 80
    }

    affinity {
      attribute = "${attr.consul.version}"
      version   = ">= 1.15"
      weight    = -20
    }

    spread {
      attribute = "${meta.rack}"
    }

    task "agent" {
      driver = "exec"

      config {
        command = "/usr/local/bin/agent"
        args    = ["-node", "${node.unique.name}", "-dc", "${node.datacenter}"]
      }

      constraint {
        attribute = "${attr.unique.storage.volume}"
        operator  = "!="
        value     = "/dev/sdz"
      }

      affinity {
        attribute = "${node.class}"
        value     = "edge"
        weight    = 30
      }

      resources {
        cores   = 1
        memory  = 64
        secrets = 2

        device "nvidia/gpu" {
          count = 2

          constraint {
            attribute = "${device.attr.memory}"
            operator  = ">="
            value     = "2 GiB"
          }

          affinity {
            attribute = "${device.attr.cuda_cores}"
            operator  = ">="
            value     = "4000"
            weight    = 75
          }
        }

        device "fpga" {}

        numa {
          affinity = "require"
          devices  = ["nvidia/gpu"]
        }
      }
    }
  }
}
