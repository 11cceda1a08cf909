# Volumes, CSI, task lifecycles and Consul Connect sidecars and gateways.
#
# Reviewed against Nomad's volume, volume_mount, csi_plugin, lifecycle,
# connect, sidecar_service, proxy, upstreams, expose, transparent_proxy,
# sidecar_task and gateway docs:
# - volume "name" blocks land in Volumes keyed by label, with Name = label;
#   mount_options fs_type/mount_flags; per_alloc, sticky as written.
# - volume_mount fields are pointers; propagation_mode and selinux_label.
# - csi_plugin type is one of controller/node/monolith; health_timeout is a
#   duration; unset mount_dir stays "" (the server defaults it).
# - lifecycle poststart sidecar = true.
# - connect sidecar_service/proxy/upstreams (repeatable)/expose path/
#   transparent_proxy; sidecar_task resources and config; gateway proxy,
#   ingress listener/service with tls and header modifiers, terminating
#   services, and an empty mesh block (ConsulMeshConfigEntry is empty).
job "storage" {
  datacenters = ["dc1"]

  group "db" {
    volume "data" {
      type            = "csi"
      source          = "pg-data"
      read_only       = false
      access_mode     = "single-node-writer"
      attachment_mode = "file-system"
      per_alloc       = true

      mount_options {
        fs_type     = "ext4"
        mount_flags = ["noatime"]
      }
    }

    volume "certs" {
      type      = "host"
      source    = "certs"
      read_only = true
      sticky    = true
    }

    network {
      mode = "bridge"

      port "metrics" {
        to = 9102
      }
    }

    service {
      name = "postgres"
      port = "5432"

      connect {
        sidecar_service {
          tags                      = ["mesh"]
          disable_default_tcp_check = true

          meta {
            team = "data"
          }

          proxy {
            local_service_address = "127.0.0.1"
            local_service_port    = 5432

            upstreams {
              destination_name   = "vault"
              local_bind_port    = 8200
              datacenter         = "dc2"
              destination_type   = "service"

              mesh_gateway {
                mode = "local"
              }
            }

            upstreams {
              destination_name      = "metrics"
              destination_namespace = "obs"
              destination_peer      = "other"
              local_bind_address    = "127.0.0.2"
              local_bind_port       = 9090

              config {
                connect_timeout_ms = 3000
              }
            }

            expose {
              path {
                path            = "/metrics"
                protocol        = "http"
                local_path_port = 9102
                listener_port   = "metrics"
              }
            }

            transparent_proxy {
              uid                    = "101"
              outbound_port          = 15001
              exclude_inbound_ports  = ["9102"]
              exclude_outbound_ports = [53, 8600]
              exclude_outbound_cidrs = ["10.0.0.0/8"]
              exclude_uids           = ["0"]
              no_dns                 = true
            }

            config {
              protocol = "tcp"
            }
          }
        }

        sidecar_task {
          name        = "envoy"
          driver      = "docker"
          kill_timeout = "5s"
          shutdown_delay = "2s"
          kill_signal = "SIGTERM"

          config {
            image = "envoyproxy/envoy:v1.29"
          }

          env {
            ENVOY_LOG = "info"
          }

          resources {
            cpu    = 250
            memory = 128
          }

          logs {
            max_files = 2
          }
        }
      }
    }

    task "migrate" {
      driver = "docker"

      lifecycle {
        hook = "prestart"
      }

      config {
        image = "migrate/migrate:v4"
      }

      volume_mount {
        volume      = "data"
        destination = "/var/lib/postgresql/data"
      }
    }

    task "postgres" {
      driver = "docker"

      config {
        image = "postgres:16"
      }

      volume_mount {
        volume           = "data"
        destination      = "/var/lib/postgresql/data"
        read_only        = false
        propagation_mode = "private"
        selinux_label    = "Z"
      }

      volume_mount {
        volume      = "certs"
        destination = "/certs"
        read_only   = true
      }
    }

    task "log-shipper" {
      driver = "docker"

      lifecycle {
        hook    = "poststart"
        sidecar = true
      }

      config {
        image = "fluent/fluent-bit:3"
      }
    }
  }

  group "csi-node" {
    task "plugin" {
      driver = "docker"

      config {
        image      = "csi/ebs:1.0"
        privileged = true
      }

      csi_plugin {
        id                     = "aws-ebs0"
        type                   = "node"
        mount_dir              = "/csi"
        stage_publish_base_dir = "/local/csi"
        health_timeout         = "1m"
      }
    }
  }

  group "gateways" {
    network {
      mode = "bridge"

      port "inbound" {
        static = 8080
        to     = 8080
      }
    }

    service {
      name = "ingress"
      port = "8080"

      connect {
        gateway {
          proxy {
            connect_timeout                     = "5s"
            envoy_gateway_bind_tagged_addresses = false
            envoy_gateway_no_default_bind       = true
            envoy_dns_discovery_type            = "STRICT_DNS"

            envoy_gateway_bind_addresses "web" {
              address = "0.0.0.0"
              port    = 8080
            }

            config {
              envoy_stats_flush_interval = "10s"
            }
          }

          ingress {
            tls {
              enabled         = true
              tls_min_version = "TLSv1_2"
              cipher_suites   = ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]

              sds {
                cluster_name  = "sds"
                cert_resource = "web-cert"
              }
            }

            listener {
              port     = 8080
              protocol = "http"

              service {
                name            = "web"
                hosts           = ["web.example.com"]
                max_connections = 100

                request_headers {
                  add {
                    X-Via = "ingress"
                  }
                  remove = ["X-Debug"]
                }

                response_headers {
                  set {
                    Cache-Control = "no-store"
                  }
                }
              }
            }
          }
        }
      }
    }

    service {
      name = "egress"

      connect {
        gateway {
          terminating {
            service {
              name    = "billing-api"
              ca_file = "/etc/ssl/ca.pem"
              sni     = "billing.internal"
            }
          }
        }
      }
    }

    service {
      name = "mesh"

      connect {
        gateway {
          mesh {}
        }
      }
    }

    service {
      name = "native-app"
      port = "8080"
      task = "app"

      connect {
        native = true
      }
    }

    task "app" {
      driver = "docker"

      config {
        image = "example/native:1"
      }
    }
  }
}
