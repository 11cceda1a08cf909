job "x" {
  dynamic "group" {
    for_each = ["a", "b"]
    labels   = [group.value, "extra"]
    content {}
  }
  dynamic "group" {
    for_each = ["c"]
    content {}
  }
  group "g" {
    dynamic "constraint" {
      for_each = [1]
      labels   = ["no-labels-here"]
      content {}
    }
  }
}
