# Reviewed against Nomad's job, group, task, restart, ephemeral_disk,
# logs, meta and resources docs: the id argument wins over the label for
# ID while Name comes from the label; meta numbers/bools become strings;
# config blocks become lists of maps (mount twice gives two elements);
# task shutdown_delay is a plain duration, group shutdown_delay a pointer.
job "full" {
  id          = "full-id"
  type        = "service"
  region      = "eu"
  namespace   = "prod"
  datacenters = ["dc1", "dc2"]
  node_pool   = "big"
  priority    = 70
  all_at_once = true

  meta {
    build = 42
    debug = true
  }

  group "api" {
    count            = 2
    shutdown_delay   = "10s"
    meta             = { role = "api" }

    restart {
      attempts = 3
      interval = "30m"
      delay    = "15s"
      mode     = "delay"
    }

    ephemeral_disk {
      sticky  = true
      migrate = false
      size    = 300
    }

    task "server" {
      driver       = "docker"
      user         = "nobody"
      kill_timeout = "20s"
      kill_signal  = "SIGINT"
      leader       = true

      config {
        image   = "nginx:1.27"
        ports   = ["http"]
        count   = 3
        ratio   = 0.5
        enabled = true
        labels  = { app = "nginx" }

        mount {
          type   = "bind"
          source = "local/conf"
          target = "/etc/nginx"
        }

        mount {
          type   = "tmpfs"
          target = "/tmp"
        }

        logging {
          type = "journald"
          config {
            tag = "nginx"
          }
        }
      }

      env = {
        "NGINX.MODE" = "prod"
      }

      meta {
        owner = "web"
      }

      resources {
        cpu        = 500
        cores      = 0
        memory     = 256
        memory_max = 512
      }

      restart {
        attempts = 1
        mode     = "fail"
      }

      logs {
        max_files     = 5
        max_file_size = 20
        disabled      = false
      }
    }

    task "sidecar" {
      driver = "raw_exec"

      config {
        command = "/bin/true"
      }
    }
  }
}
