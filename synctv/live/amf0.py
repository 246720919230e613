"""AMF0, the value encoding of RTMP commands and stream metadata (numbers, booleans, strings, objects)."""

from __future__ import annotations

import struct
from typing import Any

NUMBER, BOOLEAN, STRING, OBJECT, NULL, UNDEFINED, ECMA_ARRAY, OBJECT_END, STRICT_ARRAY, DATE, LONG_STRING = (
    0, 1, 2, 3, 5, 6, 8, 9, 10, 11, 12)
MAX_DEPTH = 16


class AmfError(ValueError):
    pass


class Undefined:
    """AMF0 `undefined`, distinct from `null` (None)."""


UNDEF = Undefined()


def _string(data: bytes, pos: int, size_len: int) -> tuple[str, int]:
    if pos + size_len > len(data):
        raise AmfError("truncated string length")
    n = int.from_bytes(data[pos:pos + size_len], "big")
    pos += size_len
    if pos + n > len(data):
        raise AmfError("truncated string")
    return data[pos:pos + n].decode("utf-8", "replace"), pos + n


def _props(data: bytes, pos: int, depth: int) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    while True:
        key, pos = _string(data, pos, 2)
        if pos >= len(data):
            raise AmfError("truncated object")
        if not key and data[pos] == OBJECT_END:
            return out, pos + 1
        out[key], pos = _value(data, pos, depth + 1)


def _value(data: bytes, pos: int, depth: int = 0) -> tuple[Any, int]:
    if depth > MAX_DEPTH:
        raise AmfError("AMF value nested too deeply")
    if pos >= len(data):
        raise AmfError("truncated value")
    marker, pos = data[pos], pos + 1
    if marker == NUMBER:
        if pos + 8 > len(data):
            raise AmfError("truncated number")
        return struct.unpack_from(">d", data, pos)[0], pos + 8
    if marker == BOOLEAN:
        if pos >= len(data):
            raise AmfError("truncated boolean")
        return data[pos] != 0, pos + 1
    if marker == STRING:
        return _string(data, pos, 2)
    if marker == LONG_STRING:
        return _string(data, pos, 4)
    if marker == OBJECT:
        return _props(data, pos, depth)
    if marker == ECMA_ARRAY:
        return _props(data, pos + 4, depth)
    if marker == STRICT_ARRAY:
        if pos + 4 > len(data):
            raise AmfError("truncated array")
        count, pos = int.from_bytes(data[pos:pos + 4], "big"), pos + 4
        if count > len(data):
            raise AmfError("array longer than its message")
        items = []
        for _ in range(count):
            item, pos = _value(data, pos, depth + 1)
            items.append(item)
        return items, pos
    if marker == NULL:
        return None, pos
    if marker == UNDEFINED:
        return UNDEF, pos
    if marker == DATE:
        if pos + 10 > len(data):
            raise AmfError("truncated date")
        return struct.unpack_from(">d", data, pos)[0], pos + 10
    raise AmfError(f"unsupported AMF0 marker {marker}")


def decode_all(data: bytes) -> list[Any]:
    values: list[Any] = []
    pos = 0
    while pos < len(data):
        value, pos = _value(data, pos)
        values.append(value)
    return values


def _enc_string(s: str) -> bytes:
    raw = s.encode()
    if len(raw) > 0xFFFF:
        return bytes([LONG_STRING]) + len(raw).to_bytes(4, "big") + raw
    return bytes([STRING]) + len(raw).to_bytes(2, "big") + raw


def encode(value: Any) -> bytes:
    if value is None:
        return bytes([NULL])
    if isinstance(value, Undefined):
        return bytes([UNDEFINED])
    if isinstance(value, bool):
        return bytes([BOOLEAN, int(value)])
    if isinstance(value, (int, float)):
        return bytes([NUMBER]) + struct.pack(">d", float(value))
    if isinstance(value, str):
        return _enc_string(value)
    if isinstance(value, dict):
        out = bytearray([OBJECT])
        for k, v in value.items():
            key = str(k).encode()
            out += len(key).to_bytes(2, "big") + key + encode(v)
        out += b"\x00\x00" + bytes([OBJECT_END])
        return bytes(out)
    if isinstance(value, (list, tuple)):
        out = bytearray([STRICT_ARRAY]) + len(value).to_bytes(4, "big")
        for v in value:
            out += encode(v)
        return bytes(out)
    raise TypeError(f"cannot encode {type(value).__name__} as AMF0")


def encode_all(*values: Any) -> bytes:
    return b"".join(encode(v) for v in values)
