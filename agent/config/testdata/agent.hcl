name       = "node-1"
region     = "eu"
datacenter = "dc2"
data_dir   = "/var/lib/drover"
bind_addr  = "0.0.0.0"
log_level  = "debug"

leave_on_interrupt = true
leave_on_terminate = true

ports {
  http = 5646
  rpc  = 5647
  serf = 5648
}

addresses {
  http = "127.0.0.1"
}

advertise {
  rpc  = "10.0.0.5"
  serf = "10.0.0.5:5648"
}

server {
  enabled          = true
  bootstrap_expect = 3

  server_join {
    retry_join     = ["10.0.0.6", "10.0.0.7"]
    retry_interval = "15s"
  }
}

client {
  enabled    = true
  servers    = ["10.0.0.6:5647"]
  node_class = "edge"
  node_pool  = "gpu"

  meta {
    rack = "r1"
  }

  reserved {
    cpu    = 500
    memory = 512
    disk   = 1024
  }
}

plugin "raw_exec" {
  config {
    enabled = true
    no_cgroups = false
  }
}

plugin "docker" {
  args = ["-v"]
  config {
    volumes = { enabled = true }
    allow_caps = ["net_raw"]
    gc_image_delay = 3
  }
}
