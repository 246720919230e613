"""Global (site) settings: names, types, defaults and groups (upstream §1.9.2), and value coercion."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from synctv import __version__

SettingValue = bool | int | float | str


@dataclass(frozen=True, slots=True)
class SettingDef:
    name: str
    type: str  # bool | int64 | float64 | string
    default: SettingValue
    group: str
    read_only: bool = False
    min: int | None = None
    max: int | None = None
    choices: tuple[str, ...] = ()


OAUTH2_PROVIDERS = ("github", "gitee", "gitlab", "google", "microsoft", "discord", "qq", "baidu", "baidu-netdisk",
                    "xiaomi", "casdoor", "logto")
# Generic OpenID Connect providers: the admin lists names here, and each name gets its own `oauth2_<name>_*`
# group (the built-in settings plus `_issuer` and `_scopes`).
OIDC_NAMES_SETTING = "oauth2_oidc_providers"
OIDC_DEFAULT_SCOPES = "openid profile email"
_OIDC_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")

_EMAIL_WHITELIST = "gmail.com,qq.com,163.com,yahoo.com,sina.com,126.com,outlook.com,yeah.net,foxmail.com"


def _defs() -> list[SettingDef]:
    d = [
        SettingDef("disable_create_room", "bool", False, "room"),
        SettingDef("room_must_need_pwd", "bool", False, "room"),
        SettingDef("room_must_no_need_pwd", "bool", False, "room"),
        SettingDef("create_room_need_review", "bool", False, "room"),
        SettingDef("room_ttl", "int64", 48, "room", min=1),
        SettingDef("disable_user_signup", "bool", False, "user"),
        SettingDef("signup_need_review", "bool", False, "user"),
        # Upstream defaults to false; a fresh install here lets people sign up (admins can turn it off).
        SettingDef("enable_password_signup", "bool", True, "user"),
        SettingDef("password_signup_need_review", "bool", False, "user"),
        SettingDef("user_max_room_count", "int64", 3, "user", min=0),  # 0 = unlimited
        # Not upstream: the shortest password accepted wherever a user's password is set (signup, change, admin,
        # CLI); at most 32, upstream's maximum length.
        SettingDef("password_min_length", "int64", 8, "user", min=1, max=32),
        SettingDef("enable_guest", "bool", True, "user"),
        # Not upstream: chat history kept per room (messages; 0 = none) and for how long (days; 0 = no limit).
        SettingDef("chat_history_max", "int64", 100, "room", min=0, max=1000),
        SettingDef("chat_history_days", "int64", 7, "room", min=0, max=3650),
        SettingDef("movie_proxy", "bool", True, "proxy"),
        SettingDef("live_proxy", "bool", True, "proxy"),
        SettingDef("allow_proxy_to_local", "bool", False, "proxy"),
        SettingDef("proxy_cache_enable", "bool", False, "proxy"),
        # Hosts and CIDRs the proxy may reach even though they are local/private (comma-separated).
        SettingDef("proxy_allowlist", "string", "", "proxy"),
        SettingDef("rtmp_player", "bool", False, "rtmp"),
        SettingDef("custom_publish_host", "string", "", "rtmp"),
        SettingDef("ts_disguised_as_png", "bool", True, "rtmp"),
        SettingDef("database_version", "string", "0.0.13", "database", read_only=True),
        SettingDef("host", "string", "", "server"),
        SettingDef("p2p_zone", "string", "hk", "server"),
        SettingDef("version", "string", __version__, "server", read_only=True),
        SettingDef("enable_email", "bool", False, "email"),
        SettingDef("email_disable_user_signup", "bool", False, "email"),
        SettingDef("email_signup_need_review", "bool", False, "email"),
        SettingDef("email_signup_white_list_enable", "bool", False, "email"),
        SettingDef("email_signup_white_list", "string", _EMAIL_WHITELIST, "email"),
        SettingDef("smtp_host", "string", "", "email"),
        SettingDef("smtp_port", "int64", 587, "email", min=1, max=65535),
        SettingDef("smtp_protocol", "string", "TLS", "email", choices=("", "tcp", "tls", "ssl")),
        SettingDef("smtp_username", "string", "", "email"),
        SettingDef("smtp_password", "string", "", "email"),
        SettingDef("smtp_from", "string", "", "email"),
        SettingDef("smtp_pool_size", "int64", 10, "email", min=1, max=100),
    ]
    for p in OAUTH2_PROVIDERS:
        d += _provider_defs(p)
        if p in ("casdoor", "logto"):
            d.append(SettingDef(f"oauth2_{p}_endpoint", "string", "", f"oauth2_{p}"))
    d.append(SettingDef(OIDC_NAMES_SETTING, "string", "", "oauth2_oidc"))
    return d


def _provider_defs(p: str) -> list[SettingDef]:
    g = f"oauth2_{p}"
    return [
        SettingDef(f"{g}_enabled", "bool", False, g),
        SettingDef(f"{g}_client_id", "string", "", g),
        SettingDef(f"{g}_client_secret", "string", "", g),
        SettingDef(f"{g}_redirect_url", "string", "", g),
        SettingDef(f"{g}_disable_user_signup", "bool", False, g),
        SettingDef(f"{g}_signup_need_review", "bool", False, g),
    ]


SETTINGS: dict[str, SettingDef] = {s.name: s for s in _defs()}


def oidc_names(values: dict[str, SettingValue]) -> list[str]:
    """The admin-chosen names of the generic OpenID Connect providers (invalid entries ignored)."""
    raw = str(values.get(OIDC_NAMES_SETTING, ""))
    out: list[str] = []
    for part in raw.split(","):
        name = part.strip()
        if _OIDC_NAME.match(name) and name not in OAUTH2_PROVIDERS and name != "oidc" and name not in out:
            out.append(name)
    return out


def oidc_defs(name: str) -> list[SettingDef]:
    g = f"oauth2_{name}"
    return [*_provider_defs(name), SettingDef(f"{g}_issuer", "string", "", g),
            SettingDef(f"{g}_scopes", "string", OIDC_DEFAULT_SCOPES, g)]


def all_defs(values: dict[str, SettingValue]) -> dict[str, SettingDef]:
    """The fixed settings plus those of every generic OpenID Connect provider listed in `values`."""
    defs = dict(SETTINGS)
    for name in oidc_names(values):
        defs.update({d.name: d for d in oidc_defs(name)})
    return defs


def _validate_oidc_names(raw: str) -> None:
    for part in raw.split(","):
        name = part.strip()
        if not name:
            continue
        if not _OIDC_NAME.match(name):
            raise SettingError(f"{OIDC_NAMES_SETTING}: {name!s:.40} is not a valid name (a-z, 0-9, -; up to 32)")
        if name in OAUTH2_PROVIDERS or name == "oidc":
            raise SettingError(f"{OIDC_NAMES_SETTING}: {name} is a built-in provider")


class SettingError(ValueError):
    pass


def coerce(defn: SettingDef, value: Any) -> SettingValue:
    """Convert an API/CLI value (JSON value or string) to the setting's type, enforcing its constraints."""
    if defn.type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "false", "0"):
            return value.lower() in ("true", "1")
        raise SettingError(f"{defn.name}: expected a boolean")
    if defn.type == "int64":
        if isinstance(value, bool):
            raise SettingError(f"{defn.name}: expected an integer")
        try:
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError
                value = int(value)
            n = int(value)
        except (TypeError, ValueError):
            raise SettingError(f"{defn.name}: expected an integer") from None
        if not -(2**63) <= n < 2**63:
            raise SettingError(f"{defn.name}: out of range")
        if defn.min is not None and n < defn.min:
            raise SettingError(f"{defn.name}: must be at least {defn.min}")
        if defn.max is not None and n > defn.max:
            raise SettingError(f"{defn.name}: must be at most {defn.max}")
        return n
    if defn.type == "float64":
        try:
            f = float(value)
        except (TypeError, ValueError):
            raise SettingError(f"{defn.name}: expected a number") from None
        if not math.isfinite(f):
            raise SettingError(f"{defn.name}: expected a finite number")
        return f
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise SettingError(f"{defn.name}: expected a string")
    text = str(value)
    if len(text) > 4096:
        raise SettingError(f"{defn.name}: too long")
    if defn.name == OIDC_NAMES_SETTING:
        _validate_oidc_names(text)
    if defn.choices and text.lower() not in defn.choices:
        raise SettingError(f"{defn.name}: must be one of {', '.join(c or '(empty)' for c in defn.choices)}")
    return text


def to_text(value: SettingValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def from_text(defn: SettingDef, text: str) -> SettingValue:
    """Parse a stored value; an invalid stored value falls back to the default (as upstream)."""
    try:
        return coerce(defn, text)
    except SettingError:
        return defn.default


def validate_combination(values: dict[str, SettingValue]) -> None:
    if values.get("room_must_need_pwd") and values.get("room_must_no_need_pwd"):
        raise SettingError("room_must_need_pwd and room_must_no_need_pwd are mutually exclusive")
