# A parameterized job that users dispatch with a payload.
#
# Reviewed against Nomad's parameterized and dispatch_payload docs:
# - Payload, MetaRequired and MetaOptional land in ParameterizedJob.
# - dispatch_payload.file lands in the task's DispatchPayload.File.
# - meta values that are numbers become strings (meta is map[string]string).
# - the template's unset change_mode/splay/error_on_missing_key get
#   Nomad's parser defaults; its perms "0755" is kept.
job "transcode" {
  type = "batch"

  parameterized {
    payload       = "required"
    meta_required = ["input", "profile"]
    meta_optional = ["priority"]
  }

  meta {
    retries = 3
  }

  group "worker" {
    task "ffmpeg" {
      driver = "docker"

      dispatch_payload {
        file = "job.json"
      }

      config {
        image   = "jrottenberg/ffmpeg:6"
        command = "/local/run.sh"
        args    = ["${NOMAD_META_input}", "${NOMAD_META_profile}"]
      }

      template {
        destination = "local/run.sh"
        perms       = "0755"
        data        = "#!/bin/sh\nexec ffmpeg -i \"$1\" -preset \"$2\" out.mp4\n"
      }

      resources {
        cpu    = 4000
        memory = 2048
      }
    }
  }
}
