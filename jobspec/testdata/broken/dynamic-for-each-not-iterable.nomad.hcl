job "x" {
  group "g" {
    network {
      dynamic "port" {
        for_each = 5
        labels   = ["http"]
        content {}
      }
    }
    # A runtime reference is a string until the client interpolates it,
    # so it cannot drive a dynamic block either.
    dynamic "constraint" {
      for_each = attr.kernel.name
      content {
        attribute = "x"
      }
    }
  }
}
