"""AMF0, FLV tags, the TS muxer and the HLS segmenter, on hand-made inputs."""

from __future__ import annotations

import asyncio

import pytest

from synctv.live import amf0, flv
from synctv.live.channel import Channel, Publisher
from synctv.live.flv import Tag
from synctv.live.hls import PNG_PREFIX, Segmenter
from synctv.live.keys import PublishKeyError, PublishKeys
from synctv.live.ts import PACKET, TsMuxer, crc32_mpeg

SPS = bytes.fromhex("6742c01e95a0a0fc8840")
PPS = bytes.fromhex("68ce3c80")
AVC_RECORD = bytes([1, 0x42, 0xC0, 0x1E, 0xFF, 0xE1]) + len(SPS).to_bytes(2, "big") + SPS + b"\x01" + \
    len(PPS).to_bytes(2, "big") + PPS
VIDEO_HEADER = Tag(flv.VIDEO, 0, b"\x17\x00\x00\x00\x00" + AVC_RECORD)
AUDIO_HEADER = Tag(flv.AUDIO, 0, b"\xaf\x00\x12\x10")  # AAC LC, 44.1 kHz, stereo


def video(ts: int, key: bool, size: int = 300) -> Tag:
    nal = bytes([0x65 if key else 0x41]) + b"\x88" * size
    return Tag(flv.VIDEO, ts, bytes([0x17 if key else 0x27, 1, 0, 0, 0]) + len(nal).to_bytes(4, "big") + nal)


def audio(ts: int) -> Tag:
    return Tag(flv.AUDIO, ts, b"\xaf\x01" + b"\x21" * 200)


def test_amf0_round_trip_and_bad_input() -> None:
    values = ["connect", 1.0, {"app": "room", "n": None, "ok": True, "nested": {"a": [1.0, "x"]}}, None]
    assert amf0.decode_all(amf0.encode_all(*values)) == values
    for bad in (b"\x02\x00\x05ab", b"\x00\x01", b"\x03\x00\x01a", b"\x42", b"\x0a\xff\xff\xff\xff"):
        with pytest.raises(amf0.AmfError):
            amf0.decode_all(bad)
    deep = b"\x03\x00\x01a" * 40
    with pytest.raises(amf0.AmfError):
        amf0.decode_all(deep)


def test_flv_tags_round_trip_through_the_reader() -> None:
    tags = [VIDEO_HEADER, AUDIO_HEADER, video(0, True), audio(23), video(40, False), Tag(flv.VIDEO, 2 ** 25, b"\x27")]
    stream = flv.FILE_HEADER + b"".join(flv.encode_tag(t) for t in tags)
    reader = flv.TagReader()
    out = []
    for i in range(0, len(stream), 7):  # arbitrary splits
        out += reader.feed(stream[i:i + 7])
    assert out == tags
    with pytest.raises(flv.CodecError):
        flv.TagReader().feed(b"NOTFLV" + b"\x00" * 20)


def test_codec_checks_refuse_hevc_and_non_aac() -> None:
    flv.check_codec(video(0, True))
    flv.check_codec(audio(0))
    for tag, why in ((Tag(flv.VIDEO, 0, b"\x1c\x00\x00\x00\x00"), "HEVC"),
                     (Tag(flv.VIDEO, 0, b"\x90hvc1"), "HEVC"),  # enhanced RTMP header
                     (Tag(flv.VIDEO, 0, b"\x12\x00"), "video codec 2"),
                     (Tag(flv.AUDIO, 0, b"\x2f\x00"), "audio format 2")):
        with pytest.raises(flv.CodecError, match=why):
            flv.check_codec(tag)


