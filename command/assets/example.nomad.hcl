# There can only be a single job definition per file. This job is named
# "example", so it is registered as "example".
job "example" {
  # "service" jobs run until stopped; "batch" jobs run to completion.
  type = "service"

  # Run in any datacenter; list names (wildcards allowed) to restrict it.
  datacenters = ["*"]

  # Only place this job on Linux nodes.
  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }

  # A group is a set of tasks placed together on one node.
  group "app" {
    # How many allocations of this group to run.
    count = 1

    # How the client restarts a failed task in place before giving up.
    restart {
      attempts = 2
      interval = "30m"
      delay    = "15s"
      mode     = "fail"
    }

    # Scratch disk shared by the group's tasks, in MB.
    ephemeral_disk {
      size = 300
    }

    # A task is one process run by a driver.
    task "app" {
      # raw_exec runs the command as a plain process; the dev agent
      # (drover agent -dev) enables it.
      driver = "raw_exec"

      config {
        command = "/bin/sh"
        args    = ["-c", "while true; do echo \"$(date) hello from ${NOMAD_ALLOC_ID}\"; sleep 10; done"]
      }

      # Environment variables for the task; NOMAD_* variables are set too.
      env {
        GREETING = "hello"
      }

      # What the task needs: CPU in MHz, memory in MB.
      resources {
        cpu    = 100
        memory = 64
      }

      # Keep at most 3 log files of 10 MB per stream.
      logs {
        max_files     = 3
        max_file_size = 10
      }
    }
  }
}
