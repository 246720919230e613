"""Failures of a vendor call, each with the HTTP status the API answers with (one vocabulary).

A vendor's own refusal of credentials is the caller's mistake (400), never a 401: the web client treats a 401 as
"your SyncTV session ended" and logs the user out.
"""

from __future__ import annotations


class VendorError(Exception):
    status = 502

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class VendorUnreachable(VendorError):
    """The vendor host cannot be resolved or connected to, or answered something that is not its API."""

    status = 502


class VendorTimeout(VendorError):
    status = 504


class VendorForbiddenHost(VendorError):
    """The SSRF guard refused the host (a private address while `allow_proxy_to_local` is off)."""

    status = 400


class VendorBadCredentials(VendorError):
    status = 400


class VendorNotFound(VendorError):
    status = 404


class VendorRefused(VendorError):
    """The vendor answered with an error of its own (its message is kept)."""

    status = 502


class NotBound(VendorError):
    """The user has no binding to that server (or none at all)."""

    status = 400


class VendorUnavailable(VendorError):
    """A configured vendor backend has no healthy endpoint."""

    status = 503


class TokenRejected(Exception):
    """The vendor refused a stored token (expired, revoked): log in again with the stored credentials, retry once."""
