"""JSON calls to a vendor's HTTP API through the media proxy's fetcher: the SSRF guard on every hop, one pool,
a total timeout per call, and every failure turned into a `VendorError` with the status the API answers."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from synctv.media.errors import ProxyError, TargetForbidden, UpstreamTimeout
from synctv.media.fetcher import Fetcher
from synctv.vendors.errors import VendorError, VendorForbiddenHost, VendorTimeout, VendorUnreachable

MAX_RESPONSE_BYTES = 8 << 20
_ERROR_STATUSES = tuple(range(400, 600))


def normalize_host(host: str, vendor: str) -> str:
    """`scheme://host[:port][/base]` without a trailing slash; anything else is the caller's mistake."""
    text = host.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise VendorError(f"invalid {vendor} host", 400) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise VendorError(f"{vendor} host must be an http(s) URL such as https://{vendor}.example.com", 400)
    if parts.username or parts.password or parts.query or parts.fragment:
        raise VendorError(f"{vendor} host must not carry credentials, a query or a fragment", 400)
    if len(text) > 1024:
        raise VendorError(f"{vendor} host is too long", 400)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


class VendorHttp:
    def __init__(self, fetcher: Callable[[], Fetcher], timeout: float, vendor: str) -> None:
        self._fetcher = fetcher
        self.timeout = timeout
        self.vendor = vendor

    async def call(self, method: str, url: str, *, body: Any = None, headers: Mapping[str, str] | None = None,
                   expect_json: bool = True) -> tuple[int, Any]:
        """(HTTP status, parsed JSON body). Error statuses are returned, not raised: each API has its own."""
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.setdefault("Accept", "application/json")
        fetcher = self._fetcher()
        try:
            async with fetcher.open(url, method=method, headers=hdrs, data=data, timeout=self.timeout,
                                    accept_errors=_ERROR_STATUSES) as resp:
                raw = bytearray()
                async for chunk in resp.content.iter_chunked(65536):
                    raw += chunk
                    if len(raw) > MAX_RESPONSE_BYTES:
                        raise VendorUnreachable(f"{self.vendor} answered more than {MAX_RESPONSE_BYTES} bytes")
                status = resp.status
        except VendorError:
            raise  # already a vendor failure (an oversized answer)
        except TargetForbidden as exc:
            raise VendorForbiddenHost(f"{self.vendor} host refused: {exc.message}") from None
        except UpstreamTimeout:
            raise VendorTimeout(f"{self.vendor} did not answer within {self.timeout:g}s") from None
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise VendorTimeout(f"{self.vendor} did not answer within {self.timeout:g}s") from None
        except ProxyError as exc:
            raise VendorUnreachable(f"{self.vendor} unreachable: {exc.message}") from None
        except aiohttp.ClientError as exc:
            raise VendorUnreachable(f"{self.vendor} unreachable: {type(exc).__name__}") from None
        if not expect_json:
            return status, bytes(raw)
        if not raw.strip():
            return status, None
        try:
            return status, json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            if status >= 400:
                return status, raw.decode("utf-8", "replace")[:300]  # an error page: the status says enough
            raise VendorUnreachable(f"{self.vendor} answered HTTP {status} with something that is not JSON "
                                    f"(is this the right host?)") from None
