job "x" {
  group "g" {
    dynamic "bogus" {
      for_each = [1]
      content {}
    }
    task "t" {
      driver = "docker"
      resources {
        dynamic "network" {
          for_each = [1]
          content {}
        }
        dynamic "cpus" {
          for_each = [1]
          content {}
        }
      }
    }
  }
}
