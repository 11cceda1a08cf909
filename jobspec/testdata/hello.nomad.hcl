# Reviewed against Nomad's job, group, task and resources docs: Type
# "service" and Count 3 as written; ID and Name from the label; the rest
# stays null for the server to default.
# A service that prints a greeting from each of its three allocations.
#   drover job run examples/hello.nomad.hcl
job "hello" {
  type        = "service"
  datacenters = ["*"]

  group "web" {
    count = 3

    task "hello" {
      driver = "raw_exec"

      config {
        command = "/bin/sh"
        args    = ["-c", "while true; do echo \"hello from $NOMAD_ALLOC_ID\"; sleep 5; done"]
      }

      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
