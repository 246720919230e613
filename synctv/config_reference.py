"""The configuration reference (docs/configuration.md), rendered from the typed config and the site-settings table.

Keys, types, defaults and environment variables come from `synctv.config` and `synctv.core.site_settings`; only
the one-line descriptions live here. Rendering fails on a key without a description, so a new key cannot be
added without documenting it (tests/test_config_reference.py checks the file is complete and current).
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Iterator
from typing import Any

from synctv.config import ENV_PREFIX, Config
from synctv.core.site_settings import OAUTH2_PROVIDERS, OIDC_NAMES_SETTING, SETTINGS, SettingDef

CONFIG_DESCRIPTIONS: dict[str, str] = {
    "log.enable": "Write log lines at all.",
    "log.log_format": "`text` (one line per event) or `json` (one JSON object per line).",
    "log.level": "`debug`, `info`, `warning` or `error`.",
    "log.file_path": "Also append the log to this file (relative to the data dir). Not rotated by the server: "
                     "see docs/operations.md.",
    "server.http.listen": "HTTP listen address. `127.0.0.1` behind a reverse proxy on the same host.",
    "server.http.port": "HTTP port (0 = any free port).",
    "server.http.cert_path": "TLS certificate (PEM) to serve HTTPS directly; needs `key_path`.",
    "server.http.key_path": "TLS private key (PEM) for `cert_path`.",
    "server.http.header_timeout": "A connection must send a complete request head within this long of opening or "
                                  "of its previous response, or it is closed (also the keep-alive idle time).",
    "server.http.body_timeout": "A request body must arrive within this long, or the answer is 408.",
    "server.http.hsts_max_age": "With TLS on this listener: `Strict-Transport-Security` max-age in seconds "
                                "(0 = not sent).",
    "server.rtmp.enable": "Accept RTMP publishers (OBS, ffmpeg) for rtmpSource movies.",
    "server.rtmp.listen": "RTMP listen address when RTMP has its own port.",
    "server.rtmp.port": "RTMP port; 0 = share the HTTP port (plain HTTP only; told apart on the first byte).",
    "server.rtmp.publish_key_ttl": "Lifetime of a publish key; issuing a new key retires the previous one.",
    "server.public_addresses": "Public base URLs of the cluster's instances (`https://host[:port]`) the web "
                               "client may reconnect to when its instance stops; empty = none offered.",
    "server.web_path": "Serve this directory (a built web client) under `/web/` instead of the bundled one.",
    "server.metrics_path": "Path of the Prometheus metrics (empty = off).",
    "server.metrics_token": "When set, the metrics path needs `Authorization: Bearer <token>`.",
    "server.web_content_security_policy": "Content-Security-Policy of the web client (empty = the built-in "
                                          "client's policy).",
    "server.drain_timeout": "On SIGTERM, how long open connections and rooms get to move or finish.",
    "server.proxy_cache_path": "Directory of the media proxy's slice cache (site setting `proxy_cache_enable`); "
                               "empty = in memory.",
    "server.proxy_cache_size": "Size of that cache: `1GB`, `512MB`, `64KB`; a plain number is MB; empty = 1GB.",
    "jwt.secret": "Signs user tokens (at least 16 characters). Generated on first start and written to "
                  "config.yaml; every instance of a cluster needs the same one.",
    "jwt.expire": "Lifetime of a user token (e.g. `48h`).",
    "vendors.secret_key": "AES-256-GCM key (32 bytes, base64) sealing users' Alist/Emby credentials and "
                          "tokens at rest. Generated on first start; every instance needs the same one.",
    "vendors.timeout": "Time limit of one call to a vendor's API or a vendor backend.",
    "vendors.url_ttl": "How long a resolved vendor media URL is reused before the vendor is asked again.",
    "database.type": "`sqlite3` (single instance), `postgres` or `mysql`.",
    "database.host": "Database host (postgres/mysql; default 127.0.0.1).",
    "database.port": "Database port (0 = 5432 for postgres, 3306 for mysql).",
    "database.user": "Database user. Use a dedicated role, not the superuser.",
    "database.password": "Database password.",
    "database.name": "Database name; for sqlite3 the file `<name>.db` in the data dir (`memory` = in memory).",
    "database.ssl_mode": "postgres: passed as `ssl=` to the driver (e.g. `require`, `verify-full`).",
    "database.custom_dsn": "A full database URL (`postgresql://...`, `mysql://...`, `sqlite:///...`); overrides "
                           "the keys above.",
    "database.max_idle_conns": "Connections kept open in the pool.",
    "database.max_open_conns": "Most connections open at once.",
    "rate_limit.enable": "Limit HTTP requests per client address.",
    "rate_limit.period": "Window of the limit (e.g. `1m`).",
    "rate_limit.limit": "Requests allowed per address and window.",
    "rate_limit.trust_forward_header": "Take the client address from `X-Forwarded-For`/`X-Real-IP` (behind a "
                                       "reverse proxy). Without it every user behind nginx shares nginx's address.",
    "rate_limit.trusted_client_ip_header": "Take the client address from this header instead (e.g. "
                                           "`CF-Connecting-IP`).",
    "rate_limit.trusted_proxies": "Addresses or CIDRs whose forwarded headers are believed (list, or comma "
                                  "separated in the environment); empty = the immediate peer only.",
    "rooms.idle_unload": "A room with no viewers stays loaded this long before it is unloaded.",
    "rooms.client_queue_size": "Outbound frames buffered per WebSocket before the client is dropped as too slow.",
    "rooms.max_connections_per_user": "Open WebSockets per logged-in user, across the cluster.",
    "rooms.max_connections_per_address": "Open WebSockets per client address, across the cluster.",
    "rooms.connection_lease": "How long an instance's count of open WebSockets stands at the limit key's owner "
                              "without renewal (a crashed instance's connections stop counting after this).",
    "rooms.messages_per_second": "Messages a WebSocket may send per second (sustained).",
    "rooms.message_burst": "Burst on top of `messages_per_second`.",
    "rooms.chats_per_second": "Chat messages a user may send per second over its WebSockets on an instance.",
    "rooms.chat_burst": "Burst on top of `chats_per_second`.",
    "cluster.enabled": "Run as one instance of a cluster (needs postgres or mysql, a discovery backend and "
                       "`cluster.secret`).",
    "cluster.instance_id": "This instance's id (empty = generated per start).",
    "cluster.advertise_address": "`host:port` at which peers reach this instance's mesh port.",
    "cluster.secret": "Shared secret that authenticates the mesh (at least 32 characters, the same on every "
                      "instance).",
    "cluster.grpc.listen": "Mesh (gRPC) listen address.",
    "cluster.grpc.port": "Mesh (gRPC) port.",
    "cluster.grpc.tls_cert_path": "TLS certificate of the mesh port.",
    "cluster.grpc.tls_server_name": "Name the Consul agent's gRPC health check expects on the mesh's TLS "
                                    "certificate (empty = the advertised host).",
    "cluster.grpc.tls_key_path": "TLS key of the mesh port.",
    "cluster.grpc.tls_ca_path": "CA that signs the peers' certificates (mutual TLS).",
    "cluster.discovery.type": "`static`, `etcd` or `consul`.",
    "cluster.discovery.ttl": "Lease/TTL of this instance's registration (at least 2s); also how long a peer may "
                             "stay silent on the mesh (no heartbeat) before it is left out of the ring.",
    "cluster.discovery.static_peers": "`static`: the peers' mesh addresses.",
    "cluster.discovery.etcd.endpoints": "`etcd`: endpoints (`host:port`).",
    "cluster.discovery.etcd.prefix": "`etcd`: key prefix of the instance records.",
    "cluster.discovery.etcd.username": "`etcd`: user (auth enabled).",
    "cluster.discovery.etcd.password": "`etcd`: password.",
    "cluster.discovery.consul.address": "`consul`: agent address (`host:port`).",
    "cluster.discovery.consul.token": "`consul`: ACL token.",
    "cluster.discovery.consul.service_name": "`consul`: service name the instances register under.",
    "cluster.discovery.consul.scheme": "`consul`: `http` or `https`.",
    "cluster.command_timeout": "How long a room command forwarded to its owner instance may take.",
    "proxy.connect_timeout": "Media proxy: connect timeout to an origin.",
    "proxy.read_timeout": "Media proxy: longest silence while reading from an origin.",
    "proxy.max_redirects": "Media proxy: redirects followed (0..20).",
    "proxy.playlist_max_bytes": "Media proxy: largest HLS playlist read.",
    "proxy.target_token_ttl": "Media proxy: lifetime of the signed segment URLs in rewritten playlists.",
    "proxy.max_streams": "Media proxy: concurrent streams per instance.",
    "proxy.max_streams_per_user": "Media proxy: concurrent streams per user.",
    "proxy.user_agent": "Media proxy: User-Agent sent to origins (empty = a current desktop Chrome).",
    "tracing.enabled": "Export OpenTelemetry traces.",
    "tracing.otlp_endpoint": "OTLP/gRPC collector.",
    "tracing.sample_ratio": "Share of traces kept (0..1).",
    "profiling.enabled": "Admin-only CPU profile and task dump endpoints.",
}

SETTING_DESCRIPTIONS: dict[str, str] = {
    "chat_history_max": "Chat messages kept per room and sent to a joining viewer (0 = no history).",
    "chat_history_days": "Chat messages older than this many days are dropped (0 = no age limit).",
    "disable_create_room": "Non-admins cannot create rooms.",
    "room_must_need_pwd": "Non-admin rooms must have a password (exclusive with the next).",
    "room_must_no_need_pwd": "Non-admin rooms must not have a password.",
    "create_room_need_review": "New non-admin rooms are pending until an admin approves them.",
    "room_ttl": "Hours a room stays in memory after its last access.",
    "disable_user_signup": "Master switch: no signup of any kind.",
    "signup_need_review": "Every signup is pending until an admin approves it.",
    "enable_password_signup": "Allow signup with username and password (upstream's default is false).",
    "password_signup_need_review": "Password signups are pending until approved.",
    "user_max_room_count": "Rooms a non-admin may create (0 = unlimited).",
    "password_min_length": "Shortest password accepted wherever one is set (signup, change, admin, CLI).",
    "enable_guest": "Requests without a token act as the guest user.",
    "movie_proxy": "Allow proxied (server-fetched) video-on-demand movies.",
    "live_proxy": "Allow proxied live streams.",
    "allow_proxy_to_local": "Let the proxy reach local and private addresses (SSRF risk).",
    "proxy_cache_enable": "Cache proxied media in slices (see `server.proxy_cache_*`).",
    "proxy_allowlist": "Hosts and CIDRs the proxy may reach although local/private (comma separated).",
    "rtmp_player": "Allow unauthenticated RTMP playback.",
    "custom_publish_host": "Host returned by the publish-key API.",
    "ts_disguised_as_png": "Serve HLS segments as `.png` with a fake PNG prefix.",
    "database_version": "Upstream schema version this server reports (read-only).",
    "host": "Public base URL (`https://...`), used in e-mails and publish hosts.",
    "p2p_zone": "Front-end P2P zone shown in the public settings.",
    "version": "Server version (read-only).",
    "enable_email": "E-mail features (signup, binding, password retrieval).",
    "email_disable_user_signup": "No signup by e-mail.",
    "email_signup_need_review": "E-mail signups are pending until approved.",
    "email_signup_white_list_enable": "Only the listed e-mail domains may sign up.",
    "email_signup_white_list": "Allowed e-mail domains (comma separated).",
    "smtp_host": "SMTP server.",
    "smtp_port": "SMTP port.",
    "smtp_protocol": "`tcp`, `tls`, `ssl` or empty (case-insensitive).",
    "smtp_username": "SMTP user.",
    "smtp_password": "SMTP password.",
    "smtp_from": "Sender address.",
    "smtp_pool_size": "SMTP connections kept.",
    OIDC_NAMES_SETTING: "Names of generic OpenID Connect providers (comma separated); each name gets its own "
                        "`oauth2_<name>_*` group with `_issuer` and `_scopes` besides the keys below.",
}
PROVIDER_SUFFIX_DESCRIPTIONS: dict[str, str] = {
    "enabled": "Offer login with this provider.",
    "client_id": "OAuth2 client id.",
    "client_secret": "OAuth2 client secret.",
    "redirect_url": "Callback URL registered with the provider.",
    "disable_user_signup": "Only users already bound to this provider may log in with it.",
    "signup_need_review": "Signups through this provider are pending until approved.",
    "endpoint": "Issuer base URL (`scheme://host`).",
}

_PROVIDER_RE = re.compile(r"^oauth2_(" + "|".join(re.escape(p) for p in OAUTH2_PROVIDERS) + r")_(.+)$")


@dataclasses.dataclass(frozen=True)
class Key:
    path: str
    type: str
    default: Any
    env: str


def _type_name(typ: Any) -> str:
    if typing.get_origin(typ) is list:
        return "list"
    return {bool: "bool", int: "int", float: "float", str: "string"}.get(typ, str(typ))


def config_keys(obj: Any = None, path: str = "") -> Iterator[Key]:
    obj = Config() if obj is None else obj
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        if f.metadata.get("transient"):
            continue
        full = f"{path}.{f.name}" if path else f.name
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from config_keys(value, full)
        else:
            yield Key(full, _type_name(hints[f.name]), value, ENV_PREFIX + full.upper().replace(".", "_"))


def setting_description(d: SettingDef) -> str:
    if d.name in SETTING_DESCRIPTIONS:
        return SETTING_DESCRIPTIONS[d.name]
    m = _PROVIDER_RE.match(d.name)
    if m and m.group(2) in PROVIDER_SUFFIX_DESCRIPTIONS:
        return PROVIDER_SUFFIX_DESCRIPTIONS[m.group(2)]
    raise KeyError(f"site setting {d.name} has no description in synctv/config_reference.py")


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if value == "" or value == []:
        return "(empty)"
    if isinstance(value, list):
        return ", ".join(f"`{v}`" for v in value)
    return f"`{value}`"


def _constraints(d: SettingDef) -> str:
    parts = []
    if d.min is not None:
        parts.append(f"≥ {d.min}")
    if d.max is not None:
        parts.append(f"≤ {d.max}")
    if d.choices:
        parts.append("one of " + ", ".join(f"`{c}`" if c else "(empty)" for c in d.choices))
    if d.read_only:
        parts.append("read-only")
    return "; ".join(parts)


def render() -> str:
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated by scripts/gen_config_reference.py from synctv/config.py and synctv/core/site_settings.py;"
        " do not edit by hand. -->",
        "",
        "There are two kinds of configuration:",
        "",
        "- **The configuration file** `config.yaml` in the data dir (`--data-dir`, `$SYNCTV_DATA_DIR`, default",
        "  `~/.synctv`), created with defaults on first start. Every key can be overridden by an environment",
        "  variable (its path upper-cased, dots as `_`, prefixed with `SYNCTV_`). Changes need a restart.",
        "  Durations are Go-style (`500ms`, `30s`, `1m30s`, `48h`); lists are YAML lists, or comma-separated in",
        "  the environment.",
        "- **Site settings**, stored in the database and changed at runtime by an admin (`/api/admin/settings`,",
        "  the web client's admin pages) or `synctv setting set NAME VALUE`; every instance sees a change within",
        "  a second.",
        "",
        "## config.yaml",
        "",
    ]
    section = ""
    for key in config_keys():
        top = key.path.split(".", 1)[0]
        if top != section:
            section = top
            lines += ["", f"### `{top}`", "", "| Key | Type | Default | Environment | Meaning |",
                      "|---|---|---|---|---|"]
        try:
            desc = CONFIG_DESCRIPTIONS[key.path]
        except KeyError:
            raise KeyError(f"configuration key {key.path} has no description in synctv/config_reference.py") from None
        default = "(generated)" if key.path == "jwt.secret" else _shown(key.default)
        lines.append(f"| `{key.path}` | {key.type} | {default} | `{key.env}` | {desc} |")
    lines += ["", "## Site settings", "",
              "Types: bool (`true`/`false`), int64, string. Values are checked with the same rules in the admin "
              "API and the CLI.", ""]
    group = ""
    for d in SETTINGS.values():
        if d.group != group:
            group = d.group
            lines += ["", f"### `{group}`", "", "| Setting | Type | Default | Constraints | Meaning |",
                      "|---|---|---|---|---|"]
        lines.append(f"| `{d.name}` | {d.type} | {_shown(d.default)} | {_constraints(d)} | "
                     f"{setting_description(d)} |")
    lines.append("")
    return "\n".join(lines)
