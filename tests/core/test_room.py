"""The room state machine, table-driven over every client message type and every command."""

from __future__ import annotations

import zlib
from dataclasses import replace

import pytest

from synctv.core import room as r
from synctv.core.commands import UserRef
from synctv.core.errors import ErrorCode
from synctv.core.permissions import ALL_PERMISSIONS, DEFAULT_PERMISSIONS, Perm
from synctv.core.playback import Current, CurrentMovie, Status

NOW = 1_700_000_000_000
MOVIE = "a" * 32
ALICE = r.Actor("u" * 32, "alice", "c1", ALL_PERMISSIONS)
NOBODY = r.Actor("v" * 32, "bob", "c2", 0)


def playing_state(pos: float = 10.0, rate: float = 1.0, playing: bool = True) -> r.RoomState:
    return r.RoomState(current=Current(movie=CurrentMovie(id=MOVIE),
                                       status=Status(playing, pos, rate, last_update_ms=NOW - 2000)))


def client(actor: r.Actor, msg: r.WsMessage, state: r.RoomState | None = None, now: int = NOW) -> r.Result:
    return r.apply(state or playing_state(), r.ClientMessage(actor, msg), now)


def status_msg(playing: bool = True, pos: float = 5.0, rate: float = 1.0, ts: int = 0) -> r.WsMessage:
    return r.WsMessage(r.MsgType.STATUS, timestamp=ts, status=Status(playing, pos, rate))


# (message, permission it needs or None, error text when that permission is missing)
GATED: list[tuple[str, r.WsMessage, Perm | None, str]] = [
    ("chat", r.WsMessage(r.MsgType.CHAT, chat_content="hi"), Perm.SEND_CHAT_MESSAGE,
     "failed to send message due to permission issue"),
    ("status", status_msg(), Perm.SET_CURRENT_STATUS, "set status error: no permission"),
    ("offer", r.WsMessage(r.MsgType.WEBRTC_OFFER, webrtc=r.WebRTC(data="sdp", to="x:y")), Perm.WEBRTC,
     "no permission to send webrtc offer"),
    ("answer", r.WsMessage(r.MsgType.WEBRTC_ANSWER, webrtc=r.WebRTC(data="sdp", to="x:y")), Perm.WEBRTC,
     "no permission to send webrtc answer"),
    ("ice", r.WsMessage(r.MsgType.WEBRTC_ICE_CANDIDATE, webrtc=r.WebRTC(data="c", to="x:y")), Perm.WEBRTC,
     "no permission to send webrtc ice candidate"),
    ("join", r.WsMessage(r.MsgType.WEBRTC_JOIN), Perm.WEBRTC, "no permission to join webrtc"),
    ("leave", r.WsMessage(r.MsgType.WEBRTC_LEAVE), Perm.WEBRTC, "no permission to leave webrtc"),
    ("sync", r.WsMessage(r.MsgType.SYNC), None, ""),
    ("check", r.WsMessage(r.MsgType.CHECK_STATUS, status=Status(True, 0.0, 1.0)), None, ""),
    ("expired", r.WsMessage(r.MsgType.EXPIRED, expiration_id=1), None, ""),
]


@pytest.mark.parametrize(("name", "msg", "perm", "err"), GATED, ids=[g[0] for g in GATED])
def test_permission_gate(name: str, msg: r.WsMessage, perm: Perm | None, err: str) -> None:
    allowed = client(ALICE, msg)
    assert allowed.error is None, allowed.error
    if perm is None:
        assert client(NOBODY, msg).error is None
        return
    denied = client(replace(NOBODY, permissions=ALL_PERMISSIONS & ~int(perm)), msg)
    assert denied.error is not None and denied.error.message == err
    assert denied.error.code is ErrorCode.DENIED
    assert denied.state.current == playing_state().current and not denied.persist and not denied.broadcast
    only = client(replace(NOBODY, permissions=int(perm)), msg)
    assert only.error is None


@pytest.mark.parametrize("mtype", [r.MsgType.UNKNOWN, r.MsgType.ERROR, r.MsgType.CURRENT, r.MsgType.MOVIES,
                                   r.MsgType.VIEWER_COUNT, r.MsgType.MY_STATUS])
def test_server_only_types_are_refused(mtype: r.MsgType) -> None:
    out = client(ALICE, r.WsMessage(mtype))
    assert out.error.message == f"unknown message type: {mtype.name}"
    assert not out.broadcast and not out.persist


def test_status_playing_is_compensated_and_broadcast_to_others() -> None:
    out = client(ALICE, status_msg(True, 30.0, 2.0, ts=NOW - 1000))
    assert out.persist and out.error is None
    st = out.state.current.status
    assert st.is_playing and st.playback_rate == 2.0 and st.current_time == pytest.approx(32.0)
    assert st.last_update_ms == NOW
    (b,) = out.broadcast
    assert b.audience is r.Audience.OTHERS and b.conn_id == "c1"
    assert b.msg.type == r.MsgType.STATUS and b.msg.timestamp == NOW and b.msg.status == st
    assert b.msg.sender == r.Sender(ALICE.user_id, "alice")


