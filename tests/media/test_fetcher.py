"""The shared fetcher against a real loopback origin: limits, redirects, timeouts, size bounds."""

from __future__ import annotations

import pytest

from synctv.media.errors import PlaylistTooLarge, TooManyStreams, UpstreamRefused, UpstreamTimeout
from synctv.media.fetcher import Fetcher, FetcherSettings, Limiter
from synctv.media.ssrf import AddressPolicy
from tests.support.media_origin import MediaOrigin

LOCAL = AddressPolicy(allow_local=True)


async def test_redirect_limit_and_errors(origin: MediaOrigin) -> None:
    fetcher = Fetcher(lambda: LOCAL, FetcherSettings(max_redirects=3))
    try:
        async with fetcher.open(origin.url("redirect/3/clip.mp4")) as resp:
            assert resp.status == 200 and await resp.read() == origin.files.read("clip.mp4")
        with pytest.raises(Exception, match="too many times"):
            async with fetcher.open(origin.url("redirect/4/clip.mp4")):
                pass
        with pytest.raises(UpstreamRefused) as exc:
            async with fetcher.open(origin.url("files/missing.bin")):
                pass
        assert exc.value.status == 404 and exc.value.upstream_status == 404
        with pytest.raises(UpstreamRefused) as exc:
            async with fetcher.open(origin.url("gated/clip.mp4")):
                pass
        assert exc.value.status == 502
    finally:
        await fetcher.close()


async def test_playlist_size_bound_and_read_timeout(origin: MediaOrigin) -> None:
    fetcher = Fetcher(lambda: LOCAL, FetcherSettings(read_timeout=0.5))
    try:
        text, final, _ = await fetcher.fetch_text(origin.url("redirect/1/hls/master.m3u8"), limit=4096)
        assert text.startswith("#EXTM3U") and final == origin.url("files/hls/master.m3u8")
        with pytest.raises(PlaylistTooLarge):
            await fetcher.fetch_text(origin.url("files/big.bin"), limit=4096)
        with pytest.raises(UpstreamTimeout):
            await fetcher.fetch_text(origin.url("slow/clip.mp4"), limit=1 << 20)
    finally:
        await fetcher.close()


def test_limiter() -> None:
    limiter = Limiter(total=3, per_user=2)
    with limiter.slot("a"), limiter.slot("a"):
        with pytest.raises(TooManyStreams, match="this user"):
            with limiter.slot("a"):
                pass
        with limiter.slot("b"):
            with pytest.raises(TooManyStreams, match="server"):
                with limiter.slot("c"):
                    pass
    assert limiter.running == 0 and limiter.by_user == {}
