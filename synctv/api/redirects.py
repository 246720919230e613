"""Where a flow may send the browser afterwards: only somewhere on this site (no open redirect)."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from synctv.api.context import services

DEFAULT_REDIRECT = "/web/"
MAX_REDIRECT = 2048


def site_base(request: web.Request) -> str:
    """The public base URL: the `host` setting when the admin set one, else the request's own origin."""
    host = services(request).store.settings.text("host").strip().rstrip("/")
    parts = urlsplit(host)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return f"{request.scheme}://{request.host}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def safe_redirect(request: web.Request, target: str) -> str:
    """`target` if it stays on this site (a path, or an absolute URL with this site's origin); otherwise the
    web client's start page. Scheme-relative (`//evil`), backslash and control-character tricks are refused."""
    target = target.strip()
    if not target:
        return DEFAULT_REDIRECT
    if len(target) > MAX_REDIRECT or any(ord(c) < 0x20 or c == "\\" for c in target):
        return DEFAULT_REDIRECT
    parts = urlsplit(target)
    if not parts.scheme and not parts.netloc:
        return target if target.startswith("/") else DEFAULT_REDIRECT
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return DEFAULT_REDIRECT
    allowed = {_origin(site_base(request)), f"{request.scheme}://{request.host}".lower()}
    return target if _origin(target) in allowed else DEFAULT_REDIRECT