@pytest.mark.parametrize(("lag_ms", "expected"), [(0, 30.0), (-5000, 30.0), (700, 30.7), (1500, 31.5),
                                                  (60_000, 31.5)])
def test_status_compensation_clamp(lag_ms: int, expected: float) -> None:
    out = client(ALICE, status_msg(True, 30.0, 1.0, ts=NOW - lag_ms))
    assert out.state.current.status.current_time == pytest.approx(expected)


def test_status_without_timestamp_is_not_compensated() -> None:
    assert client(ALICE, status_msg(True, 30.0, 1.0, ts=0)).state.current.status.current_time == 30.0


def test_status_paused_is_exact() -> None:
    out = client(ALICE, status_msg(False, 12.25, 1.0, ts=NOW - 1400))
    assert out.state.current.status.current_time == 12.25 and not out.state.current.status.is_playing


@pytest.mark.parametrize("rate", [0.0, -1.0, float("nan"), float("inf"), 1e6])
def test_status_invalid_rate_changes_nothing(rate: float) -> None:
    state = playing_state()
    out = client(ALICE, status_msg(True, 1.0, rate), state)
    assert out.error is not None and out.error.message.startswith("set status error:")
    assert out.state == state and not out.persist and not out.broadcast
    # The sender is told where the room really is, so its player undoes the refused change at once.
    (sync,) = out.direct
    assert sync.type == r.MsgType.CHECK_STATUS and sync.status == r.playback.extrapolate(state.current, NOW).status


def test_refused_status_without_permission_comes_back_with_the_rooms_status() -> None:
    state = playing_state()
    out = client(replace(NOBODY, permissions=0), status_msg(False, 99.0, 1.0), state)
    assert out.error is not None and out.error.code is ErrorCode.DENIED and out.state == state
    assert [m.type for m in out.direct] == [r.MsgType.CHECK_STATUS] and out.direct[0].status is not None
    assert out.direct[0].status.is_playing


def test_status_without_payload() -> None:
    out = client(ALICE, r.WsMessage(r.MsgType.STATUS))
    assert out.error.message == "playback status is nil"
    out = client(ALICE, r.WsMessage(r.MsgType.CHECK_STATUS))
    assert out.error.message == "playback status is nil"


def test_status_on_live_is_pinned() -> None:
    state = r.RoomState(current=Current(movie=CurrentMovie(id=MOVIE, is_live=True), status=Status(True, 0, 1, NOW)))
    out = client(ALICE, status_msg(False, 99.0, 2.0), state)
    st = out.state.current.status
    assert (st.is_playing, st.current_time, st.playback_rate) == (True, 0.0, 1.0)


def test_sync_replies_extrapolated_with_server_time() -> None:
    out = client(NOBODY, r.WsMessage(r.MsgType.SYNC), playing_state(10.0, 1.5))
    (m,) = out.direct
    assert m.type == r.MsgType.SYNC and m.timestamp == NOW
    assert m.status is not None and m.status.current_time == pytest.approx(13.0)
    assert not out.broadcast and not out.persist


@pytest.mark.parametrize(("client_status", "reply"), [
    (Status(True, 12.0, 1.0), False),  # server is at 12.0
    (Status(True, 21.9, 1.0), False),
    (Status(True, 2.1, 1.0), False),
    (Status(True, 22.5, 1.0), True),
    (Status(True, 1.0, 1.0), True),
    (Status(False, 12.0, 1.0), True),  # play state differs
    (Status(True, 12.0, 1.25), True),  # rate differs
])
def test_check_status_tolerance(client_status: Status, reply: bool) -> None:
    out = client(NOBODY, r.WsMessage(r.MsgType.CHECK_STATUS, status=client_status))
    if reply:
        (m,) = out.direct
        assert m.type == r.MsgType.CHECK_STATUS and m.status is not None
        assert m.status.current_time == pytest.approx(12.0) and m.status.is_playing
    else:
        assert out.direct == ()
    assert not out.broadcast and out.error is None


def test_check_status_uses_sender_timestamp() -> None:
    # 9.5 s behind, plus 1.5 s of (clamped) latency: within tolerance.
    msg = r.WsMessage(r.MsgType.CHECK_STATUS, timestamp=NOW - 1500, status=Status(True, 12.0 - 11.0, 1.0))
    assert client(NOBODY, msg).direct == ()


