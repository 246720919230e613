"""What crosses the mesh survives the trip: room commands, replies, deliveries and handoff snapshots."""

from __future__ import annotations

from synctv.core import playback
from synctv.core.room import Audience, MsgType, RoomState, Snapshot, WsMessage
from synctv.rooms import commands as c
from synctv.rooms import delivery, handoff

UID = "a" * 32


def test_every_command_round_trips() -> None:
    status = playback.Status(is_playing=True, current_time=12.5, playback_rate=1.25)
    cmds: list[c.RoomCommand] = [
        c.WsIn(UID, "alice", 3, "conn1", WsMessage(MsgType.STATUS, timestamp=123, status=status)),
        c.WsIn(UID, "alice", 3, "conn1", WsMessage(MsgType.CHAT, chat_content="hi")),
        c.SetCurrent(UID, "alice", "b" * 32, True, "sub"),
        c.NotifyMovies(UID, "alice"),
        c.NotifyMyStatus(UID, "alice", "c" * 32),
        c.KickUser(UID, "banned"),
        c.CloseRoom("deleted"),
        c.ConnectionLeft(UID, "alice", "conn1"),
        c.Presence("n1", {UID: 2}, replace_all=True, version=7),
        c.Invalidate("member", UID),
        c.GetState(),
        c.Tick(),
    ]
    for cmd in cmds:
        back, trace = c.from_wire_traced(c.to_wire(cmd, {"traceparent": "00-abc-def-01"}))
        assert back == cmd
        assert trace == {"traceparent": "00-abc-def-01"}


def test_reply_and_delivery_round_trip() -> None:
    reply = c.Reply(error="nope", frames=(b"\x08\x01", b""), value={"viewerCount": 3})
    assert c.reply_from_wire(c.reply_to_wire(reply)) == reply
    d = delivery.Delivery(frame=b"\x08\x02\x12", audience=Audience.CONNS, conn_ids=("x", "y"), user_id=UID)
    assert delivery.decode(delivery.encode(d)) == d
    kick = delivery.Delivery(audience=Audience.USER, user_id=UID, kick=True, reason="bye")
    assert delivery.decode(delivery.encode(kick)) == kick


def test_handoff_carries_state_sequence_presence_subscribers_and_op_ids() -> None:
    current = playback.Current(movie=playback.CurrentMovie(id="m" * 32),
                               status=playback.Status(is_playing=True, current_time=30.0, playback_rate=1.0,
                                                      last_update_ms=1_700_000_000_000))
    snap = Snapshot(state=RoomState(current=current, rtc_joined=frozenset({f"{UID}:c1"}), last_viewer_count=2),
                    seq=41, presence={"n1": {UID: 1}, "n2": {"d" * 32: 2}})
    ops = {"op1": c.Reply(), "op2": c.Reply(error="denied")}
    moved = handoff.decode(handoff.encode(snap, {"n2", "n3"}, ops))
    assert moved.snapshot == snap
    assert moved.subscribers == frozenset({"n2", "n3"})
    assert moved.recent_ops == ops
