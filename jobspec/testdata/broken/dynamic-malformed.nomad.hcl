job "x" {
  group "a" {
    dynamic "constraint" {
      for_each = [1]
    }
    dynamic "affinity" {
      for_each = [1]
      iterator = "a"
      content {}
      content {}
    }
    dynamic "spread" {
      content {}
    }
    dynamic "ephemeral_disk" {
      for_each = [1]
      iterator = "disk"
      content {}
    }
    dynamic "service" {
      for_each = [1]
      labels   = "x"
      content {}
    }
  }
  group "b" {
    task "t" {
      driver = "docker"
      config {
        dynamic "mount" "extra" {
          for_each = [1]
          content {}
        }
        dynamic "mount" {
          for_each = "not a list"
          content {}
        }
      }
    }
  }
}
