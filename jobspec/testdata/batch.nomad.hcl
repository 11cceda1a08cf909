# Reviewed against Nomad's job and task docs: Type "batch"; Count, restart
# and resources unset stay null (the server defaults them).
# A batch job: one task that prints a line and exits 0.
#   drover job run examples/batch.nomad.hcl
job "batch" {
  type        = "batch"
  datacenters = ["*"]

  group "once" {
    count = 1

    restart {
      attempts = 0
      mode     = "fail"
    }

    task "echo" {
      driver = "raw_exec"

      config {
        command = "/bin/echo"
        args    = ["batch job ${NOMAD_JOB_NAME} ran in allocation ${NOMAD_ALLOC_ID}"]
      }

      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
