"""One live movie's channel: its publisher session, the GOP cache, FLV viewers and the HLS segmenter.

The publisher side is synchronous (`push` never waits on a viewer): each viewer has a bounded queue, and a
viewer that falls further behind than its budget is dropped rather than let memory grow.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from synctv.live import flv
from synctv.live.flv import Tag
from synctv.live.hls import Segment, Segmenter

log = logging.getLogger(__name__)

GOP_CACHE_MAX_BYTES = 16 * 1024 * 1024
VIEWER_MAX_BYTES = 8 * 1024 * 1024


class ChannelClosed(Exception):
    pass


@dataclass
class Counters:
    bytes_in: int = 0
    bytes_out: int = 0
    publishes: int = 0


class Viewer:
    """A bounded queue of encoded FLV tags for one HTTP-FLV (or RTMP) viewer."""

    def __init__(self, max_bytes: int = VIEWER_MAX_BYTES) -> None:
        self._queue: asyncio.Queue[Tag | None] = asyncio.Queue()
        self._bytes = 0
        self.max_bytes = max_bytes
        self.dropped = False

    def offer(self, tag: Tag) -> bool:
        if self.dropped:
            return False
        if self._bytes + len(tag.body) > self.max_bytes:
            self.dropped = True
            self._queue.put_nowait(None)
            return False
        self._bytes += len(tag.body)
        self._queue.put_nowait(tag)
        return True

    def end(self) -> None:
        self._queue.put_nowait(None)

    async def next(self) -> Tag | None:
        tag = await self._queue.get()
        if tag is not None:
            self._bytes -= len(tag.body)
        return tag

    async def next_batch(self) -> list[Tag] | None:
        """Every tag queued (waiting for one); None at the end. One write per batch, not one per tag."""
        first = await self.next()
        if first is None:
            return None
        batch = [first]
        while not self._queue.empty():
            tag = self._queue.get_nowait()
            if tag is None:
                self._queue.put_nowait(None)  # the end comes after this batch
                break
            self._bytes -= len(tag.body)
            batch.append(tag)
        return batch


@dataclass
class Publisher:
    """Who feeds the channel; `cut` closes its connection."""

    key_id: str
    remote: str
    cut: Callable[[str], None]


@dataclass
class Channel:
    room_id: str
    movie_id: str
    segmenter: Segmenter = field(default_factory=Segmenter)
    counters: Counters = field(default_factory=Counters)
    publisher: Publisher | None = None
    closed: bool = False
    metadata: Tag | None = None
    video_header: Tag | None = None
    audio_header: Tag | None = None
    gop: list[Tag] = field(default_factory=list)
    gop_bytes: int = 0
    viewers: set[Viewer] = field(default_factory=set)
    segment_listeners: list[Callable[[Segment], None]] = field(default_factory=list)
    tag_listeners: list[Callable[[Tag], None]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    relay: bool = False  # fed from the channel's host over the mesh: segments arrive cut
    last_hls_access: float = 0.0
    # Timestamps out are monotonic across publisher sessions, so FLV viewers keep playing through a reconnect.
    _offset: int = 0
    _session_first: int | None = None
    _last_out: int = 0

    @property
    def live(self) -> bool:
        return self.publisher is not None

    def attach(self, publisher: Publisher) -> None:
        if self.closed:
            raise ChannelClosed("channel closed")
        self.publisher = publisher
        self.counters.publishes += 1
        self._session_first = None
        self.segmenter.restart()
        self.gop.clear()
        self.gop_bytes = 0
        self._notify()

    def detach(self, publisher: Publisher) -> None:
        if self.publisher is publisher:
            self.publisher = None
            self.segmenter.restart()
            self._notify()

    def _notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    def push(self, tag: Tag) -> None:
        """A tag from the publisher (raises flv.CodecError / ValueError for what cannot be carried)."""
        if self.closed:
            raise ChannelClosed("channel closed")
        flv.check_codec(tag)
        self.counters.bytes_in += len(tag.body)
        if self._session_first is None:
            self._session_first = tag.timestamp
            # The first session keeps its timestamps (a relay keeps the host's); later ones continue the timeline.
            self._offset = self._last_out + 40 - tag.timestamp if self._last_out else 0
        out = tag.with_timestamp(max(tag.timestamp + self._offset, 0))
        self._last_out = max(self._last_out, out.timestamp)
        self.emit(out)

    def emit(self, tag: Tag) -> None:
        """A tag with channel timestamps: cache, fan out, segment (also the entry point of a relayed channel)."""
        if tag.kind == flv.DATA:
            self.metadata = tag
        elif tag.is_sequence_header:
            if tag.kind == flv.VIDEO:
                self.video_header = tag
            else:
                self.audio_header = tag
        elif tag.is_keyframe:
            self.gop = [tag]
            self.gop_bytes = len(tag.body)
        elif self.gop:
            self.gop.append(tag)
            self.gop_bytes += len(tag.body)
            if self.gop_bytes > GOP_CACHE_MAX_BYTES:  # a keyframe that never comes: stop caching
                self.gop.clear()
                self.gop_bytes = 0
        for viewer in list(self.viewers):
            if not viewer.offer(tag):
                self.viewers.discard(viewer)
        for listener in list(self.tag_listeners):
            listener(tag)
        if tag.kind != flv.DATA and not self.relay:
            seg = self.segmenter.feed(tag)
            if seg is not None:
                for seg_listener in list(self.segment_listeners):
                    seg_listener(seg)
                self._notify()

    def relay_session_start(self) -> None:
        """A relay from a host (re)starts: its timeline is joined to ours as a new publisher session's is."""
        self._session_first = None
        self.gop.clear()
        self.gop_bytes = 0

    def relay_session_end(self) -> None:
        self.relay = False
        self._notify()

    def add_segment(self, seg: Segment) -> None:
        """A segment cut on the channel's host (same id everywhere)."""
        self.segmenter.add(seg)
        for listener in list(self.segment_listeners):
            listener(seg)
        self._notify()

    def start_tags(self) -> list[Tag]:
        """What a new viewer gets first: metadata, sequence headers, then the GOP from its last keyframe."""
        head = [t for t in (self.metadata, self.video_header, self.audio_header) if t is not None]
        if not self.gop:
            return head
        first = self.gop[0].timestamp
        return [t.with_timestamp(first) for t in head] + list(self.gop)

    def subscribe(self) -> Viewer:
        if self.closed:
            raise ChannelClosed("channel closed")
        viewer = Viewer()
        for tag in self.start_tags():
            viewer.offer(tag)
        self.viewers.add(viewer)
        return viewer

    def unsubscribe(self, viewer: Viewer) -> None:
        self.viewers.discard(viewer)

    def close(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        if self.publisher is not None:
            self.publisher.cut(reason)
            self.publisher = None
        for viewer in self.viewers:
            viewer.end()
        self.viewers.clear()
        self._notify()
