"""Failures of a vendor call: the media proxy's errors (`synctv.media.errors`), specialised.

A vendor call is an outbound fetch through the proxy's fetcher, so its failures are the proxy's: one base class
carrying the HTTP status the API answers with, the same 502 for an unreachable host and 504 for a timeout. Only
what is vendor-specific is added here. A vendor's own refusal of credentials is the caller's mistake (400),
never a 401: the web client treats a 401 as "your SyncTV session ended" and logs the user out.
"""

from __future__ import annotations

from synctv.media.errors import ProxyError, TargetForbidden, UpstreamTimeout, UpstreamUnreachable


class VendorError(ProxyError):
    """Any vendor failure (502 unless said otherwise); the error middleware answers it as a `ProxyError`."""


class VendorUnreachable(VendorError, UpstreamUnreachable):
    """The vendor host cannot be resolved or connected to, or answered something that is not its API."""


class VendorTimeout(VendorError, UpstreamTimeout):
    """The vendor (or a vendor backend) did not answer within the timeout: 504."""


class VendorForbiddenHost(VendorError, TargetForbidden):
    """The SSRF guard refused the host (a private address while `allow_proxy_to_local` is off).

    A 400 rather than the proxy's 403: the host is part of what the user typed in the login form."""

    status = 400


class VendorBadCredentials(VendorError):
    status = 400


class VendorNotFound(VendorError):
    status = 404


class VendorRefused(VendorError):
    """The vendor answered with an error of its own (its message is kept)."""


class NotBound(VendorError):
    """The user has no binding to that server (or none at all)."""

    status = 400


class VendorUnavailable(VendorError):
    """A configured vendor backend has no healthy endpoint."""

    status = 503


class TokenRejected(Exception):
    """The vendor refused a stored token (expired, revoked): log in again with the stored credentials, retry once."""
