"""What moves with a room when its owner changes: live state, event sequence, presence, subscribed edges.

Persisted state alone would be enough to continue playback (the actor persists before it publishes); the
snapshot also carries the sequence number (so edges see no gap), presence (so counts do not flicker) and the
edges subscribed to the room (so the new owner reaches them before they re-subscribe).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass

from synctv.core import playback
from synctv.core.room import RoomState, Snapshot
from synctv.rooms.commands import Reply, reply_from_wire, reply_to_wire


@dataclass(frozen=True, slots=True)
class Handoff:
    snapshot: Snapshot
    subscribers: frozenset[str]
    recent_ops: dict[str, Reply]


def encode(snapshot: Snapshot, subscribers: set[str] | frozenset[str], recent_ops: Mapping[str, Reply]) -> bytes:
    state = snapshot.state
    return json.dumps({
        "current": playback.current_to_json(state.current),
        "rtc": sorted(state.rtc_joined),
        "viewers": state.last_viewer_count,
        "seq": snapshot.seq,
        "presence": snapshot.presence,
        "subscribers": sorted(subscribers),
        # Op ids already applied, with their replies: a command retried at the new owner is not applied twice.
        "ops": {op: base64.b64encode(reply_to_wire(r)).decode() for op, r in recent_ops.items()},
    }, separators=(",", ":")).encode()


def decode(data: bytes) -> Handoff:
    raw = json.loads(data)
    state = RoomState(current=playback.current_from_json(raw["current"]), rtc_joined=frozenset(raw.get("rtc", [])),
                      last_viewer_count=int(raw.get("viewers", -1)))
    presence = {str(k): {str(u): int(n) for u, n in v.items()} for k, v in (raw.get("presence") or {}).items()}
    ops = {str(op): reply_from_wire(base64.b64decode(r)) for op, r in (raw.get("ops") or {}).items()}
    return Handoff(snapshot=Snapshot(state=state, seq=int(raw.get("seq", 0)), presence=presence),
                   subscribers=frozenset(raw.get("subscribers", [])), recent_ops=ops)
