# ACL policy for the token SyncTV instances use (cluster.discovery.consul.token). It grants exactly what the
# Consul discovery backend calls:
#
#   PUT /v1/agent/service/register       register this instance (+ its TTL and gRPC checks)  -> service write
#   PUT /v1/agent/check/pass/<id>:ttl     keep the TTL check passing                          -> service write
#   PUT /v1/agent/service/deregister/<id> leave on shutdown                                   -> service write
#   GET /v1/health/service/synctv?passing blocking membership queries                         -> service + node read
#   GET /v1/health/service/<other>        resolving other services (vendor backends)          -> service read
#   agent endpoints                                                                            -> agent read
#
# Without node read (or service read), Consul does not refuse the membership query: it answers 200 with the
# instances left out and X-Consul-Results-Filtered-By-ACLs: true. SyncTV refuses to start on such an answer
# ("cluster.discovery.consul.token: ... filtered by ACLs") and, later, keeps its last view and reports discovery
# unhealthy rather than believe it is alone.
#
# If cluster.discovery.consul.service_name is not "synctv", change the first rule to that name.

service "synctv" {
  policy = "write"
}

service_prefix "" {
  policy = "read"
}

node_prefix "" {
  policy = "read"
}

agent_prefix "" {
  policy = "read"
}
