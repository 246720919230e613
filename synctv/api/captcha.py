"""Image captchas (digits drawn as seven-segment glyphs with noise).

Served by the captcha GET endpoints the upstream web client calls on page load; the answers are kept in the
database for five minutes (any instance verifies them) and used once by the e-mail flows.
"""

from __future__ import annotations

import base64
import secrets
import struct
import zlib

WIDTH, HEIGHT = 240, 80
DIGITS = 5
TTL_S = 300.0

# Segments a..g for each digit: top, top-right, bottom-right, bottom, bottom-left, top-left, middle.
_SEGMENTS = {
    "0": "abcdef", "1": "bc", "2": "abged", "3": "abgcd", "4": "fgbc",
    "5": "afgcd", "6": "afgedc", "7": "abc", "8": "abcdefg", "9": "abcdfg",
}


def _png(pixels: bytearray) -> bytes:
    raw = b"".join(b"\x00" + bytes(pixels[y * WIDTH:(y + 1) * WIDTH]) for y in range(HEIGHT))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))

    header = struct.pack("!IIBBBBB", WIDTH, HEIGHT, 8, 0, 0, 0, 0)  # 8-bit grayscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _rect(px: bytearray, x0: int, y0: int, w: int, h: int) -> None:
    for y in range(max(y0, 0), min(y0 + h, HEIGHT)):
        for x in range(max(x0, 0), min(x0 + w, WIDTH)):
            px[y * WIDTH + x] = 30


def render(answer: str) -> bytes:
    px = bytearray(secrets.token_bytes(WIDTH * HEIGHT))
    for i, b in enumerate(px):
        px[i] = 200 + b % 56  # light noisy background
    for i, digit in enumerate(answer):
        x = 20 + i * 42 + secrets.randbelow(6)
        y = 12 + secrets.randbelow(8)
        w, h, t = 24, 26, 5
        seg = _SEGMENTS[digit]
        if "a" in seg:
            _rect(px, x, y, w, t)
        if "b" in seg:
            _rect(px, x + w - t, y, t, h)
        if "c" in seg:
            _rect(px, x + w - t, y + h, t, h)
        if "d" in seg:
            _rect(px, x, y + 2 * h - t, w, t)
        if "e" in seg:
            _rect(px, x, y + h, t, h)
        if "f" in seg:
            _rect(px, x, y, t, h)
        if "g" in seg:
            _rect(px, x, y + h - t // 2, w, t)
    return _png(px)


def challenge() -> tuple[str, str, dict[str, str]]:
    """A new captcha: its id, its answer, and the `{captchaId, captchaBase64}` the client shows."""
    answer = "".join(secrets.choice("0123456789") for _ in range(DIGITS))
    captcha_id = secrets.token_urlsafe(15)
    image = base64.b64encode(render(answer)).decode()
    return captcha_id, answer, {"captchaId": captcha_id, "captchaBase64": f"data:image/png;base64,{image}"}


def store_key(captcha_id: str) -> str:
    return f"captcha:{captcha_id}"
