# Reviewed against Nomad's constraint docs: a missing operator is "=";
# shorthands (distinct_hosts, distinct_property, version, regexp,
# set_contains*) set the operator; distinct_hosts = false adds nothing.
job "constrained" {
  datacenters = ["dc1"]

  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }

  constraint {
    attribute = "${attr.nomad.version}"
    version   = ">= 1.6"
  }

  constraint {
    distinct_hosts = true
  }

  group "g" {
    constraint {
      operator = "distinct_hosts"
      value    = "true"
    }

    constraint {
      distinct_property = "${meta.rack}"
      value             = "2"
    }

    constraint {
      attribute = "${meta.features}"
      set_contains = "ssd,gpu"
    }

    task "t" {
      driver = "raw_exec"

      constraint {
        attribute = "${attr.unique.hostname}"
        regexp    = "^web-[0-9]+$"
      }

      constraint {
        attribute = "${meta.tier}"
        operator  = ">="
        value     = "3"
      }

      constraint {
        attribute = "${attr.cpu.arch}"
        semver    = ">= 1.0.0"
      }

      constraint {
        attribute = "${node.class}"
        operator  = "is_set"
      }

      constraint {
        distinct_hosts = false
      }
    }
  }
}