def test_expired_uses_crc32_of_the_movie_id() -> None:
    good = zlib.crc32(MOVIE.encode())
    assert r.expire_id(MOVIE) == good and r.expire_id("") == 0
    assert client(NOBODY, r.WsMessage(r.MsgType.EXPIRED, expiration_id=good)).direct == ()
    (m,) = client(NOBODY, r.WsMessage(r.MsgType.EXPIRED, expiration_id=good + 1)).direct
    assert m.type == r.MsgType.EXPIRED
    assert client(NOBODY, r.WsMessage(r.MsgType.EXPIRED, expiration_id=0)).direct == ()
    no_movie = r.RoomState()
    assert client(NOBODY, r.WsMessage(r.MsgType.EXPIRED, expiration_id=5), no_movie).direct == ()


def test_expired_for_a_source_that_dies_on_its_own_counts_from_its_resolution() -> None:
    # the expiry token is when the sources were resolved (ns); they expire SOURCE_MAX_AGE_S later
    max_age_ns = r.SOURCE_MAX_AGE_S * 1_000_000_000
    resolved = NOW * 1_000_000 - max_age_ns + 1
    assert client(NOBODY, r.WsMessage(r.MsgType.EXPIRED, expiration_id=resolved)).direct == ()
    (m,) = client(NOBODY, r.WsMessage(r.MsgType.EXPIRED, expiration_id=resolved - 2)).direct
    assert m.type == r.MsgType.EXPIRED
    assert r.source_expired(resolved, MOVIE, NOW + 1) is True  # a millisecond later
    assert r.source_expired(zlib.crc32(MOVIE.encode()), MOVIE, NOW) is False
    assert r.source_expired(2**32, MOVIE, NOW) is True  # neither kind: refresh


@pytest.mark.parametrize(("text", "escaped"), [
    ("hi <b>", "hi &lt;b&gt;"),
    ("a & b", "a &amp; b"),
    ("it's \"x\"", "it&#39;s &#34;x&#34;"),
    ("nul\x00", "nul\ufffd"),
    ("你好", "你好"),
])
def test_chat_escaping(text: str, escaped: str) -> None:
    out = client(replace(NOBODY, permissions=DEFAULT_PERMISSIONS),
                 r.WsMessage(r.MsgType.CHAT, chat_content=text))
    (b,) = out.broadcast
    assert b.audience is r.Audience.ALL and b.msg.chat_content == escaped and b.msg.timestamp == NOW
    assert b.msg.sender == r.Sender(NOBODY.user_id, "bob") and not out.persist


def test_chat_limits() -> None:
    assert client(ALICE, r.WsMessage(r.MsgType.CHAT, chat_content="")).error.message == "message is empty"
    assert client(ALICE, r.WsMessage(r.MsgType.CHAT)).error.message == "message is empty"
    assert client(ALICE, r.WsMessage(r.MsgType.CHAT, chat_content="x" * 4096)).error is None
    assert client(ALICE, r.WsMessage(r.MsgType.CHAT, chat_content="x" * 4097)).error.message == "message too long"
    # the limit is on the escaped bytes: 1000 "<" become 4000 bytes, 1025 become 4100
    assert client(ALICE, r.WsMessage(r.MsgType.CHAT, chat_content="<" * 1024)).error is None
    assert client(ALICE, r.WsMessage(r.MsgType.CHAT, chat_content="<" * 1025)).error.message == "message too long"
    assert client(ALICE, r.WsMessage(r.MsgType.CHAT, chat_content="é" * 2048)).error is None
    assert client(ALICE, r.WsMessage(r.MsgType.CHAT, chat_content="é" * 2049)).error.message == "message too long"


