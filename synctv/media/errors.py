"""Failures of an outbound fetch, each with the HTTP status the proxy answers with (one vocabulary)."""

from __future__ import annotations


class ProxyError(Exception):
    status = 502

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class TargetForbidden(ProxyError):
    """The target's scheme or address is not allowed (SSRF guard)."""

    status = 403


class UpstreamUnreachable(ProxyError):
    status = 502


class UpstreamTimeout(ProxyError):
    status = 504


class UpstreamRefused(ProxyError):
    """The origin answered with an error status; `upstream_status` keeps what it said."""

    def __init__(self, upstream_status: int) -> None:
        status = 404 if upstream_status in (404, 410) else 502
        super().__init__(f"upstream answered {upstream_status}", status)
        self.upstream_status = upstream_status


class TooManyStreams(ProxyError):
    status = 429


class PlaylistTooLarge(ProxyError):
    status = 502
