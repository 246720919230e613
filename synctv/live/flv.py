"""FLV tags: the unit a channel carries (RTMP audio/video/data messages are FLV tag bodies), their codec
inspection, and the HTTP-FLV byte stream."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

AUDIO, VIDEO, DATA = 8, 9, 18
CODEC_AVC, CODEC_HEVC = 7, 12
SOUND_AAC = 10
FILE_HEADER = b"FLV\x01\x05\x00\x00\x00\x09" + b"\x00\x00\x00\x00"  # audio+video, then PreviousTagSize0


class CodecError(ValueError):
    """A stream this server cannot carry (e.g. HEVC, or audio other than AAC)."""


@dataclass(frozen=True)
class Tag:
    kind: int  # AUDIO, VIDEO or DATA
    timestamp: int  # ms (DTS)
    body: bytes

    @cached_property
    def encoded(self) -> bytes:
        """The tag as HTTP-FLV bytes, made once however many viewers it goes to."""
        return encode_tag(self)

    @property
    def is_keyframe(self) -> bool:
        return self.kind == VIDEO and len(self.body) > 1 and self.body[0] >> 4 == 1 and not self.is_sequence_header

    @property
    def is_sequence_header(self) -> bool:
        """AVC decoder configuration or AAC AudioSpecificConfig: needed before any frame can be decoded."""
        if len(self.body) < 2:
            return False
        if self.kind == VIDEO:
            return self.body[0] & 0x0F == CODEC_AVC and self.body[1] == 0
        if self.kind == AUDIO:
            return self.body[0] >> 4 == SOUND_AAC and self.body[1] == 0
        return False

    def with_timestamp(self, ts: int) -> Tag:
        return Tag(self.kind, ts, self.body)


def check_codec(tag: Tag) -> None:
    """Refuse what the HLS muxer and the players cannot carry, with a message a streamer can act on."""
    if not tag.body:
        return
    if tag.kind == VIDEO:
        first = tag.body[0]
        if first & 0x80 or first & 0x0F == CODEC_HEVC:
            raise CodecError("HEVC (and enhanced-RTMP codecs) are not supported: publish H.264 video")
        if first & 0x0F != CODEC_AVC:
            raise CodecError(f"video codec {first & 0x0F} is not supported: publish H.264 video")
    elif tag.kind == AUDIO and tag.body[0] >> 4 != SOUND_AAC:
        raise CodecError(f"audio format {tag.body[0] >> 4} is not supported: publish AAC audio")


def encode_tag(tag: Tag) -> bytes:
    size = len(tag.body)
    ts = tag.timestamp & 0xFFFFFFFF
    header = (bytes([tag.kind]) + size.to_bytes(3, "big") + (ts & 0xFFFFFF).to_bytes(3, "big")
              + bytes([ts >> 24]) + b"\x00\x00\x00")
    return header + tag.body + (size + 11).to_bytes(4, "big")


class TagReader:
    """Incremental FLV stream parser (for pulled HTTP-FLV sources): bytes in, tags out."""

    MAX_TAG = 16 * 1024 * 1024

    def __init__(self) -> None:
        self._buf = bytearray()
        self._header_done = False

    def feed(self, data: bytes) -> list[Tag]:
        self._buf += data
        out: list[Tag] = []
        if not self._header_done:
            if len(self._buf) < 13:
                return out
            if self._buf[:3] != b"FLV":
                raise CodecError("not an FLV stream")
            offset = int.from_bytes(self._buf[5:9], "big")
            if len(self._buf) < offset + 4:
                return out
            del self._buf[:offset + 4]
            self._header_done = True
        while len(self._buf) >= 11:
            size = int.from_bytes(self._buf[1:4], "big")
            if size > self.MAX_TAG:
                raise CodecError("FLV tag too large")
            if len(self._buf) < 11 + size + 4:
                break
            kind = self._buf[0] & 0x1F
            ts = int.from_bytes(self._buf[4:7], "big") | (self._buf[7] << 24)
            body = bytes(self._buf[11:11 + size])
            del self._buf[:11 + size + 4]
            if kind in (AUDIO, VIDEO, DATA):
                out.append(Tag(kind, ts, body))
        return out
