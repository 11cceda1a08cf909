# Errors inside generated blocks point at the content block's own text,
# once per generated block that has them.
job "x" {
  dynamic "group" {
    for_each = { web = "5s", api = "soon" }
    labels   = [group.key]
    content {
      task "t" {
        driver       = "docker"
        kill_timeout = group.value
        config {
          dynamic "mount" {
            for_each = [1]
            labels   = ["bad"]
            content {
              source = mount.nope
            }
          }
        }
      }
    }
  }
  group "ports" {
    network {
      dynamic "port" {
        for_each = ["http", "http"]
        labels   = [port.value]
        content {
          static = 99999
        }
      }
    }
  }
  dynamic "update" {
    for_each = [1, 2]
    content {
      max_parallel = update.value
    }
  }
}
