"""Proxy target tokens: signed, bound to room, movie and source version, expiring."""

from __future__ import annotations

import pytest

from synctv.media.tokens import TargetTokenError, TargetTokens, source_version

R, M = "a" * 32, "b" * 32


def test_round_trip_and_binding() -> None:
    tokens = TargetTokens("server-secret-0123456789", ttl_s=3600)
    v = source_version("https://cdn/x.m3u8", {"Referer": "r"})
    tok = tokens.mint(R, M, v, "https://cdn/seg 1.ts?a=b", True, now=1000)
    target = tokens.verify(tok, R, M, v, now=1000 + 3599)
    assert (target.url, target.playlist, target.expires) == ("https://cdn/seg 1.ts?a=b", True, 4600)
    with pytest.raises(TargetTokenError, match="expired") as exc:
        tokens.verify(tok, R, M, v, now=4601)
    assert exc.value.status == 401
    for room, movie in ((M, M), (R, R)):
        with pytest.raises(TargetTokenError, match="another room or movie") as exc:
            tokens.verify(tok, room, movie, v, now=1000)
        assert exc.value.status == 403
    with pytest.raises(TargetTokenError, match="older version"):
        tokens.verify(tok, R, M, source_version("https://cdn/x.m3u8", {"Referer": "changed"}), now=1000)


def test_forgery_refused() -> None:
    tokens = TargetTokens("server-secret-0123456789", ttl_s=3600)
    v = source_version("u", {})
    tok = tokens.mint(R, M, v, "https://cdn/a.ts", False)
    payload, sig = tok.split(".")
    other = TargetTokens("another-secret-0123456789", ttl_s=3600).mint(R, M, v, "http://169.254.169.254/", False)
    for bad in ("", ".", tok + "x", payload + "." + sig[::-1], other.split(".")[0] + "." + sig, other, "a.b.c",
                "x" * 5000):
        with pytest.raises(TargetTokenError):
            tokens.verify(bad, R, M, v)
