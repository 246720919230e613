"""Which providers exist, which are enabled, and their client settings: read from the site settings at every
use, so an admin's change is in force at once on every instance."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from synctv.auth.oauth2.base import ClientConfig, Provider
from synctv.auth.oauth2.errors import OAuth2Error, Reason
from synctv.auth.oauth2.oidc import IssuerCache, OIDCProvider
from synctv.auth.oauth2.plain import SPECS, PlainProvider, PlainSpec
from synctv.core.site_settings import OIDC_DEFAULT_SCOPES, oidc_names
from synctv.store.settings import SettingsStore

# Built-in OpenID Connect providers configured by an endpoint (upstream's `oauth2_<p>_endpoint`).
ENDPOINT_OIDC = {"casdoor": "", "logto": "/oidc"}


@dataclass(frozen=True, slots=True)
class Policy:
    disable_user_signup: bool
    signup_need_review: bool


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class OAuth2Registry:
    def __init__(self, specs: dict[str, PlainSpec] | None = None) -> None:
        self.specs = dict(SPECS if specs is None else specs)
        self.issuers = IssuerCache()

    def names(self, settings: SettingsStore) -> list[str]:
        return [*self.specs, *ENDPOINT_OIDC, *oidc_names(settings.all())]

    def is_enabled(self, settings: SettingsStore, name: str) -> bool:
        if name not in self.names(settings):
            return False
        return settings.bool(f"oauth2_{name}_enabled") and bool(settings.text(f"oauth2_{name}_client_id"))

    def enabled(self, settings: SettingsStore) -> list[str]:
        return [n for n in self.names(settings) if self.is_enabled(settings, n)]

    def signup_enabled(self, settings: SettingsStore) -> list[str]:
        if settings.bool("disable_user_signup"):
            return []
        return [n for n in self.enabled(settings) if not settings.bool(f"oauth2_{n}_disable_user_signup")]

    def policy(self, settings: SettingsStore, name: str) -> Policy:
        return Policy(
            disable_user_signup=settings.bool("disable_user_signup")
            or settings.bool(f"oauth2_{name}_disable_user_signup"),
            signup_need_review=settings.bool("signup_need_review")
            or settings.bool(f"oauth2_{name}_signup_need_review"),
        )

    def get(self, settings: SettingsStore, name: str, site_base: str) -> tuple[Provider, ClientConfig]:
        """An enabled provider and this site's client settings for it; `site_base` is used for a redirect
        URL the admin left empty."""
        if not self.is_enabled(settings, name):
            raise OAuth2Error(Reason.NOT_ENABLED)
        g = f"oauth2_{name}"
        redirect = settings.text(f"{g}_redirect_url") or f"{site_base.rstrip('/')}/oauth2/callback/{name}"
        client = ClientConfig(settings.text(f"{g}_client_id"), settings.text(f"{g}_client_secret"), redirect)
        provider: Provider
        if name in self.specs:
            provider = PlainProvider(self.specs[name])
        elif name in ENDPOINT_OIDC:
            origin = _origin(settings.text(f"{g}_endpoint"))
            issuer = origin + ENDPOINT_OIDC[name] if origin else ""
            client = ClientConfig(client.client_id, client.client_secret, redirect, issuer, OIDC_DEFAULT_SCOPES)
            provider = OIDCProvider(name, self.issuers)
        else:
            scopes = settings.text(f"{g}_scopes") or OIDC_DEFAULT_SCOPES
            if "openid" not in scopes.split():
                scopes = "openid " + scopes
            client = ClientConfig(client.client_id, client.client_secret, redirect,
                                  settings.text(f"{g}_issuer"), scopes)
            provider = OIDCProvider(name, self.issuers)
        return provider, client
