"""The one outbound HTTP fetcher: SSRF-guarded, pooled, bounded, with timeouts everywhere.

The proxy uses it for playlists, segments, keys and ranged bytes; live pulls and vendor resolvers reuse it. Each
distinct address policy gets its own connection pool, so a connection opened under a looser policy is never
reused once the settings tighten. Redirects are followed by hand: every hop is checked and gets the movie's
headers again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver
from multidict import CIMultiDict

from synctv.media.errors import (
    PlaylistTooLarge,
    ProxyError,
    TargetForbidden,
    TooManyStreams,
    UpstreamRefused,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from synctv.media.ssrf import AddressPolicy, GuardedResolver, check_literal, parse_target

DEFAULT_USER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/126.0.0.0 Safari/537.36")
REDIRECTS = (301, 302, 303, 307, 308)
# An upstream response's read buffer (aiohttp pauses reading at twice this): it bounds what a slow viewer holds
# in memory; relays pass on whatever has arrived, up to that, in one write.
READ_BUFFER = 64 * 1024
# Headers a movie may not set: they belong to the connection or to the proxy's own request.
_RESERVED = {"host", "connection", "content-length", "transfer-encoding", "upgrade", "te", "trailer", "range",
             "accept-encoding", "keep-alive", "proxy-authorization", "proxy-connection", "expect"}


@dataclass(frozen=True, slots=True)
class FetcherSettings:
    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    playlist_timeout: float = 20.0
    max_redirects: int = 5
    max_connections: int = 512
    max_connections_per_host: int = 64
    max_streams: int = 512
    max_streams_per_user: int = 32


class Limiter:
    """Counts running streams per user and per instance; over either bound is a 429, never a queue."""

    def __init__(self, total: int, per_user: int) -> None:
        self.total = total
        self.per_user = per_user
        self.running = 0
        self.by_user: dict[str, int] = {}

    @contextlib.contextmanager
    def slot(self, user_key: str) -> Iterator[None]:
        if self.running >= self.total:
            raise TooManyStreams("too many proxy streams on this server; try again shortly")
        if self.by_user.get(user_key, 0) >= self.per_user:
            raise TooManyStreams("too many proxy streams for this user")
        self.running += 1
        self.by_user[user_key] = self.by_user.get(user_key, 0) + 1
        try:
            yield
        finally:
            self.running -= 1
            left = self.by_user[user_key] - 1
            if left:
                self.by_user[user_key] = left
            else:
                del self.by_user[user_key]


def request_headers(movie_headers: Mapping[str, str], user_agent: str, range_header: str | None) -> CIMultiDict[str]:
    out: CIMultiDict[str] = CIMultiDict()
    for key, value in movie_headers.items():
        if key.lower() not in _RESERVED and "\r" not in value and "\n" not in value:
            out[key] = value
    out.setdefault("User-Agent", user_agent)
    out["Accept-Encoding"] = "identity"  # byte ranges must match the origin's bytes exactly
    if range_header:
        out["Range"] = range_header
    return out


class Fetcher:
    def __init__(self, policy: Callable[[], AddressPolicy], settings: FetcherSettings | None = None,
                 resolver_factory: Callable[[], AbstractResolver] | None = None) -> None:
        self.settings = settings or FetcherSettings()
        self._policy = policy
        self._resolver_factory = resolver_factory or DefaultResolver
        self._sessions: dict[AddressPolicy, aiohttp.ClientSession] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self.limiter = Limiter(self.settings.max_streams, self.settings.max_streams_per_user)
        self._inner: AbstractResolver | None = None

    def policy(self) -> AddressPolicy:
        return self._policy()

    def _session(self, policy: AddressPolicy) -> aiohttp.ClientSession:
        session = self._sessions.get(policy)
        if session is not None and not session.closed:
            return session
        if self._sessions:
            # The policy changed (an admin tightened or opened it): close the old pool, streams included, so that
            # nothing keeps flowing from a target the new policy refuses; players resume with a new request.
            for old in self._sessions.values():
                task = asyncio.get_running_loop().create_task(old.close())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
            self._sessions.clear()
        s = self.settings
        connector = aiohttp.TCPConnector(limit=s.max_connections, limit_per_host=s.max_connections_per_host,
                                         resolver=GuardedResolver(self._resolver_factory(), policy),
                                         ttl_dns_cache=10, enable_cleanup_closed=True)
        timeout = aiohttp.ClientTimeout(total=None, connect=s.connect_timeout, sock_connect=s.connect_timeout,
                                        sock_read=s.read_timeout)
        session = aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False,
                                        trust_env=False, cookie_jar=aiohttp.DummyCookieJar(),
                                        skip_auto_headers=("User-Agent",), read_bufsize=READ_BUFFER)
        self._sessions[policy] = session
        return session

    async def check_target(self, url: str) -> None:
        """What a push/edit validates: http(s), and an address the policy allows (resolved now)."""
        _, host, port = parse_target(url)
        policy = self.policy()
        check_literal(policy, host)
        if self._inner is None:
            self._inner = self._resolver_factory()
        try:
            await GuardedResolver(self._inner, policy).resolve(host, port)
        except OSError as exc:
            raise UpstreamUnreachable(f"cannot resolve proxy target host {host}: {exc.strerror or exc}",
                                      400) from None

    @contextlib.asynccontextmanager
    async def open(self, url: str, *, headers: Mapping[str, str] | None = None, method: str = "GET",
                   range_header: str | None = None, timeout: float | None = None,
                   accept_errors: tuple[int, ...] = (),
                   data: bytes | None = None) -> AsyncIterator[aiohttp.ClientResponse]:
        """The final response after redirects. Error statuses raise unless listed in `accept_errors`.

        `data` is a request body (a vendor API call); a 303 turns the request into a GET without it."""
        policy = self.policy()
        session = self._session(policy)
        hdrs = request_headers(headers or {}, self.settings.user_agent, range_header)
        req_timeout = aiohttp.ClientTimeout(total=timeout, connect=self.settings.connect_timeout,
                                            sock_connect=self.settings.connect_timeout,
                                            sock_read=self.settings.read_timeout)
        for _hop in range(self.settings.max_redirects + 1):
            _, host, _ = parse_target(url)
            check_literal(policy, host)
            try:
                resp = await session.request(method, url, headers=hdrs, allow_redirects=False, timeout=req_timeout,
                                             data=data)
            except ProxyError:
                raise
            except (TimeoutError, aiohttp.ServerTimeoutError):
                raise UpstreamTimeout("upstream did not answer in time") from None
            except aiohttp.ClientConnectorError as exc:
                cause = exc.__cause__ or exc.os_error
                if isinstance(cause, TargetForbidden):
                    raise cause from None
                raise UpstreamUnreachable(f"cannot connect to upstream {host}") from None
            except (aiohttp.ClientError, ValueError) as exc:
                raise UpstreamUnreachable(f"upstream request failed: {type(exc).__name__}") from None
            try:
                location = resp.headers.get("Location")
                if resp.status in REDIRECTS and location:
                    url = urljoin(str(resp.url), location)
                    if resp.status == 303 and method != "HEAD":
                        method, data = "GET", None
                    continue
                if resp.status >= 400 and resp.status not in accept_errors:
                    raise UpstreamRefused(resp.status)
                yield resp
                return
            finally:
                resp.release()
        raise UpstreamUnreachable("upstream redirected too many times")

    async def fetch_text(self, url: str, *, headers: Mapping[str, str] | None = None,
                         limit: int) -> tuple[str, str, str]:
        """A small document (a playlist): (text, final url, content type), refusing more than `limit` bytes."""
        try:
            async with self.open(url, headers=headers, timeout=self.settings.playlist_timeout) as resp:
                if resp.content_length is not None and resp.content_length > limit:
                    raise PlaylistTooLarge(f"playlist larger than {limit} bytes")
                body = bytearray()
                async for chunk in resp.content.iter_chunked(65536):
                    body += chunk
                    if len(body) > limit:
                        raise PlaylistTooLarge(f"playlist larger than {limit} bytes")
                return body.decode("utf-8", "replace"), str(resp.url), resp.headers.get("Content-Type", "")
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise UpstreamTimeout("upstream did not answer in time") from None
        except aiohttp.ClientError as exc:
            raise UpstreamUnreachable(f"upstream read failed: {type(exc).__name__}") from None

    async def close(self) -> None:
        sessions = list(self._sessions.values())
        self._sessions.clear()
        for session in sessions:
            await session.close()
        for task in list(self._closing):
            await task
        if self._inner is not None:
            await self._inner.close()

    def stats(self) -> dict[str, Any]:
        return {"streams": self.limiter.running, "users": len(self.limiter.by_user)}
