# A nightly batch job.
#
# Reviewed against Nomad's periodic, batch, reschedule, restart,
# ephemeral_disk and lifecycle docs:
# - periodic with crons: Nomad's parser sets SpecType "cron" whenever cron
#   or crons is given; Enabled/ProhibitOverlap/TimeZone are as written.
# - reschedule attempts/interval/delay_function "constant" as written; the
#   unset MaxDelay and Unlimited stay nil.
# - a prestart (non-sidecar) task and a poststop task: lifecycle hook and
#   sidecar land in Lifecycle.Hook / Lifecycle.Sidecar.
# - max_run_duration is a group duration; kill_timeout on the task.
job "nightly-report" {
  type        = "batch"
  datacenters = ["dc1"]
  all_at_once = false

  periodic {
    crons            = ["0 2 * * *", "30 14 * * 1-5"]
    prohibit_overlap = true
    time_zone        = "Europe/Paris"
    enabled          = true
  }

  group "report" {
    max_run_duration = "2h"

    reschedule {
      attempts       = 2
      interval       = "24h"
      delay          = "5m"
      delay_function = "constant"
    }

    restart {
      attempts = 1
      delay    = "30s"
      mode     = "fail"
    }

    ephemeral_disk {
      size = 2048
    }

    task "fetch" {
      driver = "exec"

      lifecycle {
        hook    = "prestart"
        sidecar = false
      }

      config {
        command = "/usr/bin/curl"
        args    = ["-o", "${NOMAD_ALLOC_DIR}/data.csv", "https://data.example.com/today.csv"]
      }
    }

    task "report" {
      driver       = "raw_exec"
      user         = "reports"
      kill_timeout = "1m"

      config {
        command = "/opt/report/bin/report"
        args    = ["--in", "${NOMAD_ALLOC_DIR}/data.csv"]
      }

      resources {
        cpu    = 2000
        memory = 1024
      }
    }

    task "notify" {
      driver = "raw_exec"

      lifecycle {
        hook = "poststop"
      }

      config {
        command = "/usr/local/bin/notify"
      }
    }
  }
}
