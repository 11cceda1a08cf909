# Vault, Consul and workload identities, secrets, multiregion and the
# less common task settings.
#
# Reviewed against Nomad's vault, consul, identity, secret, multiregion,
# scaling (task), schedule, action and task docs:
# - vault: Nomad's parser fills env = true, disable_file = false and
#   change_mode = "restart" when unset (second task); set values are kept.
# - consul at group and task level: namespace/cluster/partition.
# - identity blocks all land in Task.Identities (the default identity has
#   no name); ttl is a duration; aud is a list.
# - secret "name": provider/path, config free-form, env map.
# - multiregion strategy and region "name" blocks in order, with meta.
# - task scaling "cpu"/"mem" labels become Type vertical_cpu/vertical_mem.
# - max_client_disconnect, stop_after_client_disconnect and
#   prevent_reschedule_on_lost are group fields.
job "payments" {
  region = "eu-west"

  multiregion {
    strategy {
      max_parallel = 1
      on_failure   = "fail_all"
    }

    region "eu-west" {
      count       = 2
      datacenters = ["eu-west-1a", "eu-west-1b"]
      node_pool   = "pci"

      meta {
        primary = "true"
      }
    }

    region "eu-central" {
      count       = 1
      datacenters = ["eu-central-1a"]
    }
  }

  group "api" {
    max_client_disconnect        = "15m"
    stop_after_client_disconnect = "10m"
    prevent_reschedule_on_lost   = true

    consul {
      namespace = "payments"
      cluster   = "default"
      partition = "pci"
    }

    task "api" {
      driver = "docker"
      kind   = "connect-proxy:api"

      config {
        image = "example/payments:2.1"
      }

      vault {
        role          = "payments"
        namespace     = "pci"
        cluster       = "default"
        change_mode   = "signal"
        change_signal = "SIGUSR1"
        env           = false
        disable_file  = true
        allow_token_expiration = false
      }

      consul {
        namespace = "payments"
      }

      identity {
        env  = true
        file = true
      }

      identity {
        name          = "vault_default"
        aud           = ["vault.io"]
        ttl           = "1h"
        change_mode   = "signal"
        change_signal = "SIGHUP"
        file          = true
        filepath      = "secrets/vault.jwt"
      }

      secret "db" {
        provider = "vault"
        path     = "secret/data/payments/db"

        config {
          engine = "kv_v2"
        }

        env {
          DB_PASSWORD = "password"
        }
      }

      scaling "cpu" {
        enabled = true
        min     = 100
        max     = 4000

        policy {
          cooldown = "5m"
        }
      }

      scaling "mem" {
        enabled = false
        max     = 8192
      }
    }

    task "worker" {
      driver = "docker"

      config {
        image = "example/payments-worker:2.1"
      }

      vault {
        policies = ["payments-read"]
      }
    }
  }
}
