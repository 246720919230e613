"""The SSRF guard: address classes, the allowlist, and the check on the address actually connected to."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from synctv.media.errors import TargetForbidden, UpstreamUnreachable
from synctv.media.fetcher import Fetcher
from synctv.media.ssrf import AddressPolicy, forbidden_reason
from tests.support.media_origin import MediaOrigin

FORBIDDEN = {
    "127.0.0.1": "loopback", "127.255.0.9": "loopback", "::1": "loopback",
    "10.1.2.3": "private", "172.16.0.1": "private", "192.168.1.1": "private", "fd00::1": "private",
    "169.254.169.254": "link-local", "fe80::1": "link-local",
    "100.64.0.1": "shared (CGNAT)", "100.127.255.254": "shared (CGNAT)",
    "224.0.0.1": "multicast", "239.255.255.250": "multicast", "ff02::1": "multicast",
    "240.0.0.1": "reserved", "255.255.255.255": "reserved", "192.0.2.10": "private",
    "0.0.0.0": "unspecified", "::": "unspecified",
    "::ffff:127.0.0.1": "loopback (embedded in IPv6)", "::ffff:169.254.169.254": "link-local (embedded in IPv6)",
    "::ffff:10.0.0.1": "private (embedded in IPv6)", "64:ff9b::a00:1": "private (embedded in IPv6)",
    "2002:7f00:1::": "loopback (embedded in IPv6)", "fec0::1": "site-local",
}
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", sorted(FORBIDDEN))
def test_forbidden_addresses(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) == FORBIDDEN[address]


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is None


def test_policy_allowlist() -> None:
    policy = AddressPolicy.parse(False, "media.lan, .nas.home 10.0.0.0/8 fd00::/8")
    lo = ipaddress.ip_address("127.0.0.1")
    assert policy.refusal("media.lan", lo) is None and policy.refusal("MEDIA.LAN.", lo) is None
    assert policy.refusal("a.nas.home", lo) is None
    assert policy.refusal("nas.home.evil.com", lo) == "loopback"
    assert policy.refusal("x", ipaddress.ip_address("10.9.9.9")) is None
    assert policy.refusal("x", ipaddress.ip_address("::ffff:10.9.9.9")) is None
    assert policy.refusal("x", ipaddress.ip_address("fd12::1")) is None
    assert policy.refusal("x", ipaddress.ip_address("192.168.0.1")) == "private"
    assert AddressPolicy.parse(True, "").refusal("x", lo) is None


class RebindingResolverStandIn(AbstractResolver):
    """Stands in for a DNS server that rebinds: the first lookup of a name is public, every later one loopback."""

    def __init__(self) -> None:
        self.calls = 0

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.calls += 1
        address = "93.184.216.34" if self.calls == 1 else "127.0.0.1"
        return [{"hostname": host, "host": address, "port": port, "family": socket.AF_INET, "proto": 0,
                 "flags": 0}]

    async def close(self) -> None:
        return None


async def _status(fetcher: Fetcher, url: str, **kw: Any) -> int:
    async with fetcher.open(url, **kw) as resp:
        await resp.read()
        return resp.status


async def test_rebinding_is_caught_at_connect_time(origin: MediaOrigin) -> None:
    stand_in = RebindingResolverStandIn()
    fetcher = Fetcher(lambda: AddressPolicy(), resolver_factory=lambda: stand_in)
    url = f"http://rebind.test:{origin.port}/files/clip.mp4"
    try:
        await fetcher.check_target(url)  # what a push sees: a public address
        with pytest.raises(TargetForbidden, match=r"127\.0\.0\.1"):
            await _status(fetcher, url)  # what the connection would use: loopback, refused
        assert origin.requests_to("/files/") == []  # nothing reached the loopback origin
    finally:
        await fetcher.close()


async def test_guard_on_every_hop(origin: MediaOrigin) -> None:
    fetcher = Fetcher(lambda: AddressPolicy.parse(False, "localhost"))
    try:
        assert await _status(fetcher, origin.url("files/clip.mp4", host="localhost")) == 200
        for target in (origin.url("files/clip.mp4"), "http://169.254.169.254/latest/meta-data/",
                       f"http://[::ffff:127.0.0.1]:{origin.port}/files/clip.mp4", "http://[::1]:9/",
                       "http://10.0.0.1/", "http://0.0.0.0:9/"):
            with pytest.raises(TargetForbidden):
                await _status(fetcher, origin.url(f"redirect-to?url={target}", host="localhost"))
            with pytest.raises(TargetForbidden):
                await _status(fetcher, target)
        for target in ("file:///etc/passwd", "ftp://localhost/x", "gopher://localhost:70/"):
            with pytest.raises(TargetForbidden, match="scheme"):
                await _status(fetcher, origin.url(f"redirect-to?url={target}", host="localhost"))
        # legacy numeric IPv4 forms never reach a socket
        for odd in ("http://2130706433/", "http://127.1/", "http://0x7f.0.0.1/"):
            with pytest.raises((TargetForbidden, UpstreamUnreachable)):
                await _status(fetcher, odd)
            with pytest.raises((TargetForbidden, UpstreamUnreachable)):
                await fetcher.check_target(odd)
    finally:
        await fetcher.close()
    seen = {s.path for s in origin.seen}
    assert "/files/clip.mp4" in seen  # only through the allowlisted name


async def test_policy_change_uses_a_new_pool(origin: MediaOrigin) -> None:
    state = {"policy": AddressPolicy(allow_local=True)}
    fetcher = Fetcher(lambda: state["policy"])
    try:
        assert await _status(fetcher, origin.url("files/clip.mp4", host="localhost")) == 200
        state["policy"] = AddressPolicy()  # a pooled keep-alive connection must not carry on
        with pytest.raises(TargetForbidden):
            await _status(fetcher, origin.url("files/clip.mp4", host="localhost"))
    finally:
        await fetcher.close()
