# Reviewed against Nomad's interpolation docs: ${NOMAD_*}, ${attr.*},
# ${meta.*}, ${node.*} and ${env["..."]} stay literal in config, env and
# meta; $${...} escapes; HCL variables are resolved.
variable "port" {
  default = "8080"
}

locals {
  dir = "${NOMAD_TASK_DIR}/conf"
}

job "runtime" {
  meta {
    kernel = "${attr.kernel.name}"
  }

  group "g" {
    task "t" {
      driver = "raw_exec"

      config {
        command = "${NOMAD_TASK_DIR}/bin/server"
        args = [
          "-alloc=${NOMAD_ALLOC_ID}",
          "-kernel=${attr.kernel.name}",
          "-rack=${meta.rack}",
          "-dc=${node.datacenter}",
          "-home=${env["HOME"]}",
          "-port=${var.port}",
          "-config=${local.dir}",
          "-mixed=${node.unique.name}:${NOMAD_PORT_http}:${upper("x")}",
        ]
        bare   = attr.unique.hostname
        escape = "$${not_interpolated}"
      }

      env {
        HOST_KERNEL = "${attr.kernel.name}-${attr.kernel.version}"
        RACK        = meta.rack
      }
    }
  }
}
