replicas = 4
dcs      = ["dc1", "dc2"]
