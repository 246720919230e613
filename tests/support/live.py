"""Live-stream helpers for tests and benchmarks: ffmpeg as the RTMP publisher and as the player."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass


def publish_args(url: str, seconds: float, *, size: str = "320x240", fps: int = 25, gop: int = 25) -> list[str]:
    """A lavfi test picture and a tone, H.264 + AAC, in real time, to `url` (rtmp://...)."""
    return ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", f"testsrc=size={size}:rate={fps}",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", str(gop),
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-t", str(seconds), "-f", "flv", url]


@dataclass
class Proc:
    rc: int
    out: str
    err: str


async def run(args: list[str], timeout: float = 60.0) -> Proc:
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Proc(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


async def start(args: list[str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)


async def decoded_frames(url: str, seconds: float = 3.0, timeout: float = 60.0) -> dict[str, int]:
    """Decode `seconds` of `url` with ffprobe; frames read per stream type (video/audio)."""
    proc = await run(["ffprobe", "-hide_banner", "-v", "error", "-count_frames", "-read_intervals",
                      f"%+{seconds}", "-show_entries", "stream=codec_type,codec_name,nb_read_frames",
                      "-of", "compact=p=0:nk=0", url], timeout)
    assert proc.rc == 0, proc.err
    frames: dict[str, int] = {}
    for line in proc.out.splitlines():
        fields = dict(kv.split("=", 1) for kv in line.split("|") if "=" in kv)
        if fields.get("nb_read_frames", "N/A").isdigit():
            frames[fields["codec_type"]] = int(fields["nb_read_frames"])
            frames[fields["codec_type"] + "_codec"] = 0 if fields.get("codec_name") in ("h264", "aac") else -1
    return frames


def strip_png(data: bytes) -> bytes:
    """The TS bytes after a PNG prefix (everything after the IEND chunk)."""
    match = re.search(rb"IEND\xaeB`\x82", data)
    assert match is not None and data.startswith(b"\x89PNG"), "no PNG prefix"
    return data[match.end():]
