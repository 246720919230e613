"""Typed configuration: `config.yaml` in the data dir, overridden by `SYNCTV_*` environment variables.

The file is created with defaults (and a random JWT secret) on first start and rewritten after loading so that
new keys appear, as upstream does. Every leaf is addressable from the environment by its upper-cased path joined
with `_`, e.g. `server.http.port` -> `SYNCTV_SERVER_HTTP_PORT`.
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import os
import re
import secrets
import string
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ENV_PREFIX = "SYNCTV_"
_PUBLIC_ADDRESS = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+/?$")


class ConfigError(ValueError):
    """Invalid configuration; the message names the key."""


_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: str, key: str = "duration") -> float:
    """Parse a Go-style duration (`48h`, `1m30s`, `500ms`) into seconds."""
    text = str(value).strip()
    if not text:
        raise ConfigError(f"{key}: empty duration")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    pos = 0
    total = 0.0
    for match in _DURATION_RE.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or total <= 0:
        raise ConfigError(f"{key}: invalid duration {value!r} (use e.g. 30s, 1m, 48h)")
    return total


_SIZE_RE = re.compile(r"(?i)\s*(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g|tb|t)?\s*")
_SIZE_UNITS = {"b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30,
               "t": 1 << 40, "tb": 1 << 40}


def parse_size(value: str, key: str = "size", default: int = 1 << 30) -> int:
    """Upstream's cache sizes: `1GB`, `512MB`, `64KB`; a plain number is MB; empty is `default`."""
    text = str(value).strip()
    if not text:
        return default
    match = _SIZE_RE.fullmatch(text)
    if not match:
        raise ConfigError(f"{key}: invalid size {value!r} (use e.g. 512MB, 1GB)")
    size = int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "mb").lower()])
    if size <= 0:
        raise ConfigError(f"{key}: must be positive")
    return size


