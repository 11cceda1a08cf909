# A web service the way most Nomad users write one: bridge networking,
# Consul service with checks, templates, rolling updates.
#
# Reviewed field by field against Nomad's job specification docs
# (job, group, network, port, dns, service, check, check_restart,
# template, change_script, wait, update, migrate, reschedule, restart,
# disconnect, scaling, ephemeral_disk, artifact, logs, action, ui,
# affinity, spread):
# - static ports land in ReservedPorts, ports without static in
#   DynamicPorts (Nomad's parser splits them); to = -1 is kept.
# - durations are nanoseconds in JSON (30s = 30000000000).
# - template: fields the file does not set stay null (the server fills
#   change_mode, perms, splay, ...); an env template restarts the task on
#   change (Nomad refuses signals for env templates).
# - check header is a map of lists; check interval/timeout are plain
#   durations; check_restart at service and check level.
# - the job has no count: the group's Count is 3, the unset ones stay nil.
# - ${NOMAD_*}, ${attr.*}, ${meta.*} stay literal.
variable "image" {
  type        = string
  default     = "nginx:1.27"
  description = "Container image"
}

locals {
  port_label = "http"
  domain     = "example.com"
}

job "web" {
  datacenters = ["dc1", "dc2"]
  type        = "service"
  priority    = 60
  node_pool   = "default"

  ui {
    description = "Public **web** tier"
    link {
      label = "Runbook"
      url   = "https://wiki.${local.domain}/web"
    }
    link {
      label = "Repo"
      url   = "https://git.${local.domain}/web"
    }
  }

  update {
    max_parallel      = 2
    health_check      = "checks"
    min_healthy_time  = "10s"
    healthy_deadline  = "5m"
    progress_deadline = "10m"
    auto_revert       = true
    auto_promote      = true
    canary            = 1
    stagger           = "30s"
  }

  migrate {
    max_parallel     = 1
    health_check     = "checks"
    min_healthy_time = "10s"
    healthy_deadline = "5m"
  }

  reschedule {
    delay          = "30s"
    delay_function = "exponential"
    max_delay      = "1h"
    unlimited      = true
  }

  spread {
    attribute = "${node.datacenter}"
    weight    = 100

    target "dc1" {
      percent = 60
    }

    target "dc2" {
      percent = 40
    }
  }

  affinity {
    attribute = "${meta.tier}"
    value     = "frontend"
    weight    = 50
  }

  group "frontend" {
    count = 3

    network {
      mode     = "bridge"
      hostname = "web-${NOMAD_ALLOC_INDEX}"

      port "http" {
        to = 8080
      }

      port "admin" {
        static       = 9000
        to           = -1
        host_network = "private"
      }

      dns {
        servers  = ["10.0.0.2", "10.0.0.3"]
        searches = ["service.consul"]
        options  = ["ndots:2"]
      }
    }

    service {
      name        = "web"
      port        = local.port_label
      provider    = "consul"
      tags        = ["urlprefix-/", "v1"]
      canary_tags = ["canary"]
      address_mode        = "auto"
      enable_tag_override = true
      on_update           = "require_healthy"

      meta {
        version = "1"
      }

      canary_meta {
        version = "canary"
      }

      check {
        name     = "alive"
        type     = "http"
        path     = "/health"
        method   = "POST"
        body     = "{}"
        interval = "10s"
        timeout  = "2s"
        protocol = "https"
        tls_skip_verify = true
        tls_server_name = "web.${local.domain}"
        initial_status  = "warning"
        success_before_passing   = 2
        failures_before_critical = 3
        failures_before_warning  = 1

        header {
          Authorization = ["Bearer x"]
          X-Trace       = ["a", "b"]
        }

        check_restart {
          limit           = 3
          grace           = "90s"
          ignore_warnings = false
        }
      }

      check {
        type     = "tcp"
        port     = "admin"
        interval = "30s"
        timeout  = "5s"
        on_update = "ignore_warnings"
      }

      check {
        name     = "script"
        type     = "script"
        task     = "nginx"
        command  = "/bin/check"
        args     = ["-q"]
        interval = "1m"
        timeout  = "10s"
      }

      check_restart {
        limit = 2
        grace = "1m"
      }
    }

    service {
      name     = "web-admin"
      port     = "admin"
      provider = "nomad"
      address  = "10.1.2.3"
    }

    restart {
      attempts         = 2
      interval         = "30m"
      delay            = "15s"
      mode             = "fail"
      render_templates = true
    }

    disconnect {
      lost_after           = "1h"
      replace              = false
      reconcile            = "keep_original"
    }

    scaling {
      enabled = true
      min     = 1
      max     = 10

      policy {
        cooldown            = "1m"
        evaluation_interval = "30s"

        check "avg_cpu" {
          source = "prometheus"
          query  = "avg(cpu)"
        }
      }
    }

    ephemeral_disk {
      size    = 500
      sticky  = true
      migrate = true
    }

    task "nginx" {
      driver = "docker"

      config {
        image = var.image
        ports = ["http", "admin"]
      }

      artifact {
        source      = "https://example.com/site.tar.gz"
        destination = "local/site"
        mode        = "any"
        chown       = true

        options {
          checksum = "sha256:abcd"
        }

        headers {
          User-Agent = "drover"
        }
      }

      template {
        data            = <<-EOT
          upstream app {
            server {{ env "NOMAD_ADDR_http" }};
          }
        EOT
        destination     = "local/nginx.conf"
        change_mode     = "script"
        perms           = "0600"
        uid             = 1000
        gid             = 1000
        splay           = "10s"
        left_delimiter  = "[["
        right_delimiter = "]]"
        error_on_missing_key = true
        once            = false

        change_script {
          command             = "/usr/sbin/nginx"
          args                = ["-s", "reload"]
          timeout             = "20s"
          fail_on_error       = true
          run_on_first_render = false
        }

        wait {
          min = "2s"
          max = "10s"
        }
      }

      template {
        source        = "local/env.tpl"
        destination   = "secrets/app.env"
        env           = true
        change_mode   = "restart"
      }

      env {
        PORT    = "${NOMAD_PORT_http}"
        KERNEL  = "${attr.kernel.name}"
      }

      resources {
        cpu        = 500
        memory     = 256
        memory_max = 512
      }

      logs {
        max_files     = 10
        max_file_size = 15
        enabled       = true
      }

      action "reload" {
        command = "/usr/sbin/nginx"
        args    = ["-s", "reload"]
      }

      action "version" {
        command = "/usr/sbin/nginx"
      }

      kill_timeout   = "30s"
      kill_signal    = "SIGQUIT"
      shutdown_delay = "5s"
    }
  }
}
