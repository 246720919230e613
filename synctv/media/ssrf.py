"""The SSRF guard: which addresses an outbound fetch may connect to.

The check runs inside the resolver the fetcher's connector uses, so it applies to the very addresses aiohttp
connects to (a name that resolved public once and private the next time is refused at connect time), and the
fetcher checks literal IPs itself on every redirect hop (aiohttp does not resolve those).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

from synctv.media.errors import TargetForbidden

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = ("http", "https")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why `ip` is not a public unicast address (None when it is one)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and ip.teredo is not None:
            embedded = ip.teredo[1]
        if embedded is not None:
            inner = forbidden_reason(embedded)
            return f"{inner} (embedded in IPv6)" if inner else None
        if ip in _NAT64_LOCAL:
            return "private"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "shared (CGNAT)"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "site-local"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "reserved"
    return None


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """`allow_local` opens everything; otherwise only public addresses plus the allowlist's hosts and networks."""

    allow_local: bool = False
    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, allow_local: bool, allowlist: str) -> AddressPolicy:
        """`allowlist`: comma- or space-separated host names (`media.lan`, `.lan` for a suffix) and CIDRs."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for item in allowlist.replace(",", " ").split():
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(allow_local, frozenset(hosts), tuple(networks))

    def host_allowed(self, host: str) -> bool:
        name = host.lower().rstrip(".")
        return name in self.hosts or any(h.startswith(".") and name.endswith(h) for h in self.hosts)

    def refusal(self, host: str, ip: IPAddress) -> str | None:
        """None if connecting to `ip` (resolved from `host`) is allowed, else the reason."""
        if self.allow_local:
            return None
        reason = forbidden_reason(ip)
        if reason is None or self.host_allowed(host):
            return None
        check = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip
        if any(check in net for net in self.networks):
            return None
        return reason


def parse_target(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, or TargetForbidden."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetForbidden("invalid proxy target url") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise TargetForbidden("proxy target scheme must be http or https")
    host = parts.hostname or ""
    if not host:
        raise TargetForbidden("proxy target has no host")
    return scheme, host, port or (443 if scheme == "https" else 80)


def literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_literal(policy: AddressPolicy, host: str) -> None:
    """Literal-IP hosts never reach the resolver: check them here (every hop)."""
    ip = literal_ip(host)
    if ip is not None:
        reason = policy.refusal(host, ip)
        if reason:
            raise TargetForbidden(f"proxy target {host} is a {reason} address")


class GuardedResolver(AbstractResolver):
    """Resolves through `inner`, then keeps only the addresses the policy allows (refusing if none are left)."""

    def __init__(self, inner: AbstractResolver, policy: Callable[[], AddressPolicy] | AddressPolicy) -> None:
        self._inner = inner
        self._policy = policy

    def policy(self) -> AddressPolicy:
        return self._policy() if callable(self._policy) else self._policy

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        infos = await self._inner.resolve(host, port, family)
        policy = self.policy()
        allowed: list[ResolveResult] = []
        reasons: list[str] = []
        for info in infos:
            ip = literal_ip(info["host"])
            reason = "unparsable" if ip is None else policy.refusal(host, ip)
            if reason:
                reasons.append(f"{info['host']} ({reason})")
            else:
                allowed.append(info)
        if not allowed:
            raise TargetForbidden(f"proxy target {host} resolves to a non-public address: {', '.join(reasons)}"
                                  if reasons else f"proxy target {host} does not resolve")
        return allowed

    async def close(self) -> None:
        await self._inner.close()
