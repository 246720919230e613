"""Pytest plugin with media proxy fixtures: ffmpeg-made media (once per session) and a loopback origin."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.media_origin import MediaFiles, MediaOrigin, make_media


@pytest.fixture(scope="session")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> MediaFiles:
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is required for the media proxy tests (apt-get install ffmpeg)")
    return make_media(tmp_path_factory.mktemp("media"))


@pytest.fixture
async def origin(media_files: MediaFiles) -> AsyncIterator[MediaOrigin]:
    server = await MediaOrigin(media_files).start()
    yield server
    await server.stop()


@pytest.fixture
def media_root(media_files: MediaFiles) -> Path:
    return media_files.root
