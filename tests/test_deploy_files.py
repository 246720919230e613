"""Deployment files: they parse, point probes and scrapes at the real endpoints, and use only real config keys."""

from __future__ import annotations

import dataclasses
import inspect
import ipaddress
import json
import re
import shutil
import subprocess
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

from synctv import __version__
from synctv import config as synctv_config
from synctv.discovery import consul as consul_discovery
from synctv.observability.metrics import METRIC_NAMES
from tests.support.require import missing

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
COMPOSE = ROOT / "docker-compose.yml"
K8S = DEPLOY / "k8s"
DASHBOARD = DEPLOY / "grafana" / "synctv-dashboard.json"

ENV_NAME_RE = re.compile(r"\bSYNCTV_[A-Z0-9_]+\b")
INTERPOLATION_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


def yaml_files() -> list[Path]:
    files = [COMPOSE, *DEPLOY.rglob("*.yml"), *DEPLOY.rglob("*.yaml")]
    return sorted(set(files))


def load_docs(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def k8s_objects() -> list[dict[str, Any]]:
    objs: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        objs.extend(doc for doc in load_docs(path) if isinstance(doc, dict) and "kind" in doc)
    return objs


def one(kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in k8s_objects() if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def valid_env_names() -> set[str]:
    """Every environment variable the config loader reads: SYNCTV_ + the upper-cased path of each leaf."""
    names: set[str] = set()

    def walk(cls: type, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.metadata.get("transient"):
                continue
            name = f"{prefix}{f.name.upper()}"
            if dataclasses.is_dataclass(hints[f.name]):
                walk(hints[f.name], name + "_")
            else:
                names.add(name)

    walk(synctv_config.Config, synctv_config.ENV_PREFIX)
    return names


def interpolate(value: str) -> str:
    """Compose-style `${VAR:-default}` with an empty environment: the documented defaults."""
    return INTERPOLATION_RE.sub(lambda m: m.group(2) or "", value)


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def synctv_services() -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in compose()["services"].items() if re.fullmatch(r"synctv\d+", name)}


# -- parsing ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_yaml_parses(path: Path) -> None:
    docs = load_docs(path)
    assert docs, f"{path} has no YAML documents"


def test_all_expected_files_exist() -> None:
    for rel in ("Dockerfile", ".dockerignore", "docker-compose.yml", "deploy/nginx.conf", "deploy/nginx-https.conf",
                "deploy/nginx-locations.conf", "deploy/k8s/ingress.yaml", "deploy/consul/agent.hcl",
                "deploy/consul/synctv-service.json", "deploy/consul/synctv-acl-policy.hcl", "deploy/consul/README.md",
                "deploy/prometheus/prometheus.yml", "deploy/grafana/synctv-dashboard.json"):
        assert (ROOT / rel).is_file(), rel


# -- Dockerfile -----------------------------------------------------------------------------------------------


def test_dockerfile() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert "npm ci --prefix synctv/web" in text
    assert re.search(r"pip install \.$", text, re.M)
    assert re.search(r"^EXPOSE 8080 9090$", text, re.M)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and not users[-1].startswith(("root", "0")), "the runtime stage must not run as root"
    assert re.search(r"^HEALTHCHECK .*\n?.*/live", text, re.M)
    assert 'CMD ["serve", "--data-dir", "/data"]' in text
    assert 'ENTRYPOINT ["synctv"]' in text, "exec form, so the server itself receives SIGTERM and drains"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored and "synctv/web/node_modules" in ignored


# -- docker-compose -------------------------------------------------------------------------------------------


def test_compose_services() -> None:
    data = compose()
    services = data["services"]
    assert "consul" in services and "postgres" in services and "nginx" in services and "prometheus" in services
    consul_cmd = " ".join(services["consul"]["command"])
    for flag in ("-server", "-bootstrap-expect=1", "-ui", "-client=0.0.0.0"):
        assert flag in consul_cmd
    assert services["consul"]["image"].startswith("hashicorp/consul")
    # Published on the Docker host's loopback only: the UI (and, without ACLs, the whole API) is not public.
    assert services["consul"]["ports"] == ["127.0.0.1:8500:8500"]
    assert services["postgres"]["image"] == "postgres:15"

    instances = synctv_services()
    assert len(instances) == 3
    ids = set()
    for name, svc in instances.items():
        env = svc["environment"]
        assert svc["build"] == "."
        assert env["SYNCTV_CLUSTER_ADVERTISE_ADDRESS"] == name
        ids.add(env["SYNCTV_CLUSTER_INSTANCE_ID"])
        assert env["SYNCTV_CLUSTER_DISCOVERY_TYPE"] == "consul"
        assert str(env["SYNCTV_CLUSTER_ENABLED"]).lower() == "true"
        assert INTERPOLATION_RE.fullmatch(env["SYNCTV_JWT_SECRET"]), "JWT secret comes from the environment"
        assert INTERPOLATION_RE.fullmatch(env["SYNCTV_CLUSTER_SECRET"]), "cluster secret comes from the environment"
        assert svc["depends_on"]["consul"]["condition"] == "service_healthy"
        assert svc["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "healthcheck" in svc
    assert len(ids) == 3, "instance ids must be distinct"
    nginx = services["nginx"]
    assert "8080:8080" in nginx["ports"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]
    assert "./deploy/nginx-locations.conf:/etc/nginx/synctv-locations.conf:ro" in nginx["volumes"]
    assert set(nginx["depends_on"]) == set(instances)
    assert all(dep["condition"] == "service_healthy" for dep in nginx["depends_on"].values())
    assert any("deploy/prometheus/prometheus.yml" in v for v in services["prometheus"]["volumes"])
    assert services["prometheus"]["ports"] == ["127.0.0.1:9091:9090"]


def test_compose_forwarded_headers_trust_only_nginx() -> None:
    """nginx has a fixed address on the compose network, and it is the only proxy the instances believe."""
    services = compose()
    address = ipaddress.ip_address(services["services"]["nginx"]["networks"]["default"]["ipv4_address"])
    subnet = ipaddress.ip_network(services["networks"]["default"]["ipam"]["config"][0]["subnet"])
    assert address in subnet
    for svc in synctv_services().values():
        env = svc["environment"]
        assert str(env["SYNCTV_RATE_LIMIT_TRUST_FORWARD_HEADER"]).lower() == "true"
        assert [ipaddress.ip_network(n) for n in env["SYNCTV_RATE_LIMIT_TRUSTED_PROXIES"].split(",")] == \
            [ipaddress.ip_network(f"{address}/32")]


def test_compose_secrets_are_shared() -> None:
    envs = [svc["environment"] for svc in synctv_services().values()]
    for key in ("SYNCTV_JWT_SECRET", "SYNCTV_CLUSTER_SECRET", "SYNCTV_DATABASE_CUSTOM_DSN"):
        assert len({env[key] for env in envs}) == 1, f"{key} must be the same on every instance"


def test_docker_compose_config_validates() -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (Debian package docker-compose; scripts/test.sh installs it)")
    proc = subprocess.run([binary, "-f", str(COMPOSE), "config", "-q"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr


# -- nginx ----------------------------------------------------------------------------------------------------

NGINX_FILES = ("nginx.conf", "nginx-https.conf")
LOCATIONS = DEPLOY / "nginx-locations.conf"
LOCATIONS_MOUNT = "/etc/nginx/synctv-locations.conf"


def nginx_location(text: str, prefix: str) -> str:
    match = re.search(r"location\s+" + re.escape(prefix) + r"\s*\{(.*?)\n\s*\}", text, re.S)
    assert match, f"no location {prefix}"
    return match.group(1)


def nginx_block(text: str, name: str) -> str:
    """The body of the top-level `name {` block (braces counted)."""
    start = text.index(f"\n{name} {{") + len(name) + 3
    depth = 1
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i]
    raise AssertionError(f"unclosed {name} block")


def nginx_code(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def test_nginx_conf_websocket() -> None:
    text = LOCATIONS.read_text()
    ws = nginx_location(text, "/api/room/ws")
    assert re.search(r"^proxy_http_version 1\.1;", text, re.M)
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade", ws)
    assert re.search(r"proxy_set_header\s+Connection\s+\$connection_upgrade", ws)
    timeout = re.search(r"proxy_read_timeout\s+(\d+)s", ws)
    assert timeout and int(timeout.group(1)) >= 600


def test_nginx_forwarded_headers() -> None:
    """Every proxied location sends the client's address and scheme: nginx drops every inherited
    proxy_set_header at a level that sets one of its own, so each location must set them all."""
    code = nginx_code(LOCATIONS.read_text())
    assert "proxy_set_header" not in code.split("location", 1)[0], "inherited headers would be dropped"
    locations = re.findall(r"location\s+((?:[=~^]+ )?\S+)\s*\{", code)
    proxied = [prefix for prefix in locations if "proxy_pass" in nginx_location(code, prefix)]
    assert set(proxied) == {"/api/room/ws", "/api/room/movie/live/flv/", "/"}
    for prefix in proxied:
        body = nginx_location(code, prefix)
        for header, value in (("Host", "$host"), ("X-Real-IP", "$remote_addr"),
                              ("X-Forwarded-For", "$proxy_add_x_forwarded_for"), ("X-Forwarded-Proto", "$scheme")):
            assert re.search(rf"proxy_set_header\s+{re.escape(header)}\s+{re.escape(value)};", body), (prefix, header)


def test_nginx_resolves_upstream_names_at_request_time() -> None:
    """No name is resolved once at start: proxy_pass goes through a variable and a `resolver` with a short
    `valid`, so nginx starts with an instance missing and follows a re-created one."""
    aliases = [set(svc["networks"]["default"]["aliases"]) for svc in synctv_services().values()]
    for name in NGINX_FILES:
        code = nginx_code((DEPLOY / name).read_text())
        blocks = [nginx_block(code, "http")] + ([nginx_block(code, "stream")] if "\nstream {" in code else [])
        for block in blocks:
            resolver = re.search(r"^\s*resolver\s+(\S+)\s+valid=(\d+)s", block, re.M)
            assert resolver and int(resolver.group(2)) <= 30, (name, block[:200])
            assert not re.search(r"^\s*upstream\s", block, re.M), "an upstream block resolves its names once, at start"
            hosts = re.findall(r"^\s*default\s+([\w.-]+):8080;", block, re.M)
            assert hosts, name
            for host in hosts:
                assert all(host in a for a in aliases), f"{host} is not the alias of every instance"
        assert f"include {LOCATIONS_MOUNT};" in code
    code = nginx_code(LOCATIONS.read_text())
    targets = re.findall(r"proxy_pass\s+(\S+);", code)
    assert targets and all(t == "http://$synctv_upstream" for t in targets), targets


def test_nginx_https_example() -> None:
    code = nginx_code((DEPLOY / "nginx-https.conf").read_text())
    assert re.search(r"listen 443 ssl;", code)
    assert re.search(r"ssl_certificate\s+/etc/nginx/certs/fullchain\.pem;", code)
    assert re.search(r"ssl_certificate_key\s+/etc/nginx/certs/privkey\.pem;", code)
    assert re.search(r"listen 80;\s*\n\s*server_name [\w.]+;\s*\n\s*return 301 https://\$host\$request_uri;", code)
    assert "Strict-Transport-Security" in code


def test_nginx_conf_rtmp_stream() -> None:
    text = nginx_code((DEPLOY / "nginx.conf").read_text())
    stream = nginx_block(text, "stream")
    assert "listen 1935;" in stream
    assert re.search(r"proxy_pass \$synctv_rtmp;", stream)
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "1935:1935" in compose["services"]["nginx"]["ports"]
    services = list(yaml.safe_load_all((DEPLOY / "k8s" / "service.yaml").read_text()))
    ports = {p["name"]: p for p in services[0]["spec"]["ports"]}
    assert ports["rtmp"]["port"] == 1935 and ports["rtmp"]["targetPort"] == "http"


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        missing("openssl", "openssl is not installed")
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=tv.example.com", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True,
                   timeout=60)
    return cert, key


@pytest.mark.parametrize("name", NGINX_FILES)
def test_nginx_conf_syntax(tmp_path: Path, name: str) -> None:
    binary = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if binary is None:
        missing("nginx", "nginx is not installed")
    # The files as shipped, with only the container paths pointed into the test's directory (the names are
    # resolved at request time, so nothing needs to resolve here).
    (tmp_path / "synctv-locations.conf").write_text(LOCATIONS.read_text())
    conf = (DEPLOY / name).read_text().replace(LOCATIONS_MOUNT, str(tmp_path / "synctv-locations.conf"))
    if "ssl_certificate" in conf:
        cert, key = _self_signed(tmp_path)
        conf = conf.replace("/etc/nginx/certs/fullchain.pem", str(cert))
        conf = conf.replace("/etc/nginx/certs/privkey.pem", str(key))
    module = Path("/usr/lib/nginx/modules/ngx_stream_module.so")  # Debian's nginx: the stream module is separate
    if module.exists() and "\nstream {" in conf:
        conf = f"load_module {module};\n" + conf
    (tmp_path / "nginx.conf").write_text(conf)
    proc = subprocess.run(
        [binary, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(tmp_path / "nginx.conf"),
         "-g", f"pid {tmp_path / 'nginx.pid'};"],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 0, proc.stderr


# -- Consul ---------------------------------------------------------------------------------------------------


def test_consul_service_definition_matches_self_registration() -> None:
    svc = json.loads((DEPLOY / "consul" / "synctv-service.json").read_text())["service"]
    defaults = inspect.signature(consul_discovery.ConsulDiscovery.__init__).parameters
    assert svc["name"] == defaults["service_name"].default == synctv_config.ConsulConfig().service_name
    assert tuple(svc["tags"]) == defaults["tags"].default
    assert set(svc["meta"]) == {"instance_id", "http", "grpc", "version", "started_at_ms"}
    assert svc["meta"]["instance_id"] == svc["id"]
    assert svc["meta"]["grpc"] == f"{svc['address']}:{svc['port']}"
    checks = {c["id"]: c for c in svc["checks"]}
    assert set(checks) == {f"{svc['id']}:ttl", f"{svc['id']}:grpc"}
    assert checks[f"{svc['id']}:ttl"]["ttl"] == synctv_config.DiscoveryConfig().ttl
    assert checks[f"{svc['id']}:grpc"]["grpc"] == svc["meta"]["grpc"]
    for check in checks.values():
        assert check["deregister_critical_service_after"] == consul_discovery.DEREGISTER_CRITICAL_AFTER


def test_consul_acl_policy_is_minimal() -> None:
    text = (DEPLOY / "consul" / "synctv-acl-policy.hcl").read_text()
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    rules = re.findall(r'(\w+)\s+"([^"]*)"\s*\{\s*policy\s*=\s*"(\w+)"\s*\}', code)
    assert sorted(rules) == sorted([
        ("service", "synctv", "write"),
        ("service_prefix", "", "read"),
        ("node_prefix", "", "read"),
        ("agent_prefix", "", "read"),
    ])
    assert not re.search(r"\b(key|key_prefix|session|session_prefix|acl|operator|keyring)\b\s", code)


# -- Kubernetes -----------------------------------------------------------------------------------------------


def test_k8s_kinds() -> None:
    kinds = sorted(o["kind"] for o in k8s_objects())
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "ConfigMap", "Secret"):
        assert kind in kinds, kind
    assert kinds.count("Service") == 2


def test_k8s_deployment() -> None:
    dep = one("Deployment", "synctv")
    spec = dep["spec"]
    assert "replicas" not in spec, "the HorizontalPodAutoscaler owns the count; a replicas field fights it"
    pod = spec["template"]["spec"]
    labels = spec["selector"]["matchLabels"]
    spread = {c["topologyKey"]: c for c in pod["topologySpreadConstraints"]}
    assert set(spread) == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    for c in spread.values():
        assert c["maxSkew"] == 1 and c["labelSelector"]["matchLabels"] == labels
    (anti,) = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert anti["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert anti["podAffinityTerm"]["labelSelector"]["matchLabels"] == labels
    assert pod["terminationGracePeriodSeconds"] >= 35
    (container,) = pod["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 8080, "grpc": 9090}
    assert container["livenessProbe"]["httpGet"]["path"] == "/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["port"] in ("http", 8080)
    assert container["readinessProbe"]["httpGet"]["port"] in ("http", 8080)
    pre_stop = container["lifecycle"]["preStop"]
    sleep = pre_stop.get("exec", {}).get("command") or []
    seconds = int(sleep[-1]) if sleep and sleep[0] == "sleep" else int(pre_stop.get("sleep", {}).get("seconds", 0))
    assert 1 <= seconds <= 15
    drain = synctv_config.parse_duration(synctv_config.ServerConfig().drain_timeout)
    assert pod["terminationGracePeriodSeconds"] > seconds + drain, "preStop + drain must fit in the grace period"
    sources = {s.get("configMapRef", s.get("secretRef", {})).get("name") for s in container["envFrom"]}
    assert {"synctv-env", "synctv-secrets"} <= sources
    annotations = spec["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == synctv_config.ServerConfig().metrics_path
    assert annotations["prometheus.io/port"] == "8080"


def test_k8s_services_pdb_hpa() -> None:
    selector = one("Deployment")["spec"]["selector"]["matchLabels"]
    http = one("Service", "synctv")
    assert http["spec"]["selector"] == selector
    assert [(p["name"], p["port"]) for p in http["spec"]["ports"]] == [("http", 8080), ("rtmp", 1935)]
    mesh = one("Service", "synctv-mesh")
    assert mesh["spec"]["clusterIP"] == "None"
    assert [(p["name"], p["port"]) for p in mesh["spec"]["ports"]] == [("grpc", 9090)]

    pdb = one("PodDisruptionBudget")
    # One pod at a time at any count the autoscaler picks (a fixed minAvailable would not scale with it).
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": selector}}

    hpa = one("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["minReplicas"] == 3 and hpa["spec"]["maxReplicas"] > 3
    assert hpa["spec"]["scaleTargetRef"]["name"] == "synctv"
    (metric,) = hpa["spec"]["metrics"]
    assert metric["type"] == "Pods"
    assert metric["pods"]["metric"]["name"] == "synctv_websocket_connections_active"
    assert metric["pods"]["target"] == {"type": "AverageValue", "averageValue": "1000"}


def test_k8s_image_is_a_documented_registry_placeholder() -> None:
    pod = one("Deployment")["spec"]["template"]["spec"]
    images = {c["image"] for c in pod["containers"] + pod["initContainers"]}
    assert images == {"synctv"}
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    (image,) = kustomization["images"]
    assert image["name"] == "synctv" and image["newName"].startswith("REGISTRY/")
    assert image["newTag"] == __version__
    assert "REGISTRY is a placeholder" in (K8S / "kustomization.yaml").read_text()
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "ingress.yaml"}


def test_k8s_ingress_example() -> None:
    ingress = one("Ingress", "synctv")
    notes = ingress["metadata"]["annotations"]
    for key in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(notes[f"nginx.ingress.kubernetes.io/{key}"]) >= 600, key
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert path["path"] == "/" and path["pathType"] == "Prefix"
    assert path["backend"]["service"] == {"name": one("Service", "synctv")["metadata"]["name"],
                                          "port": {"name": "http"}}
    assert ingress["spec"]["tls"][0]["hosts"] == [rule["host"]]


def test_k8s_secret_is_a_marked_template() -> None:
    secret = one("Secret", "synctv-secrets")
    values = secret["stringData"]
    assert {"SYNCTV_JWT_SECRET", "SYNCTV_CLUSTER_SECRET"} <= set(values)
    assert all("PLACEHOLDER" in v for v in values.values())


# -- every SYNCTV_* name is a real config key, and the shipped values load ----------------------------------


@pytest.mark.parametrize("path", [COMPOSE, *sorted(K8S.glob("*.yaml"))], ids=lambda p: str(p.relative_to(ROOT)))
def test_env_names_are_config_keys(path: Path) -> None:
    unknown = sorted(set(ENV_NAME_RE.findall(path.read_text())) - valid_env_names())
    assert not unknown, f"{path.name}: not configuration keys: {unknown}"


def test_compose_environment_loads(tmp_path: Path) -> None:
    for name, svc in synctv_services().items():
        env = {k: interpolate(str(v)) for k, v in svc["environment"].items()}
        cfg = synctv_config.load(tmp_path / name, env=env)
        assert cfg.cluster.enabled and cfg.cluster.discovery.type == "consul"
        assert cfg.cluster.instance_id == name
        assert cfg.cluster.discovery.consul.address == "consul:8500"
        assert cfg.database.custom_dsn.startswith("postgresql://")


def test_k8s_config_loads(tmp_path: Path) -> None:
    config_yaml = one("ConfigMap", "synctv-config")["data"]["config.yaml"]
    (tmp_path / "config.yaml").write_text(config_yaml)
    container = one("Deployment")["spec"]["template"]["spec"]["containers"][0]
    env: dict[str, str] = {}
    for source in container["envFrom"]:
        if "configMapRef" in source:
            env.update(one("ConfigMap", source["configMapRef"]["name"])["data"])
        else:
            env.update(one("Secret", source["secretRef"]["name"])["stringData"])
    for item in container["env"]:
        # Downward-API values get a sample of their shape.
        env[item["name"]] = item.get("value", "synctv-7d9f8-abcde" if "metadata" in str(item) else "10.0.0.11")
    assert set(env) <= valid_env_names()
    cfg = synctv_config.load(tmp_path, env=env)
    assert cfg.cluster.enabled
    assert cfg.cluster.discovery.type in ("consul", "etcd")
    assert cfg.cluster.grpc.port == 9090 and cfg.server.http.port == 8080
    assert cfg.server.metrics_path == "/metrics"
    assert cfg.rate_limit.trust_forward_header and cfg.rate_limit.trusted_proxies


# -- Prometheus -----------------------------------------------------------------------------------------------


def test_prometheus_scrapes_instances() -> None:
    data = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in data["scrape_configs"]}
    targets = [t for sc in jobs["synctv"]["static_configs"] for t in sc["targets"]]
    assert sorted(targets) == sorted(f"{name}:8080" for name in synctv_services())
    assert jobs["synctv"].get("metrics_path", "/metrics") == "/metrics"


def test_prometheus_kubernetes_job_uses_annotations() -> None:
    data = yaml.safe_load((DEPLOY / "prometheus" / "prometheus-kubernetes.yml").read_text())
    (job,) = data["scrape_configs"]
    assert job["kubernetes_sd_configs"] == [{"role": "pod"}]
    sources = {label for rule in job["relabel_configs"] for label in rule.get("source_labels", [])}
    for annotation in ("scrape", "path", "port"):
        assert f"__meta_kubernetes_pod_annotation_prometheus_io_{annotation}" in sources


# -- Grafana --------------------------------------------------------------------------------------------------

PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
                   "group_right", "inf", "nan"}


def promql_metric_names(expr: str) -> set[str]:
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\$\w+", "", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])[A-Za-z_:][\w:]*", text):
        if text[match.end():].lstrip().startswith("(") or match.group() in PROMQL_KEYWORDS:
            continue
        names.add(match.group())
    return names


def test_promql_metric_names_helper() -> None:
    expr = ('histogram_quantile(0.95, sum by (route, le) (rate(synctv_x_bucket{instance=~"$i"}[$__rate_interval])))'
            " / on (instance) group_left synctv_y")
    assert promql_metric_names(expr) == {"synctv_x_bucket", "synctv_y"}


def dashboard_queries(dash: dict[str, Any]) -> tuple[list[str], list[str]]:
    exprs: list[str] = []

    def walk(panels: list[dict[str, Any]]) -> None:
        for panel in panels:
            exprs.extend(t["expr"] for t in panel.get("targets", []) if t.get("expr"))
            walk(panel.get("panels", []))

    walk(dash["panels"])
    variables = []
    for var in dash.get("templating", {}).get("list", []):
        query = var.get("query")
        if var.get("type") == "query":
            variables.append(query["query"] if isinstance(query, dict) else query)
    return exprs, variables


def test_dashboard_metrics() -> None:
    dash = json.loads(DASHBOARD.read_text())
    exprs, variables = dashboard_queries(dash)
    names: set[str] = set()
    for expr in exprs:
        found = promql_metric_names(expr)
        assert found, f"no metric in {expr!r}"
        names |= found
    for query in variables:
        match = re.fullmatch(r"label_values\(\s*([\w:]+)\s*,\s*\w+\s*\)", query)
        assert match, f"unexpected variable query {query!r}"
        names.add(match.group(1))
    assert all(name.startswith("synctv_") for name in names), sorted(names)
    exported = {n.removesuffix("_bucket").removesuffix("_sum").removesuffix("_count") for n in names}
    assert exported <= METRIC_NAMES, sorted(exported - METRIC_NAMES)
    for needed in ("synctv_websocket_connections_active", "synctv_room_viewers_total",
                   "synctv_websocket_messages_sent_total", "synctv_websocket_messages_received_total",
                   "synctv_http_requests_total", "synctv_http_request_duration_seconds_bucket",
                   "synctv_mesh_messages_sent_total", "synctv_mesh_command_duration_seconds_bucket",
                   "synctv_rooms_owned",
                   "synctv_handoffs_total", "synctv_fence_rejections_total", "synctv_discovery_errors_total"):
        assert needed in names, needed
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