def _random_secret(length: int = 32) -> str:
    alphabet = string.ascii_letters
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _random_key() -> str:
    """32 random bytes, base64: an AES-256 key."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@dataclass
class LogConfig:
    enable: bool = True
    log_format: str = "text"
    level: str = "info"
    file_path: str = ""


@dataclass
class HttpConfig:
    listen: str = "0.0.0.0"
    port: int = 8080
    cert_path: str = ""
    key_path: str = ""
    # Against slow or stalled clients: a connection must send a complete request head within header_timeout of
    # opening (or of its previous response) and a request body within body_timeout, or it is closed / gets 408.
    header_timeout: str = "20s"
    body_timeout: str = "30s"
    # With TLS on this listener: Strict-Transport-Security max-age in seconds (0: not sent).
    hsts_max_age: int = 31536000


@dataclass
class RtmpConfig:
    enable: bool = True
    listen: str = "0.0.0.0"
    port: int = 0  # 0: share the HTTP port (told apart on a connection's first byte)
    publish_key_ttl: str = "720h"  # publish keys expire (and issuing a new one retires the old one)


@dataclass
class ServerConfig:
    http: HttpConfig = field(default_factory=HttpConfig)
    rtmp: RtmpConfig = field(default_factory=RtmpConfig)
    web_path: str = ""
    metrics_path: str = "/metrics"
    metrics_token: str = ""  # when set, the metrics path needs `Authorization: Bearer <token>`
    web_content_security_policy: str = ""  # empty: the built-in client's policy
    drain_timeout: str = "30s"
    # Media proxy slice cache (when the site setting proxy_cache_enable is on): empty path = in memory.
    proxy_cache_path: str = ""
    proxy_cache_size: str = ""  # upstream format: 1GB, 512MB, 64KB; a plain number is MB; empty = 1GB
    # Public base URLs of this cluster's instances (`https://a.example.com`) the web client may reconnect its
    # room to when its own instance stops answering. Empty: only the page's own address (never internal ones).
    public_addresses: list[str] = field(default_factory=list)


@dataclass
class JwtConfig:
    secret: str = ""
    expire: str = "48h"


@dataclass
class DatabaseConfig:
    type: str = "sqlite3"
    host: str = ""
    port: int = 0
    user: str = ""
    password: str = ""
    name: str = "synctv"
    ssl_mode: str = ""
    custom_dsn: str = ""
    max_idle_conns: int = 4
    max_open_conns: int = 64


@dataclass
class RateLimitConfig:
    enable: bool = False
    period: str = "1m"
    limit: int = 300
    trust_forward_header: bool = False
    trusted_client_ip_header: str = ""
    # Proxies (addresses or CIDRs) whose forwarded headers are believed; empty with trust_forward_header: the
    # immediate peer only.
    trusted_proxies: list[str] = field(default_factory=list)


@dataclass
class RoomsConfig:
    # A room with no viewers stays loaded this long before its actor is unloaded.
    idle_unload: str = "60s"
    # Outbound frames buffered per WebSocket before that client is considered too slow and dropped.
    client_queue_size: int = 128
    # Open WebSockets across the cluster: per logged-in user (guests share one id, so only the address limit
    # applies to them) and per client address. Each key's owner on the ring counts them; an instance's count
    # stands for `connection_lease` unless renewed, so a crashed instance's connections stop counting.
    max_connections_per_user: int = 32
    max_connections_per_address: int = 256
    connection_lease: str = "30s"
    # Messages a connection may send: per second, with a burst on top; chat has a lower allowance of its own.
    messages_per_second: float = 100.0
    message_burst: int = 200
    chats_per_second: float = 5.0
    chat_burst: int = 20


@dataclass
class GrpcConfig:
    listen: str = "0.0.0.0"
    port: int = 9090
    tls_cert_path: str = ""
    tls_key_path: str = ""
    tls_ca_path: str = ""
    # The name peers (and Consul's gRPC check) verify the mesh certificate against; default: the dialled host.
    tls_server_name: str = ""


@dataclass
class EtcdConfig:
    endpoints: list[str] = field(default_factory=lambda: ["127.0.0.1:2379"])
    prefix: str = "/synctv/instances/"
    username: str = ""
    password: str = ""


@dataclass
class ConsulConfig:
    address: str = "127.0.0.1:8500"
    token: str = ""
    service_name: str = "synctv"
    scheme: str = "http"


@dataclass
class DiscoveryConfig:
    type: str = "static"
    ttl: str = "5s"
    static_peers: list[str] = field(default_factory=list)
    etcd: EtcdConfig = field(default_factory=EtcdConfig)
    consul: ConsulConfig = field(default_factory=ConsulConfig)


@dataclass
class ClusterConfig:
    enabled: bool = False
    instance_id: str = ""
    advertise_address: str = ""
    secret: str = ""
    grpc: GrpcConfig = field(default_factory=GrpcConfig)
    discovery: DiscoveryConfig = field(default_factory=DiscoveryConfig)
    command_timeout: str = "5s"


@dataclass
class ProxyConfig:
    """Outbound fetches of the media proxy (and of anything else that fetches media for a room)."""

    connect_timeout: str = "10s"
    # Longest silence while reading from an origin before the fetch is abandoned.
    read_timeout: str = "30s"
    max_redirects: int = 5
    playlist_max_bytes: int = 3 << 20
    # Playlists are re-fetched on every request, so each carries fresh tokens; this only has to outlast a film.
    target_token_ttl: str = "24h"
    max_streams: int = 512
    max_streams_per_user: int = 32
    user_agent: str = ""  # empty = a current desktop Chrome


@dataclass
class VendorsConfig:
    """Alist and Emby/Jellyfin libraries users bind (see `synctv/vendors`)."""

    # AES-256-GCM key (base64) for the users' vendor credentials at rest; generated on first start. Every
    # instance of a cluster needs the same one; losing it means users bind their servers again.
    secret_key: str = ""
    timeout: str = "10s"  # one call to a vendor's API
    url_ttl: str = "10m"  # how long a resolved media URL is reused before the vendor is asked again


@dataclass
class TracingConfig:
    enabled: bool = False
    otlp_endpoint: str = "http://127.0.0.1:4317"
    sample_ratio: float = 1.0


@dataclass
class ProfilingConfig:
    # Admin-only CPU profile and task dump endpoints; off by default.
    enabled: bool = False


@dataclass
class Config:
    log: LogConfig = field(default_factory=LogConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    jwt: JwtConfig = field(default_factory=JwtConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    rate_limit: RateLimitConfig = field(default_factory=RateLimitConfig)
    rooms: RoomsConfig = field(default_factory=RoomsConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    proxy: ProxyConfig = field(default_factory=ProxyConfig)
    vendors: VendorsConfig = field(default_factory=VendorsConfig)
    tracing: TracingConfig = field(default_factory=TracingConfig)
    profiling: ProfilingConfig = field(default_factory=ProfilingConfig)
    # Not persisted: where the config came from; relative paths resolve against it.
    data_dir: str = field(default="", metadata={"transient": True})

    def resolve_path(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(self.data_dir) / p


def _coerce(value: Any, typ: Any, key: str) -> Any:
    origin = typing.get_origin(typ)
    if typ is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{key}: expected a boolean, got {value!r}")
    if typ is int:
        if isinstance(value, bool):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        try:
            return int(str(value).strip())
        except ValueError:
            raise ConfigError(f"{key}: expected an integer, got {value!r}") from None
    if typ is float:
        if isinstance(value, bool):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        try:
            return float(str(value).strip())
        except ValueError:
            raise ConfigError(f"{key}: expected a number, got {value!r}") from None
    if typ is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return "" if value is None else str(value)
    if origin is list:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return [str(v) for v in value]
    raise ConfigError(f"{key}: unsupported type")


def _apply_mapping(obj: Any, data: Any, path: str) -> None:
    if data is None:
        return
    if not isinstance(data, dict):
        raise ConfigError(f"{path or 'config'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(type(obj))
    names = {f.name: f for f in dataclasses.fields(obj) if not f.metadata.get("transient")}
    for key, value in data.items():
        full = f"{path}.{key}" if path else str(key)
        if key not in names:
            raise ConfigError(f"{full}: unknown configuration key")
        typ = hints[key]
        if dataclasses.is_dataclass(typ):
            _apply_mapping(getattr(obj, key), value, full)
        else:
            setattr(obj, key, _coerce(value, typ, full))


def _apply_env(obj: Any, env: dict[str, str], prefix: str, path: str) -> None:
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        if f.metadata.get("transient"):
            continue
        name = f"{prefix}{f.name.upper()}"
        full = f"{path}.{f.name}" if path else f.name
        typ = hints[f.name]
        if dataclasses.is_dataclass(typ):
            _apply_env(getattr(obj, f.name), env, name + "_", full)
        elif name in env:
            setattr(obj, f.name, _coerce(env[name], typ, f"{full} (from {name})"))


def to_dict(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        if f.metadata.get("transient"):
            continue
        value = getattr(obj, f.name)
        out[f.name] = to_dict(value) if dataclasses.is_dataclass(value) else value
    return out


def validate(cfg: Config) -> None:
    """Reject values that would only fail later; each message names its key."""
    if cfg.log.log_format not in ("text", "json"):
        raise ConfigError(f"log.log_format: must be text or json, got {cfg.log.log_format!r}")
    if cfg.log.level.lower() not in ("debug", "info", "warning", "error"):
        raise ConfigError(f"log.level: must be debug, info, warning or error, got {cfg.log.level!r}")
    if not 0 <= cfg.server.http.port <= 65535:
        raise ConfigError(f"server.http.port: must be 0..65535, got {cfg.server.http.port}")
    if bool(cfg.server.http.cert_path) != bool(cfg.server.http.key_path):
        raise ConfigError("server.http.cert_path: TLS needs both cert_path and key_path")
    if not cfg.server.metrics_path.startswith("/") and cfg.server.metrics_path:
        raise ConfigError("server.metrics_path: must start with /")
    parse_duration(cfg.server.drain_timeout, "server.drain_timeout")
    if cfg.server.http.hsts_max_age < 0:
        raise ConfigError("server.http.hsts_max_age: must be 0 (off) or more")
    for name in ("header_timeout", "body_timeout"):
        if parse_duration(getattr(cfg.server.http, name), f"server.http.{name}") <= 0:
            raise ConfigError(f"server.http.{name}: must be more than 0")
    for address in cfg.server.public_addresses:
        if not _PUBLIC_ADDRESS.match(address):
            raise ConfigError(f"server.public_addresses: {address!r} is not a base URL like https://host[:port]")
    parse_duration(cfg.jwt.expire, "jwt.expire")
    parse_size(cfg.server.proxy_cache_size, "server.proxy_cache_size")
    px = cfg.proxy
    for name in ("connect_timeout", "read_timeout", "target_token_ttl"):
        parse_duration(getattr(px, name), f"proxy.{name}")
    for name in ("max_streams", "max_streams_per_user", "playlist_max_bytes"):
        if getattr(px, name) < 1:
            raise ConfigError(f"proxy.{name}: must be at least 1")
    if not 0 <= px.max_redirects <= 20:
        raise ConfigError("proxy.max_redirects: must be 0..20")
    if len(cfg.jwt.secret) < 16:
        raise ConfigError("jwt.secret: must be at least 16 characters")
    for name in ("timeout", "url_ttl"):
        parse_duration(getattr(cfg.vendors, name), f"vendors.{name}")
    try:
        vendor_key = base64.urlsafe_b64decode(cfg.vendors.secret_key + "=" * (-len(cfg.vendors.secret_key) % 4))
    except ValueError:
        vendor_key = b""
    if len(vendor_key) != 32:
        raise ConfigError("vendors.secret_key: must be 32 bytes, base64 (leave it empty to generate one)")
    if cfg.database.type not in ("sqlite3", "postgres", "mysql"):
        raise ConfigError(f"database.type: must be sqlite3, postgres or mysql, got {cfg.database.type!r}")
    if cfg.database.max_open_conns < 1:
        raise ConfigError("database.max_open_conns: must be at least 1")
    parse_duration(cfg.rate_limit.period, "rate_limit.period")
    if cfg.rate_limit.limit < 1:
        raise ConfigError("rate_limit.limit: must be at least 1")
    for proxy in cfg.rate_limit.trusted_proxies:
        try:
            ipaddress.ip_network(proxy.strip(), strict=False)
        except ValueError:
            raise ConfigError(f"rate_limit.trusted_proxies: {proxy!r} is not an address or CIDR") from None
    parse_duration(cfg.rooms.idle_unload, "rooms.idle_unload")
    if parse_duration(cfg.rooms.connection_lease, "rooms.connection_lease") < 1:
        raise ConfigError("rooms.connection_lease: must be at least 1s")
    if cfg.rooms.client_queue_size < 1:
        raise ConfigError("rooms.client_queue_size: must be at least 1")
    for key in ("max_connections_per_user", "max_connections_per_address", "message_burst", "chat_burst"):
        if getattr(cfg.rooms, key) < 1:
            raise ConfigError(f"rooms.{key}: must be at least 1")
    for key in ("messages_per_second", "chats_per_second"):
        if not getattr(cfg.rooms, key) > 0:
            raise ConfigError(f"rooms.{key}: must be above 0")
    if not 0.0 <= cfg.tracing.sample_ratio <= 1.0:
        raise ConfigError(f"tracing.sample_ratio: must be between 0 and 1, got {cfg.tracing.sample_ratio}")
    if cfg.tracing.enabled and not cfg.tracing.otlp_endpoint:
        raise ConfigError("tracing.otlp_endpoint: required when tracing.enabled is true")
    cl = cfg.cluster
    parse_duration(cl.command_timeout, "cluster.command_timeout")
    ttl = parse_duration(cl.discovery.ttl, "cluster.discovery.ttl")
    if cl.discovery.type not in ("static", "etcd", "consul"):
        raise ConfigError(f"cluster.discovery.type: must be static, etcd or consul, got {cl.discovery.type!r}")
    if cl.enabled:
        if ttl < 2:
            raise ConfigError("cluster.discovery.ttl: must be at least 2s")
        if len(cl.secret) < 32:
            raise ConfigError("cluster.secret: must be at least 32 characters when cluster.enabled is true")
        if cfg.database.type == "sqlite3" and not cfg.database.custom_dsn:
            raise ConfigError(
                "database.type: cluster mode needs a database all instances share (postgres or mysql), not sqlite3"
            )
        if not 0 <= cl.grpc.port <= 65535:
            raise ConfigError(f"cluster.grpc.port: must be 0..65535, got {cl.grpc.port}")
        if cl.discovery.type == "etcd" and not cl.discovery.etcd.endpoints:
            raise ConfigError("cluster.discovery.etcd.endpoints: at least one endpoint is required")
        if cl.discovery.type == "consul" and not cl.discovery.consul.address:
            raise ConfigError("cluster.discovery.consul.address: required for consul discovery")


PLACEHOLDER_MARK = "PLACEHOLDER"  # what the example deploy files (docker-compose.yml, deploy/k8s) put in secrets


def placeholder_secrets(cfg: Config) -> list[str]:
    """Keys still holding a public placeholder from the example deploy files."""
    d = cfg.cluster.discovery
    values = {"jwt.secret": cfg.jwt.secret, "cluster.secret": cfg.cluster.secret,
              "database.password": cfg.database.password, "database.custom_dsn": cfg.database.custom_dsn,
              "cluster.discovery.etcd.password": d.etcd.password, "cluster.discovery.consul.token": d.consul.token}
    return [key for key, value in values.items() if PLACEHOLDER_MARK in value]


def load(data_dir: str | os.PathLike[str], env: dict[str, str] | None = None, write_back: bool = True) -> Config:
    """Load (creating on first start) `config.yaml` from `data_dir`, then apply the environment.

    With `write_back=False` nothing is created or written (read-only commands): a missing file means defaults.
    """
    env = dict(os.environ if env is None else env)
    root = Path(data_dir).expanduser()
    if write_back:
        root.mkdir(parents=True, exist_ok=True)
    path = root / "config.yaml"
    cfg = Config(data_dir=str(root))
    if path.exists():
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"config.yaml: not valid YAML: {exc}") from None
        _apply_mapping(cfg, raw, "")
    generated = ""
    if not cfg.jwt.secret:
        cfg.jwt.secret = generated = _random_secret()
    generated_key = ""
    if not cfg.vendors.secret_key:
        cfg.vendors.secret_key = generated_key = _random_key()
    _apply_env(cfg, env, ENV_PREFIX, "")
    validate(cfg)
    if write_back and (generated or generated_key or not path.exists()):
        # Persist the generated secret (not env overrides) so tokens survive restarts.
        file_cfg = Config(data_dir=str(root))
        if path.exists():
            _apply_mapping(file_cfg, yaml.safe_load(path.read_text()) or {}, "")
        if not file_cfg.jwt.secret:
            file_cfg.jwt.secret = generated or cfg.jwt.secret
        if not file_cfg.vendors.secret_key:
            file_cfg.vendors.secret_key = generated_key or cfg.vendors.secret_key
        path.write_text(yaml.safe_dump(to_dict(file_cfg), sort_keys=False))
        os.chmod(path, 0o600)
    return cfg
