# Consul server agent for a SyncTV cluster (single server; use bootstrap_expect = 3 and three servers in
# production). Start with: consul agent -config-file=deploy/consul/agent.hcl
# docker-compose.yml runs an equivalent server from command-line flags, without ACLs.

datacenter = "dc1"
node_name  = "consul-1"
data_dir   = "/consul/data"

server           = true
bootstrap_expect = 1

# HTTP API (SyncTV's discovery client, the UI) on all interfaces; cluster traffic on the private address.
client_addr = "0.0.0.0"
bind_addr   = "{{ GetPrivateIP }}"

ui_config {
  enabled = true
}

ports {
  http = 8500
  grpc = 8502
}

# SyncTV registers each instance with a TTL check (passed every ttl/3) and a gRPC health check against its mesh
# port; this agent must be able to reach every instance's advertise_address:9090.
enable_script_checks = false

# Mesh TLS: with cluster.grpc.tls_cert_path set, SyncTV registers its gRPC check with GRPCUseTLS and
# TLSServerName (cluster.grpc.tls_server_name, default the advertised host), and this agent verifies the mesh
# certificate with its CA. Mutual TLS (cluster.grpc.tls_ca_path) also requires a client certificate: give the
# agent one signed by the mesh CA and let it present it to checks. Uncomment with your paths:
#
# enable_agent_tls_for_checks = true
# tls {
#   defaults {
#     ca_file   = "/consul/tls/mesh-ca.pem"
#     cert_file = "/consul/tls/agent.pem"
#     key_file  = "/consul/tls/agent-key.pem"
#   }
# }

# Deny by default; SyncTV authenticates with a token carrying deploy/consul/synctv-acl-policy.hcl (see README.md).
acl {
  enabled                  = true
  default_policy           = "deny"
  enable_token_persistence = true
}

log_level = "INFO"
