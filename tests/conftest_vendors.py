"""Pytest plugin with the vendor emulations' fixtures (Alist, Emby/Jellyfin), serving small libraries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.alist_emulator import AlistEmulator
from tests.support.emby_emulator import EmbyEmulator

# What the library holds: a film with two subtitles (and a danmu XML that must not count as one), a locked
# folder and a nested one.
LIBRARY = {
    "movies/clip.mp4": b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64,
    "movies/clip.srt": b"1\n00:00:00,000 --> 00:00:01,000\nhello\n",
    "movies/clip.en.vtt": b"WEBVTT\n\n00:00.000 --> 00:01.000\nhello\n",
    "movies/clip.xml": b"<i></i>",
    "movies/other.mkv": b"\x1aE\xdf\xa3" + b"\x00" * 512,
    "movies/series/s01e01.mp4": b"\x00\x00\x00\x18ftypmp42" + b"\x01" * 512,
    "locked/secret.mp4": b"\x00\x00\x00\x18ftypmp42" + b"\x02" * 512,
}
LOCKED = {"/locked": "open sesame"}
ALIST_USER, ALIST_PASSWORD = "admin", "alist-pass"


def write_library(root: Path) -> Path:
    for rel, data in LIBRARY.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


@pytest.fixture
async def alist(tmp_path: Path) -> AsyncIterator[AlistEmulator]:
    server = await AlistEmulator(write_library(tmp_path / "alist"), {ALIST_USER: ALIST_PASSWORD}, LOCKED).start()
    yield server
    await server.stop()


EMBY_USER, EMBY_PASSWORD = "viewer", "emby-pass"
EMBY_MEDIA = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 32


@pytest.fixture(params=["emby", "jellyfin"])
async def emby(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EmbyEmulator]:
    media = tmp_path / "emby" / "clip.mp4"
    media.parent.mkdir(parents=True)
    media.write_bytes(EMBY_MEDIA)
    media.with_suffix(".mkv").write_bytes(b"\x1aE\xdf\xa3" + b"\x00" * 256)
    server = await EmbyEmulator(media, {EMBY_USER: EMBY_PASSWORD}, flavour=request.param).start()
    yield server
    await server.stop()