def test_ts_muxer_packets_tables_and_annexb() -> None:
    mux = TsMuxer()
    mux.configure(VIDEO_HEADER)
    mux.configure(AUDIO_HEADER)
    data = mux.tables() + mux.mux(video(0, True, size=1000)) + mux.mux(audio(10)) + mux.mux(video(40, False, 5))
    assert len(data) % PACKET == 0
    assert all(data[i] == 0x47 for i in range(0, len(data), PACKET))
    assert b"\x00\x00\x00\x01" + SPS in data and b"\x00\x00\x00\x01" + PPS in data  # parameter sets on keyframes
    assert b"\xff\xf1" in data  # ADTS
    # the PAT's CRC checks out
    pat = data[5:5 + 12]
    assert crc32_mpeg(pat).to_bytes(4, "big") == data[17:21]
    with pytest.raises(ValueError):
        TsMuxer().configure(Tag(flv.VIDEO, 0, b"\x17\x00\x00\x00\x00\x02"))


def test_segmenter_cuts_on_keyframes_slides_and_marks_discontinuities() -> None:
    seg = Segmenter(target_s=1.0, window=3, keep=4)
    seg.feed(VIDEO_HEADER)
    seg.feed(AUDIO_HEADER)
    ts = 0
    for second in range(8):
        for frame in range(25):
            seg.feed(video(ts, frame == 0))
            ts += 40
        del second
    seg.restart()
    for frame in range(60):
        seg.feed(video(ts, frame % 25 == 0))
        ts += 40
    text = seg.playlist("/x/{id}.ts")
    assert text is not None
    lines = text.splitlines()
    assert "#EXT-X-TARGETDURATION:1" in lines
    assert len(seg.segments) == 4
    ids = list(seg.segments)
    assert all(len(i) == 32 for i in ids) and len(set(ids)) == 4
    assert f"/x/{ids[-1]}.ts" in lines and f"/x/{ids[0]}.ts" not in lines  # window of 3 out of 4 kept
    assert "#EXT-X-DISCONTINUITY" in lines
    first = next(s for s in seg.segments.values() if s.id in text)
    assert f"#EXT-X-MEDIA-SEQUENCE:{first.seq}" in lines
    assert Segmenter().playlist("/{id}") is None


async def test_channel_gop_cache_bounded_viewers_and_monotonic_timestamps() -> None:
    ch = Channel("r" * 32, "m" * 32)
    cut: list[str] = []
    pub = Publisher("k", "peer", cut.append)
    ch.attach(pub)
    ch.push(VIDEO_HEADER)
    ch.push(AUDIO_HEADER)
    for i in range(30):
        ch.push(video(1000 + i * 40, i % 25 == 0))
    viewer = ch.subscribe()
    first = [await viewer.next() for _ in range(3)]
    kinds = [t.kind for t in first if t]
    assert kinds[:2] == [flv.VIDEO, flv.AUDIO] and first[2] is not None and first[2].is_keyframe
    last = ch._last_out
    ch.detach(pub)
    ch.attach(Publisher("k", "peer2", cut.append))
    ch.push(VIDEO_HEADER.with_timestamp(5))
    ch.push(video(5, True))
    assert ch._last_out > last  # a new session continues the timeline
    slow = ch.subscribe()
    slow.max_bytes = 1000
    for i in range(20):
        ch.push(video(2000 + i * 40, False))
    assert slow.dropped and slow not in ch.viewers
    ch.close("movie deleted")
    assert cut == ["movie deleted"]
    assert await asyncio.wait_for(viewer.next(), 1) is not None  # queued tags drain, then the end
    while (await asyncio.wait_for(viewer.next(), 1)) is not None:
        pass


def test_publish_keys() -> None:
    keys = PublishKeys("secret", 60)
    token, key = keys.mint("r" * 32, "m" * 32)
    assert keys.parse(token) == key and keys.parse("Bearer " + token) == key
    with pytest.raises(PublishKeyError, match="invalid"):
        PublishKeys("other", 60).parse(token)
    expired, _ = keys.mint("r" * 32, "m" * 32, now=0)
    with pytest.raises(PublishKeyError, match="expired"):
        keys.parse(expired)
    with pytest.raises(PublishKeyError):
        keys.parse("not-a-jwt")


def test_png_prefix_is_a_png() -> None:
    assert PNG_PREFIX.startswith(b"\x89PNG\r\n\x1a\n") and PNG_PREFIX.endswith(b"IEND\xaeB`\x82")
