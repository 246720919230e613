"""HLS rewriting: every URI (lines and tag attributes) is proxied, everything else passes through unchanged."""

from __future__ import annotations

from pathlib import Path

from synctv.media.hls import is_playlist, rewrite_playlist, vod_duration

BASE = "https://cdn.example/v/1/index.m3u8?sig=abc"

MASTER = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="keys/session.key",KEYFORMAT="identity"
#EXT-X-SESSION-DATA:DATA-ID="com.example.title",URI="meta.json"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",DEFAULT=YES,URI="audio/en.m3u8"
#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="cc1",INSTREAM-ID="CC1"
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="iframes.m3u8"
#X-VENDOR-UNKNOWN:FOO="bar",URI-LIKE="keep"
# a comment
#EXT-X-STREAM-INF:BANDWIDTH=800000,AUDIO="aud"
low/index.m3u8

#EXT-X-STREAM-INF:BANDWIDTH=2000000
https://other.example/hi/playlist?format=m3u8
"""

MEDIA = """#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:4
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0
#EXT-X-KEY:METHOD=AES-128,URI="../keys/k1.bin",IV=0x1
#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"
#EXTINF:4.0,
seg0.m4s
#EXT-X-KEY:METHOD=NONE
#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://fairplay-key",KEYFORMAT="com.apple.streamingkeydelivery"
#EXT-X-KEY:METHOD=AES-128,URI="data:text/plain;base64,AAECAwQFBgcICQoLDA0ODw=="
#EXT-X-BYTERANGE:1000@720
#EXTINF:4.0,
/abs/seg1.m4s
#EXT-X-PART:DURATION=1.0,URI="part2.0.m4s",INDEPENDENT=YES
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part2.1.m4s"
#EXT-X-RENDITION-REPORT:URI="../low/index.m3u8",LAST-MSN=2
#EXT-X-DATERANGE:ID="ad",START-DATE="2026-01-01T00:00:00Z",X-AD-URI="keep-me"
"""


def fake(url: str, playlist: bool) -> str:
    return f"/p/{'P' if playlist else 'B'}/{url}"


def test_master_every_uri_rewritten() -> None:
    out = rewrite_playlist(MASTER, BASE, fake)
    lines = out.splitlines()
    assert lines[2] == ('#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="/p/B/https://cdn.example/v/1/keys/session.key",'
                        'KEYFORMAT="identity"')
    assert 'URI="/p/B/https://cdn.example/v/1/meta.json"' in lines[3]
    assert 'URI="/p/P/https://cdn.example/v/1/audio/en.m3u8"' in lines[4]
    assert lines[5] == '#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="cc1",INSTREAM-ID="CC1"'
    assert lines[6] == '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="/p/P/https://cdn.example/v/1/iframes.m3u8"'
    assert lines[7] == '#X-VENDOR-UNKNOWN:FOO="bar",URI-LIKE="keep"'  # unknown tags pass through
    assert lines[8] == "# a comment"
    assert lines[10] == "/p/P/https://cdn.example/v/1/low/index.m3u8"
    assert lines[11] == ""
    # variants of a master playlist are playlists even without an .m3u8 extension
    assert lines[13] == "/p/P/https://other.example/hi/playlist?format=m3u8"


def test_media_tags_and_segments_rewritten() -> None:
    out = rewrite_playlist(MEDIA, "https://cdn.example/v/1/hi/index.m3u8", fake).splitlines()
    assert out[4] == '#EXT-X-KEY:METHOD=AES-128,URI="/p/B/https://cdn.example/v/1/keys/k1.bin",IV=0x1'
    assert out[5] == '#EXT-X-MAP:URI="/p/B/https://cdn.example/v/1/hi/init.mp4",BYTERANGE="720@0"'
    assert out[7] == "/p/B/https://cdn.example/v/1/hi/seg0.m4s"
    assert out[8] == "#EXT-X-KEY:METHOD=NONE"
    assert 'URI="skd://fairplay-key"' in out[9]  # not fetched over HTTP by the player: left alone
    assert 'URI="data:text/plain;base64,' in out[10]
    assert out[11] == "#EXT-X-BYTERANGE:1000@720"
    assert out[13] == "/p/B/https://cdn.example/abs/seg1.m4s"
    assert out[14] == '#EXT-X-PART:DURATION=1.0,URI="/p/B/https://cdn.example/v/1/hi/part2.0.m4s",INDEPENDENT=YES'
    assert out[15] == '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="/p/B/https://cdn.example/v/1/hi/part2.1.m4s"'
    assert out[16] == '#EXT-X-RENDITION-REPORT:URI="/p/P/https://cdn.example/v/1/low/index.m3u8",LAST-MSN=2'
    assert out[17].endswith('X-AD-URI="keep-me"')  # an X- attribute that merely ends in URI is not a URI
    assert out[3] == MEDIA.splitlines()[3]


def test_ffmpeg_playlists(media_root: Path) -> None:
    for rel in ("hls/aes/index.m3u8", "hls/fmp4/index.m3u8", "hls/master.m3u8"):
        text = (media_root / rel).read_text()
        out = rewrite_playlist(text, f"http://origin.test/{rel}", fake)
        uris = [line for line in out.splitlines() if line and not line.startswith("#")]
        assert uris and all(u.startswith("/p/") for u in uris)
        assert all(line.startswith("/p/") or line.startswith("#") or not line for line in out.splitlines())
        for line in out.splitlines():
            if 'URI="' in line:
                assert 'URI="/p/B/http://origin.test/hls/' in line, line
        # same lines in the same order; tags without a URI are untouched
        assert len(out.splitlines()) == len(text.splitlines())
        for before, after in zip(text.splitlines(), out.splitlines(), strict=True):
            if before.startswith("#") and 'URI="' not in before:
                assert after == before


def test_is_playlist() -> None:
    assert is_playlist("m3u8", "https://x/a")
    assert is_playlist("", "https://x/a.M3U8?x=1")
    assert is_playlist("", "https://x/a", "application/vnd.apple.mpegurl; charset=utf-8")
    assert is_playlist("", "https://x/a", "", "\ufeff#EXTM3U\n")
    assert not is_playlist("mp4", "https://x/a.mp4", "video/mp4", "\x00\x00\x00 ftyp")


VOD = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:4
#EXT-X-PLAYLIST-TYPE:VOD
#EXTINF:4.004,
seg0.ts
#EXTINF:4,title with, a comma
seg1.ts
#EXT-X-DISCONTINUITY
#EXTINF:1.5
seg2.ts
#EXT-X-ENDLIST
"""


def test_a_complete_vod_playlist_gives_its_length() -> None:
    assert vod_duration(VOD) == 9.504
    assert vod_duration(VOD.replace("\n", "\r\n")) == 9.504


def test_no_length_from_a_growing_multivariant_empty_or_malformed_playlist() -> None:
    assert vod_duration(VOD.replace("#EXT-X-ENDLIST\n", "")) is None  # live / event: still growing
    assert vod_duration(MASTER) is None
    assert vod_duration("#EXTM3U\n#EXT-X-ENDLIST\n") is None
    assert vod_duration(VOD.replace("#EXTINF:1.5", "#EXTINF:abc")) is None
    assert vod_duration(VOD.replace("#EXTINF:4.004,", "#EXTINF:-4,")) is None
