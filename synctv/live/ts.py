"""A small MPEG-TS muxer for H.264 + AAC FLV tags (no transcoding): what an HLS segment is made of.

FLV carries H.264 as length-prefixed NAL units (AVCC) with the parameter sets in a sequence header, and AAC as
raw frames with an AudioSpecificConfig; TS wants Annex B start codes (parameter sets repeated on keyframes) and
ADTS-framed AAC.
"""

from __future__ import annotations

from synctv.live.flv import AUDIO, VIDEO, Tag

PACKET = 188
PMT_PID, VIDEO_PID, AUDIO_PID = 0x1000, 0x100, 0x101
STREAM_H264, STREAM_AAC = 0x1B, 0x0F
_AUD = b"\x00\x00\x00\x01\x09\xf0"
_START = b"\x00\x00\x00\x01"


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return table


_CRC = _crc_table()


def crc32_mpeg(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[((crc >> 24) ^ b) & 0xFF]
    return crc


class AvcConfig:
    """The parts of an AVCDecoderConfigurationRecord a muxer needs: NAL length size and SPS/PPS."""

    def __init__(self, record: bytes) -> None:
        if len(record) < 7 or record[0] != 1:
            raise ValueError("bad AVC decoder configuration")
        self.length_size = (record[4] & 0x03) + 1
        pos, params = 5, bytearray()
        for count_mask in (0x1F, 0xFF):
            if pos >= len(record):
                raise ValueError("bad AVC decoder configuration")
            count, pos = record[pos] & count_mask, pos + 1
            for _ in range(count):
                n = int.from_bytes(record[pos:pos + 2], "big")
                pos += 2
                if pos + n > len(record):
                    raise ValueError("bad AVC decoder configuration")
                params += _START + record[pos:pos + n]
                pos += n
        self.parameter_sets = bytes(params)


class AacConfig:
    def __init__(self, asc: bytes) -> None:
        if len(asc) < 2:
            raise ValueError("bad AudioSpecificConfig")
        self.object_type = asc[0] >> 3
        self.freq_index = ((asc[0] & 0x07) << 1) | (asc[1] >> 7)
        self.channels = (asc[1] >> 3) & 0x0F
        if self.object_type in (0, 31) or self.freq_index > 12:
            raise ValueError("unsupported AudioSpecificConfig")

    def adts(self, frame_len: int) -> bytes:
        full = frame_len + 7
        profile = self.object_type - 1
        return bytes([
            0xFF, 0xF1,
            (profile << 6) | (self.freq_index << 2) | (self.channels >> 2),
            ((self.channels & 3) << 6) | (full >> 11),
            (full >> 3) & 0xFF,
            ((full & 7) << 5) | 0x1F,
            0xFC,
        ])


def _ts_field(prefix: int, value: int) -> bytes:
    value &= (1 << 33) - 1
    return bytes([
        (prefix << 4) | (((value >> 30) & 0x07) << 1) | 1,
        (value >> 22) & 0xFF, (((value >> 15) & 0x7F) << 1) | 1,
        (value >> 7) & 0xFF, ((value & 0x7F) << 1) | 1,
    ])


class TsMuxer:
    """FLV tags in, TS bytes out. Continuity counters run across segments, as players expect."""

    def __init__(self) -> None:
        self._cc: dict[int, int] = {}
        self.avc: AvcConfig | None = None
        self.aac: AacConfig | None = None

    def configure(self, tag: Tag) -> None:
        """Take a sequence header (raises ValueError on a malformed one)."""
        if tag.kind == VIDEO:
            self.avc = AvcConfig(tag.body[5:])
        elif tag.kind == AUDIO:
            self.aac = AacConfig(tag.body[2:])

    def _next_cc(self, pid: int) -> int:
        cc = self._cc.get(pid, 15)
        cc = (cc + 1) & 0x0F
        self._cc[pid] = cc
        return cc

    def _section(self, pid: int, section: bytes) -> bytes:
        body = b"\x00" + section + crc32_mpeg(section).to_bytes(4, "big")
        header = bytes([0x47, 0x40 | (pid >> 8), pid & 0xFF, 0x10 | self._next_cc(pid)])
        return header + body + b"\xff" * (PACKET - 4 - len(body))

    def tables(self) -> bytes:
        pat = bytes([0x00, 0xB0, 13, 0x00, 0x01, 0xC1, 0x00, 0x00, 0x00, 0x01, 0xE0 | (PMT_PID >> 8),
                     PMT_PID & 0xFF])
        streams = bytearray()
        if self.avc is not None:
            streams += bytes([STREAM_H264, 0xE0 | (VIDEO_PID >> 8), VIDEO_PID & 0xFF, 0xF0, 0x00])
        if self.aac is not None:
            streams += bytes([STREAM_AAC, 0xE0 | (AUDIO_PID >> 8), AUDIO_PID & 0xFF, 0xF0, 0x00])
        pcr_pid = VIDEO_PID if self.avc is not None else AUDIO_PID
        length = 9 + len(streams) + 4
        pmt = bytes([0x02, 0xB0 | (length >> 8), length & 0xFF, 0x00, 0x01, 0xC1, 0x00, 0x00,
                     0xE0 | (pcr_pid >> 8), pcr_pid & 0xFF, 0xF0, 0x00]) + streams
        return self._section(0, pat) + self._section(PMT_PID, pmt)

    def mux(self, tag: Tag) -> bytes:
        """One audio or video frame as TS packets ("" for what TS does not carry)."""
        if tag.kind == VIDEO and self.avc is not None and len(tag.body) > 5 and tag.body[1] == 1:
            cts = int.from_bytes(tag.body[2:5], "big", signed=True)
            payload = self._annexb(tag.body[5:], tag.body[0] >> 4 == 1)
            dts = tag.timestamp * 90
            return self._pes(VIDEO_PID, 0xE0, payload, dts + cts * 90, dts, pcr=True)
        if tag.kind == AUDIO and self.aac is not None and len(tag.body) > 2 and tag.body[1] == 1:
            frame = tag.body[2:]
            pts = tag.timestamp * 90
            return self._pes(AUDIO_PID, 0xC0, self.aac.adts(len(frame)) + frame, pts, pts,
                             pcr=self.avc is None)
        return b""

    def _annexb(self, data: bytes, keyframe: bool) -> bytes:
        assert self.avc is not None
        n = self.avc.length_size
        out = bytearray(_AUD)
        if keyframe:
            out += self.avc.parameter_sets
        pos = 0
        while pos + n <= len(data):
            size = int.from_bytes(data[pos:pos + n], "big")
            pos += n
            if size == 0 or pos + size > len(data):
                break
            nal_type = data[pos] & 0x1F
            if nal_type != 9:  # our own AUD already leads the access unit
                out += _START + data[pos:pos + size]
            pos += size
        return bytes(out)

    def _pes(self, pid: int, stream_id: int, payload: bytes, pts: int, dts: int, *, pcr: bool) -> bytes:
        pts += 63000  # a 0.7 s lead keeps PTS >= PCR-based decode start for B-frames
        dts += 63000
        if pts != dts:
            header = b"\x80\xc0\x0a" + _ts_field(3, pts) + _ts_field(1, dts)
        else:
            header = b"\x80\x80\x05" + _ts_field(2, pts)
        pes_len = len(header) + len(payload)
        length = pes_len if pes_len <= 0xFFFF and stream_id != 0xE0 else 0
        data = b"\x00\x00\x01" + bytes([stream_id]) + length.to_bytes(2, "big") + header + payload
        out = bytearray()
        pos, first = 0, True
        while pos < len(data):
            af: bytes | None = None  # the adaptation field after its length byte
            if first and pcr:
                base = max(dts - 63000 + 45000, 0) & ((1 << 33) - 1)  # PCR a little behind the first DTS
                af = bytes([0x10, (base >> 25) & 0xFF, (base >> 17) & 0xFF, (base >> 9) & 0xFF,
                            (base >> 1) & 0xFF, ((base & 1) << 7) | 0x7E, 0x00])
            room = PACKET - 4 - (1 + len(af) if af is not None else 0)
            remaining = len(data) - pos
            if remaining < room:
                stuff = room - remaining
                if af is not None:
                    af += b"\xff" * stuff
                elif stuff == 1:
                    af = b""
                else:
                    af = b"\x00" + b"\xff" * (stuff - 2)
                room = remaining
            chunk = data[pos:pos + room]
            out += self._packet(pid, first, b"" if af is None else bytes([len(af)]) + af, chunk)
            pos += room
            first = False
        return bytes(out)

    def _packet(self, pid: int, start: bool, af: bytes, payload: bytes) -> bytes:
        control = 0x30 if af else 0x10
        header = bytes([0x47, (0x40 if start else 0) | (pid >> 8), pid & 0xFF, control | self._next_cc(pid)])
        packet = header + af + payload
        if len(packet) != PACKET:
            raise AssertionError(f"TS packet of {len(packet)} bytes")
        return packet
