"""HLS from a channel's tags: TS segments cut on keyframes, a sliding window, discontinuities on reconnect.

Segment ids are random (128 bits) so that the unauthenticated segment URLs cannot be guessed; a segment is
addressed by room, movie and id together.
"""

from __future__ import annotations

import math
import secrets
import struct
import zlib
from collections import OrderedDict
from dataclasses import dataclass

from synctv.live.flv import AUDIO, VIDEO, Tag
from synctv.live.ts import TsMuxer


def _png_1x1_grey() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


# Served before the TS bytes in disguise mode (upstream's `ts_disguised_as_png`); clients strip it.
PNG_PREFIX = _png_1x1_grey()


@dataclass(frozen=True, slots=True)
class Segment:
    id: str
    seq: int
    duration: float
    data: bytes
    discontinuity: bool


class Segmenter:
    def __init__(self, *, target_s: float = 2.0, window: int = 6, keep: int = 10,
                 max_segment_bytes: int = 32 * 1024 * 1024) -> None:
        self.target_ms = int(target_s * 1000)
        self.window = window
        self.keep = max(keep, window)
        self.max_segment_bytes = max_segment_bytes
        self.muxer = TsMuxer()
        self.segments: OrderedDict[str, Segment] = OrderedDict()
        self._buf = bytearray()
        self._start_ts: int | None = None
        self._last_ts = 0
        self._seq = 0
        self._discontinuity = False
        self._discontinuity_seq = 0  # discontinuities that slid out of the window
        self._target_seen = 1
        self._has_video = False

    def restart(self) -> None:
        """A new publisher session: the open segment is closed, and the next one follows a discontinuity."""
        self._cut(self._last_ts)
        self._discontinuity = bool(self.segments)
        self.muxer = TsMuxer()
        self._has_video = False

    def feed(self, tag: Tag) -> Segment | None:
        """Returns the segment this tag closed, if any."""
        if tag.is_sequence_header:
            self.muxer.configure(tag)
            return None
        if tag.kind == VIDEO:
            self._has_video = True
        closed = None
        cut_here = (tag.is_keyframe if self._has_video else tag.kind == AUDIO)
        if self._start_ts is not None and cut_here and tag.timestamp - self._start_ts >= self.target_ms:
            closed = self._cut(tag.timestamp)
        if self._start_ts is None:
            if self._has_video and not tag.is_keyframe:
                return closed  # a segment starts on a keyframe
            self._start_ts = tag.timestamp
            self._buf += self.muxer.tables()
        self._buf += self.muxer.mux(tag)
        self._last_ts = max(self._last_ts, tag.timestamp)
        if len(self._buf) > self.max_segment_bytes:
            closed = self._cut(tag.timestamp)
        return closed

    def _cut(self, end_ts: int) -> Segment | None:
        if self._start_ts is None or not self._buf:
            self._buf.clear()
            self._start_ts = None
            return None
        duration = max(end_ts - self._start_ts, 1) / 1000
        seg = Segment(secrets.token_hex(16), self._seq, duration, bytes(self._buf), self._discontinuity)
        self._seq += 1
        self._discontinuity = False
        self._buf.clear()
        self._start_ts = None
        self._target_seen = max(self._target_seen, math.ceil(duration))
        self.segments[seg.id] = seg
        while len(self.segments) > self.keep:
            _, old = self.segments.popitem(last=False)
            if old.discontinuity:
                self._discontinuity_seq += 1
        return seg

    def add(self, seg: Segment) -> None:
        """A segment cut elsewhere (a relayed channel): same id, same sequence number."""
        self.segments[seg.id] = seg
        self._seq = seg.seq + 1
        self._target_seen = max(self._target_seen, math.ceil(seg.duration))
        while len(self.segments) > self.keep:
            _, old = self.segments.popitem(last=False)
            if old.discontinuity:
                self._discontinuity_seq += 1

    def playlist(self, uri: str) -> str | None:
        """The m3u8 with `uri.format(id=...)` for each segment; None before the first segment."""
        listed = list(self.segments.values())[-self.window:]
        if not listed:
            return None
        hidden = list(self.segments.values())[:-self.window]
        disc_seq = self._discontinuity_seq + sum(1 for s in hidden if s.discontinuity)
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{self._target_seen}",
                 f"#EXT-X-MEDIA-SEQUENCE:{listed[0].seq}", f"#EXT-X-DISCONTINUITY-SEQUENCE:{disc_seq}"]
        for seg in listed:
            if seg.discontinuity:
                lines.append("#EXT-X-DISCONTINUITY")
            lines.append(f"#EXTINF:{seg.duration:.3f},")
            lines.append(uri.format(id=seg.id))
        return "\n".join(lines) + "\n"