def test_webrtc_routing() -> None:
    state = r.RoomState()
    a = replace(ALICE, conn_id="ca")
    b = r.Actor("b" * 32, "bob", "cb", DEFAULT_PERMISSIONS)
    c = r.Actor("c" * 32, "carol", "cc", DEFAULT_PERMISSIONS)
    out = r.apply(state, r.ClientMessage(a, r.WsMessage(r.MsgType.WEBRTC_JOIN)), NOW)
    assert out.broadcast == () and out.state.rtc_joined == {f"{a.user_id}:ca"}
    out = r.apply(out.state, r.ClientMessage(b, r.WsMessage(r.MsgType.WEBRTC_JOIN)), NOW)
    (j,) = out.broadcast
    assert j.audience is r.Audience.CONNS and j.conn_ids == ("ca",)
    assert j.msg.webrtc is not None and j.msg.webrtc.from_ == f"{b.user_id}:cb"
    state = out.state
    # offer/answer/ice go only to the addressed connection, with `from` overwritten by the server
    for mtype in (r.MsgType.WEBRTC_OFFER, r.MsgType.WEBRTC_ANSWER, r.MsgType.WEBRTC_ICE_CANDIDATE):
        msg = r.WsMessage(mtype, webrtc=r.WebRTC(data="{}", to=f"{a.user_id}:ca", from_="forged"))
        out = r.apply(state, r.ClientMessage(c, msg), NOW)
        (o,) = out.broadcast
        assert o.audience is r.Audience.CONNS and o.conn_ids == ("ca",) and o.user_id == a.user_id
        assert o.msg.webrtc == r.WebRTC(data="{}", to=f"{a.user_id}:ca", from_=f"{c.user_id}:cc")
        assert o.msg.type == mtype and o.msg.sender == r.Sender(c.user_id, "carol")
    for bad in ("", "nocolon", ":conn", "user:"):
        msg = r.WsMessage(r.MsgType.WEBRTC_OFFER, webrtc=r.WebRTC(data="{}", to=bad))
        assert r.apply(state, r.ClientMessage(c, msg), NOW).error.message == "target user id is invalid"
    nil = r.apply(state, r.ClientMessage(c, r.WsMessage(r.MsgType.WEBRTC_OFFER)), NOW)
    assert nil.error is not None and nil.error.message == "webrtc data is nil"
    # explicit leave: the other joined connections
    out = r.apply(state, r.ClientMessage(a, r.WsMessage(r.MsgType.WEBRTC_LEAVE)), NOW)
    (lv,) = out.broadcast
    assert lv.conn_ids == ("cb",) and out.state.rtc_joined == {f"{b.user_id}:cb"}
    # implicit leave on disconnect: everyone
    out = r.apply(state, r.ConnectionLeft(UserRef(b.user_id, "bob"), "cb"), NOW)
    (lv,) = out.broadcast
    assert lv.audience is r.Audience.ALL and lv.msg.type == r.MsgType.WEBRTC_LEAVE
    assert r.apply(out.state, r.ConnectionLeft(UserRef(b.user_id, "bob"), "cb"), NOW).broadcast == ()
    # leave after the permission was revoked while joined: announced, and an error to the sender
    out = r.apply(state, r.ClientMessage(replace(b, permissions=0), r.WsMessage(r.MsgType.WEBRTC_LEAVE)), NOW)
    assert out.error.message == "no permission to leave webrtc" and f"{b.user_id}:cb" not in out.state.rtc_joined
    assert out.broadcast[0].msg.type == r.MsgType.WEBRTC_LEAVE


def test_commands() -> None:
    sender = UserRef("u" * 32, "alice")
    state = playing_state(50.0, 1.5)
    out = r.apply(state, r.SetCurrentMovie(sender, CurrentMovie(id="b" * 32)), NOW)
    assert out.persist and out.state.current.movie.id == "b" * 32
    st = out.state.current.status
    assert (st.is_playing, st.current_time, st.playback_rate, st.last_update_ms) == (True, 0.0, 1.5, NOW)
    (b,) = out.broadcast
    assert b.audience is r.Audience.ALL and b.msg.type == r.MsgType.CURRENT
    assert b.msg.sender == r.Sender(sender.user_id, "alice")
    out = r.apply(state, r.SetCurrentMovie(sender, CurrentMovie()), NOW)
    assert out.state.current.movie.id == "" and not out.state.current.status.is_playing and out.persist

    (b,) = r.apply(state, r.NotifyMovies(sender), NOW).broadcast
    assert b.msg.type == r.MsgType.MOVIES and b.audience is r.Audience.ALL and b.msg.sender == r.Sender(
        sender.user_id, "alice")
    (b,) = r.apply(state, r.NotifyMyStatus(sender, "t" * 32), NOW).broadcast
    assert b.msg.type == r.MsgType.MY_STATUS and b.audience is r.Audience.USER and b.user_id == "t" * 32

    joined = replace(state, rtc_joined=frozenset({"k" * 32 + ":c1", "o" * 32 + ":c2"}))
    out = r.apply(joined, r.KickUser("k" * 32, "bye"), NOW)
    assert out.kicks == (r.Kick("k" * 32, "bye"),) and out.state.rtc_joined == {"o" * 32 + ":c2"}

    out = r.apply(joined, r.CloseRoom("deleted"), NOW)
    assert out.state.closed and out.kicks == (r.Kick("", "deleted"),)
    assert r.apply(out.state, r.NotifyMovies(sender), NOW).error.message == "room closed"

    out = r.apply(state, r.ViewerCount(2), NOW)
    (b,) = out.broadcast
    assert b.msg.type == r.MsgType.VIEWER_COUNT and b.msg.viewer_count == 2
    assert r.apply(out.state, r.ViewerCount(2), NOW).broadcast == ()
    assert r.apply(out.state, r.ViewerCount(1), NOW).broadcast[0].msg.viewer_count == 1


def test_every_client_type_has_a_rule() -> None:
    """Each wire type is either handled or refused with `unknown message type`; none raises."""
    for mtype in r.MsgType:
        out = client(ALICE, r.WsMessage(mtype))
        assert isinstance(out, r.Result)
