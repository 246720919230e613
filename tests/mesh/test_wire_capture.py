"""Everything three instances say to each other over real gRPC, captured at the codec and decoded with the
generated classes alone: every envelope kind appears, and no field smuggles JSON or base64. The only bytes
fields are WebSocket frames."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from google.protobuf.message import Message

from synctv._generated import mesh_pb2 as pb
from synctv._generated import message_pb2
from synctv.core.room import MsgType, WsMessage
from synctv.mesh import wire
from tests.support.inprocess_cluster import InProcessCluster
from tests.support.mesh import wait_until

pytestmark = pytest.mark.timeout(60)

# (message, field) pairs that may hold bytes: WebSocket frames, as the client sent them or the owner encoded them.
FRAME_FIELDS = {("synctv.mesh.v1.ClientFrame", "frame"), ("synctv.mesh.v1.Delivery", "frame"),
                ("synctv.mesh.v1.Reply", "frames")}
# Live media: FLV tag bodies and MPEG-TS segments, as the publisher and the muxer made them.
MEDIA_FIELDS = {("synctv.mesh.v1.LiveTag", "body"), ("synctv.mesh.v1.LiveSegment", "data")}
_B64 = re.compile(r"[A-Za-z0-9+/_-]{24,}={0,2}")
_HEX = re.compile(r"[0-9a-f]+")


def _check_string(where: str, value: str) -> None:
    text = value.strip()
    if text[:1] in ("{", "["):
        with pytest.raises(ValueError):
            json.loads(text)  # JSON inside a string field: not allowed
    assert not (_B64.fullmatch(text) and not _HEX.fullmatch(text)), f"base64-looking {where}: {text[:40]}"


def _walk(msg: Message, kinds: set[str]) -> None:
    kinds.add(msg.DESCRIPTOR.full_name)
    for field, value in msg.ListFields():
        where = f"{msg.DESCRIPTOR.full_name}.{field.name}"
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            for key in value:
                _check_string(where, str(key))
            values = list(value.values())
        else:
            values = list(value) if field.is_repeated else [value]
        for v in values:
            if isinstance(v, Message):
                _walk(v, kinds)
            elif isinstance(v, bytes) and (msg.DESCRIPTOR.full_name, field.name) in MEDIA_FIELDS:
                assert v[:1] in (b"\x17", b"\x27", b"\xaf", b"\x47"), f"not FLV or TS media in {where}"
            elif isinstance(v, bytes):
                assert (msg.DESCRIPTOR.full_name, field.name) in FRAME_FIELDS, f"bytes in {where}"
                if v:
                    frame = message_pb2.Message.FromString(v)
                    assert frame.type in message_pb2.MessageType.values()
            elif isinstance(v, str):
                _check_string(where, v)


async def test_a_captured_mesh_stream_is_typed_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    captured: list[bytes] = []
    real = wire.serialize_frame

    def capture(frame: pb.Frame) -> bytes:
        data = real(frame)
        captured.append(data)
        return data

    monkeypatch.setattr(wire, "serialize_frame", capture)  # before any stream exists, so every link uses it
    cluster = await InProcessCluster.start(tmp_path / "data", "n1", "n2", transport="grpc")
    try:
        await cluster.add("n3")
        room_id, creator = await cluster.room_owned_by("n3", among=("n1", "n2", "n3"))
        cluster.set_view("n1", "n2", on=("n1", "n2"))
        cluster.set_view("n3", on=("n3",))
        first = cluster.nodes["n1"].router.owner(room_id)
        edge = "n2" if first == "n1" else "n1"
        sender = await cluster.viewer(edge, room_id, creator.username)  # subscribe, presence, commands
        await cluster.viewer(first, room_id, "watcher")
        assert (await sender.send(WsMessage(MsgType.CHAT, chat_content="hello"))).error is None  # events
        router = cluster.nodes[edge].router
        await router.viewer_counts([room_id])  # viewer_counts query
        await router.hot_rooms()  # hot_rooms query
        await router.describe()  # owned_rooms query
        await router.queries.control_all(pb.Control(invalidation=pb.Invalidation(kind=pb.INVALIDATE_SETTINGS)))
        mesh = router.mesh
        assert mesh is not None
        mid = "d" * 32
        mesh.live_subscribe(first, pb.LiveSubscribe(room_id=room_id, movie_id=mid, on=True))  # live relay
        mesh.send_live_data(first, pb.LiveData(
            room_id=room_id, movie_id=mid, start=True, tags=[pb.LiveTag(kind=9, timestamp_ms=40, body=b"\x17\x01")],
            segments=[pb.LiveSegment(id="a" * 32, seq=1, duration_s=2.0, data=b"\x47" + b"\xff" * 187)]))
        await mesh.query(first, pb.Query(live_where=pb.LiveWhere(room_id=room_id, movie_id=mid)), 2.0)
        cluster.set_view("n1", "n2", "n3")  # n3 joins: the room is pulled or pushed (pull / adopt)
        await wait_until(lambda: cluster.nodes["n3"].router.owned_rooms() == [room_id], timeout=10)
        await cluster.nodes["n3"].router.begin_leave(timeout=5)  # and handed back: adopt
        cluster.set_view("n1", "n2", on=("n1", "n2"))
        await wait_until(lambda: cluster.nodes[first].router.owned_rooms() == [room_id], timeout=10)
        await router.close_room(room_id, "closed by the test")  # room_closed control
        await wait_until(lambda: any(b"closed by the test" in f for f in captured), timeout=10)
    finally:
        await cluster.stop()

    kinds: set[str] = set()
    envelopes: set[str] = set()
    for data in captured:
        frame = pb.Frame.FromString(data)  # the generated classes alone
        assert frame.ByteSize() == len(data)
        for env in frame.envelopes:
            envelopes.add(env.WhichOneof("body") or "")
        _walk(frame, kinds)
    assert envelopes == {f.name for f in pb.Envelope.DESCRIPTOR.oneofs_by_name["body"].fields}
    queries = {"ViewerCountsQuery", "HotRoomsQuery", "OwnedRoomsQuery", "Control", "Invalidation", "RoomClosed",
               "RoomSnapshot", "EventBatch", "Delivery", "ClientFrame", "PresenceUpdate", "Hello"}
    assert {f"synctv.mesh.v1.{k}" for k in queries} <= kinds, sorted(kinds)
    assert {"synctv.mesh.v1.AdoptRoom", "synctv.mesh.v1.PullRoom"} & kinds


