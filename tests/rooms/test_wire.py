"""What crosses the mesh survives the trip: room commands, replies, deliveries and handoff snapshots, each
through its protobuf message and real bytes."""

from __future__ import annotations

import pytest

from synctv._generated import mesh_pb2 as pb
from synctv.core import commands as c
from synctv.core import playback
from synctv.core.errors import ErrorCode, RoomError
from synctv.core.room import Audience, MsgType, RoomState, Snapshot, WsMessage
from synctv.rooms import delivery, frames, wire

UID = "a" * 32
ALICE = c.UserRef(UID, "alice", "jti-1")


def _through_bytes(msg: pb.RoomCommand) -> pb.RoomCommand:
    return pb.RoomCommand.FromString(msg.SerializeToString())


def test_every_command_round_trips() -> None:
    status = playback.Status(is_playing=True, current_time=12.5, playback_rate=1.25)
    frame = frames.encode(WsMessage(MsgType.STATUS, timestamp=123, status=status))
    cmds: list[c.RoomCommand] = [
        c.ClientFrame(ALICE, "conn1", frame),
        c.ClientFrame(ALICE, "conn2", frame, joined_ms=1_700_000_000_123),
        c.ClientFrame(ALICE, "conn3", frame, more=(frame, b"later")),
        c.SetCurrentMovie(ALICE, playback.CurrentMovie(id="b" * 32, is_live=True, sub_path="sub")),
        c.SetCurrentMovie(ALICE, playback.CurrentMovie(id="b" * 32, duration=42.5)),
        c.ReportDuration(ALICE, "b" * 32, 596.46), c.ReportDuration(ALICE, "b" * 32, 30.5, from_metadata=True),
        c.NotifyMovies(ALICE),
        c.NotifyMyStatus(ALICE, "c" * 32),
        c.KickUser(UID, "banned"),
        c.CloseRoom("deleted"),
        c.ConnectionLeft(ALICE, "conn1"),
        c.UpdatePresence("n1", {UID: 2}, replace_all=True, version=7),
        c.Invalidate(c.CacheKind.MEMBER, UID),
        c.Invalidate(c.CacheKind.SETTINGS),
        c.GetState(),
    ]
    for cmd in cmds:
        assert wire.command_from_pb(_through_bytes(wire.command_to_pb(cmd))) == cmd
    # The client's frame travels as the bytes it was: nothing re-encodes it on the way.
    assert wire.command_to_pb(cmds[0]).client_frame.frame == frame


def test_the_owners_own_tick_never_crosses_and_unknown_bodies_are_refused() -> None:
    with pytest.raises(wire.WireError):
        wire.command_to_pb(c.Tick())
    with pytest.raises(wire.WireError):
        wire.command_to_pb(c.Wake())
    with pytest.raises(wire.WireError):
        wire.command_from_pb(pb.RoomCommand())
    bad = pb.RoomCommand()
    bad.invalidate.what = 99  # type: ignore[assignment]
    with pytest.raises(wire.WireError):
        wire.command_from_pb(bad)


def test_replies_carry_codes_frames_and_values() -> None:
    view = c.StateView(current=playback.Current(movie=playback.CurrentMovie(id="m" * 32),
                                                status=playback.Status(True, 3.5, 1.0, 1_700_000_000_000)),
                       viewer_count=3, online={UID: 2})
    replies = [
        c.Reply(),
        c.Reply(error=RoomError(ErrorCode.DENIED, "nope"), frames=(b"\x08\x01", b"")),
        c.Reply(value=view),
        c.Reply(value=4),
        c.Reply.fail(ErrorCode.BUSY, "room is busy, try again"),
    ]
    for reply in replies:
        out = pb.Reply()
        wire.reply_to_pb(reply, out)
        assert wire.reply_from_pb(pb.Reply.FromString(out.SerializeToString())) == reply


def test_deliveries_round_trip() -> None:
    for d in (delivery.Delivery(frame=b"\x08\x02\x12", audience=Audience.CONNS, conn_ids=("x", "y"), user_id=UID),
              delivery.Delivery(audience=Audience.USER, user_id=UID, kick=True, reason="bye"),
              delivery.Delivery(frame=b"f", audience=Audience.OTHERS, conn_id="c1")):
        out = pb.Delivery()
        wire.delivery_to_pb(d, out)
        assert wire.delivery_from_pb(pb.Delivery.FromString(out.SerializeToString())) == d


def test_handoff_carries_state_sequence_presence_subscribers_and_op_ids() -> None:
    current = playback.Current(movie=playback.CurrentMovie(id="m" * 32, duration=596.5),
                               status=playback.Status(is_playing=True, current_time=30.0, playback_rate=1.0,
                                                      last_update_ms=1_700_000_000_000))
    snap = Snapshot(state=RoomState(current=current, rtc_joined=frozenset({f"{UID}:c1"}), last_viewer_count=2),
                    seq=41, presence={"n1": {UID: 1}, "n2": {"d" * 32: 2}})
    ops = {"op1": c.Reply(), "op2": c.Reply.fail(ErrorCode.DENIED, "denied")}
    message = wire.snapshot_to_pb("room1", snap, {"n2", "n3"}, ops)
    moved = wire.snapshot_from_pb(pb.RoomSnapshot.FromString(message.SerializeToString()))
    assert message.room_id == "room1"
    assert moved.snapshot == snap
    assert moved.subscribers == frozenset({"n2", "n3"})
    assert moved.recent_ops == ops


def test_error_codes_match_the_mesh_protocol() -> None:
    assert {e.name: int(e) for e in ErrorCode} == dict(pb.ErrorCode.items())
    assert {k.name: int(k) for k in c.CacheKind} == {
        n.removeprefix("CACHE_"): v for n, v in pb.CacheKind.items() if n != "CACHE_UNSPECIFIED"}
