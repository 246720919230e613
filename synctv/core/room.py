"""The room's live-state machine: every change to a room's playback state and every message it emits.

Rules of this module (kept deliberately, as in a sans-IO protocol library):
- Everything that affects a room's live state lives here; the actor only feeds commands in and carries the
  results out (persist, then deliver).
- It does not know where the owner runs, how messages are encoded, or who is connected where.
- Time is an argument. Nothing here reads a clock, touches a socket or a database.

`apply(state, command, now_ms) -> Result`. Client messages are dispatched through `_CLIENT_HANDLERS`, a table
keyed by message type, not scattered conditionals.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum, IntEnum

from synctv.core import playback
from synctv.core.commands import (
    CloseRoom,
    ConnectionLeft,
    KickUser,
    NotifyMovies,
    NotifyMyStatus,
    ReportDuration,
    SetCurrentMovie,
    UserRef,
)
from synctv.core.errors import ErrorCode, RoomError
from synctv.core.permissions import Perm
from synctv.core.playback import Current, PlaybackError

MAX_CHAT_BYTES = 4096
# A connection this young that sends a STATUS rewinding a playing (or ended) room is taken to be a player
# that failed to follow the room (no Range support, a late join), not a user's seek: it gets the room's status.
JOIN_GRACE_MS = 3000
REWIND_TOLERANCE_S = 2.0


class MsgType(IntEnum):
    """WebSocket message types; numbers are the upstream wire values."""

    UNKNOWN = 0
    ERROR = 1
    CHAT = 2
    STATUS = 3
    CHECK_STATUS = 4
    EXPIRED = 5
    CURRENT = 6
    MOVIES = 7
    VIEWER_COUNT = 8
    SYNC = 9
    MY_STATUS = 10
    WEBRTC_OFFER = 11
    WEBRTC_ANSWER = 12
    WEBRTC_ICE_CANDIDATE = 13
    WEBRTC_JOIN = 14
    WEBRTC_LEAVE = 15


@dataclass(frozen=True, slots=True)
class Sender:
    user_id: str
    username: str


@dataclass(frozen=True, slots=True)
class WebRTC:
    data: str = ""
    to: str = ""
    from_: str = ""


@dataclass(frozen=True, slots=True)
class WsMessage:
    """One WebSocket message, independent of its protobuf encoding."""

    type: MsgType
    timestamp: int = 0
    sender: Sender | None = None
    error_message: str | None = None
    chat_content: str | None = None
    status: playback.Status | None = None
    expiration_id: int | None = None
    viewer_count: int | None = None
    webrtc: WebRTC | None = None


class Audience(Enum):
    ALL = "all"
    OTHERS = "others"  # everyone except `conn_id`
    CONNS = "conns"  # exactly `conn_ids`
    USER = "user"  # every connection of `user_id`


@dataclass(frozen=True, slots=True)
class Outgoing:
    msg: WsMessage
    audience: Audience = Audience.ALL
    conn_id: str = ""
    user_id: str = ""
    conn_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Kick:
    """Close connections: every connection of `user_id`, or all of the room's when `user_id` is empty."""

    user_id: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who sent a client message, with the member bits they may use in this room right now."""

    user_id: str
    username: str
    conn_id: str
    permissions: int
    joined_ms: int = 0  # when the sending connection opened; 0 = unknown (never treated as new)


# --- what the state machine consumes (commands from `core.commands`, plus two the owner derives) ---


@dataclass(frozen=True, slots=True)
class ClientMessage:
    """A decoded client frame with the permissions its sender holds in this room right now."""

    actor: Actor
    msg: WsMessage


@dataclass(frozen=True, slots=True)
class ViewerCount:
    """The owner's viewer count at a tick; announced when it changed."""

    viewer_count: int


@dataclass(frozen=True, slots=True)
class CheckEnd:
    """The owner's timer: stop the clock if it reached the movie's end."""


Command = (
    ClientMessage | SetCurrentMovie | NotifyMovies | NotifyMyStatus | KickUser | CloseRoom | ConnectionLeft
    | ViewerCount | ReportDuration | CheckEnd
)


@dataclass(frozen=True, slots=True)
class RoomState:
    current: Current = Current()
    # WebRTC-joined connections as "userId:connId" (upstream's peer address format).
    rtc_joined: frozenset[str] = frozenset()
    last_viewer_count: int = -1
    closed: bool = False


@dataclass(frozen=True, slots=True)
class Result:
    state: RoomState
    broadcast: tuple[Outgoing, ...] = ()  # delivered in order to the room's viewers
    direct: tuple[WsMessage, ...] = ()  # to the originating connection only
    error: RoomError | None = None  # reported to the originating connection as ERROR
    persist: bool = False  # `state.current` changed and must be written before anything is delivered
    kicks: tuple[Kick, ...] = ()


def expire_id(movie_id: str) -> int:
    """Upstream's expiry token for a plain movie: it only 'expires' when the current movie changes."""
    return zlib.crc32(movie_id.encode()) if movie_id else 0


# A source whose URLs die on their own (an Aliyun drive's transcodes) hands out, as its expiry token, the time it
# was resolved in ns since the epoch; it expires this long after, whichever movie is current (upstream's rule).
SOURCE_MAX_AGE_S = 14 * 60
_STAMP_FLOOR = 10**18  # ns since the epoch in 2001: far above any crc32, so the two kinds never mix


def source_expired(expiration_id: int, movie_id: str, now_ms: int) -> bool:
    if expiration_id == expire_id(movie_id):
        return False
    if expiration_id >= _STAMP_FLOOR:
        return now_ms * 1_000_000 - expiration_id > SOURCE_MAX_AGE_S * 1_000_000_000
    return True


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&#39;", '"': "&#34;", "\x00": "\ufffd"})


def html_escape(text: str) -> str:
    """The escaping upstream applies to chat (Go `template.HTMLEscapeString`)."""
    return text.translate(_ESCAPES)


def peer_address(user_id: str, conn_id: str) -> str:
    return f"{user_id}:{conn_id}"


# --- client message handlers: (state, actor, msg, now_ms) -> Result ---

_Handler = Callable[[RoomState, Actor, WsMessage, int], Result]


def _error(state: RoomState, text: str, code: ErrorCode = ErrorCode.INVALID) -> Result:
    return Result(state=state, error=RoomError(code, text))


def _denied(state: RoomState, text: str) -> Result:
    return _error(state, text, ErrorCode.DENIED)


def _sender_of(user: UserRef) -> Sender:
    return Sender(user.user_id, user.username)


def _sender(actor: Actor) -> Sender:
    return Sender(actor.user_id, actor.username)


def _allowed(actor: Actor, perm: Perm) -> bool:
    return actor.permissions & int(perm) == int(perm)


def _on_chat(state: RoomState, actor: Actor, msg: WsMessage, now_ms: int) -> Result:
    if not _allowed(actor, Perm.SEND_CHAT_MESSAGE):
        return _denied(state, "failed to send message due to permission issue")
    text = msg.chat_content or ""
    if not text:
        return _error(state, "message is empty")
    escaped = html_escape(text)
    if len(escaped.encode()) > MAX_CHAT_BYTES:
        return _error(state, "message too long")
    out = WsMessage(MsgType.CHAT, timestamp=now_ms, sender=_sender(actor), chat_content=escaped)
    return Result(state=state, broadcast=(Outgoing(out, Audience.ALL),))


def _refuse_status(state: RoomState, refusal: Result, now_ms: int) -> Result:
    """A refused change comes back with the room's real status (as a CHECK_STATUS answer: "you are out of
    sync"), so the sender's player undoes it at once."""
    status = playback.extrapolate(state.current, now_ms).status
    return replace(refusal, direct=(WsMessage(MsgType.CHECK_STATUS, timestamp=now_ms, status=status),))


def _on_status(state: RoomState, actor: Actor, msg: WsMessage, now_ms: int) -> Result:
    if not _allowed(actor, Perm.SET_CURRENT_STATUS):
        return _refuse_status(state, _denied(state, "set status error: no permission"), now_ms)
    if msg.status is None:
        return _refuse_status(state, _error(state, "playback status is nil"), now_ms)
    diff = playback.time_diff(now_ms, msg.timestamp)
    try:
        current = playback.set_status(
            state.current,
            playing=msg.status.is_playing,
            seek=msg.status.current_time,
            rate=msg.status.playback_rate,
            diff_s=diff,
            now_ms=now_ms,
        )
    except PlaybackError as exc:
        return _refuse_status(state, _error(state, f"set status error: {exc}"), now_ms)
    if _is_join_rewind(state, actor, msg.status, now_ms):
        # Not an error the user should see: the player is simply put back where the room is.
        return _refuse_status(state, Result(state=state), now_ms)
    # Unlike upstream, the broadcast carries the server time the status is valid at, so receivers can
    # compensate their own latency.
    out = WsMessage(MsgType.STATUS, timestamp=now_ms, sender=_sender(actor), status=current.status)
    return Result(
        state=replace(state, current=current),
        broadcast=(Outgoing(out, Audience.OTHERS, conn_id=actor.conn_id),),
        persist=True,
    )


def _is_join_rewind(state: RoomState, actor: Actor, status: playback.Status, now_ms: int) -> bool:
    if not actor.joined_ms or now_ms - actor.joined_ms >= JOIN_GRACE_MS or state.current.movie.is_live:
        return False
    room = playback.extrapolate(state.current, now_ms)
    if not (room.status.is_playing or playback.is_ended(room)):
        return False
    return status.current_time < room.status.current_time - REWIND_TOLERANCE_S


def _on_sync(state: RoomState, actor: Actor, msg: WsMessage, now_ms: int) -> Result:
    status = playback.extrapolate(state.current, now_ms).status
    return Result(state=state, direct=(WsMessage(MsgType.SYNC, timestamp=now_ms, status=status),))


def _on_check_status(state: RoomState, actor: Actor, msg: WsMessage, now_ms: int) -> Result:
    if msg.status is None:
        return _error(state, "playback status is nil")
    server = playback.extrapolate(state.current, now_ms).status
    diff = playback.time_diff(now_ms, msg.timestamp)
    c = msg.status
    if playback.needs_sync(server, c.is_playing, c.current_time, c.playback_rate, diff):
        return Result(state=state, direct=(WsMessage(MsgType.CHECK_STATUS, timestamp=now_ms, status=server),))
    return Result(state=state)


def _on_expired(state: RoomState, actor: Actor, msg: WsMessage, now_ms: int) -> Result:
    movie_id = state.current.movie.id
    if not msg.expiration_id or not movie_id:
        return Result(state=state)
    if source_expired(msg.expiration_id, movie_id, now_ms):
        return Result(state=state, direct=(WsMessage(MsgType.EXPIRED),))
    return Result(state=state)


_RTC_VERB = {
    MsgType.WEBRTC_OFFER: "offer",
    MsgType.WEBRTC_ANSWER: "answer",
    MsgType.WEBRTC_ICE_CANDIDATE: "ice candidate",
}


def _on_webrtc_signal(state: RoomState, actor: Actor, msg: WsMessage, now_ms: int) -> Result:
    if not _allowed(actor, Perm.WEBRTC):
        return _denied(state, f"no permission to send webrtc {_RTC_VERB[msg.type]}")
    if msg.webrtc is None:
        return _error(state, "webrtc data is nil")
    target = msg.webrtc.to
    user_id, sep, conn_id = target.partition(":")
    if not sep or not user_id or not conn_id:
        return _error(state, "target user id is invalid")
    out = WsMessage(
        msg.type,
        sender=_sender(actor),
        webrtc=WebRTC(data=msg.webrtc.data, to=target, from_=peer_address(actor.user_id, actor.conn_id)),
    )
    return Result(state=state, broadcast=(Outgoing(out, Audience.CONNS, conn_ids=(conn_id,), user_id=user_id),))


def _rtc_others(state: RoomState, me: str) -> tuple[str, ...]:
    return tuple(sorted(addr.partition(":")[2] for addr in state.rtc_joined if addr != me))


def _on_webrtc_join(state: RoomState, actor: Actor, msg: WsMessage, now_ms: int) -> Result:
    if not _allowed(actor, Perm.WEBRTC):
        return _denied(state, "no permission to join webrtc")
    me = peer_address(actor.user_id, actor.conn_id)
    out = WsMessage(MsgType.WEBRTC_JOIN, sender=_sender(actor), webrtc=WebRTC(from_=me))
    targets = _rtc_others(state, me)
    new_state = replace(state, rtc_joined=state.rtc_joined | {me})
    return Result(state=new_state, broadcast=(Outgoing(out, Audience.CONNS, conn_ids=targets),) if targets else ())


def _on_webrtc_leave(state: RoomState, actor: Actor, msg: WsMessage, now_ms: int) -> Result:
    me = peer_address(actor.user_id, actor.conn_id)
    if not _allowed(actor, Perm.WEBRTC):
        # Upstream: a permission failure while joined is an implicit leave, announced to everyone.
        if me in state.rtc_joined:
            out = WsMessage(MsgType.WEBRTC_LEAVE, sender=_sender(actor), webrtc=WebRTC(from_=me))
            return Result(
                state=replace(state, rtc_joined=state.rtc_joined - {me}),
                broadcast=(Outgoing(out, Audience.OTHERS, conn_id=actor.conn_id),),
                error=RoomError(ErrorCode.DENIED, "no permission to leave webrtc"),
            )
        return _denied(state, "no permission to leave webrtc")
    out = WsMessage(MsgType.WEBRTC_LEAVE, sender=_sender(actor), webrtc=WebRTC(from_=me))
    targets = _rtc_others(state, me)
    new_state = replace(state, rtc_joined=state.rtc_joined - {me})
    return Result(state=new_state, broadcast=(Outgoing(out, Audience.CONNS, conn_ids=targets),) if targets else ())


_CLIENT_HANDLERS: dict[MsgType, _Handler] = {
    MsgType.CHAT: _on_chat,
    MsgType.STATUS: _on_status,
    MsgType.SYNC: _on_sync,
    MsgType.CHECK_STATUS: _on_check_status,
    MsgType.EXPIRED: _on_expired,
    MsgType.WEBRTC_OFFER: _on_webrtc_signal,
    MsgType.WEBRTC_ANSWER: _on_webrtc_signal,
    MsgType.WEBRTC_ICE_CANDIDATE: _on_webrtc_signal,
    MsgType.WEBRTC_JOIN: _on_webrtc_join,
    MsgType.WEBRTC_LEAVE: _on_webrtc_leave,
}


def _type_name(value: int) -> str:
    try:
        return MsgType(value).name
    except ValueError:
        return str(value)


def apply(state: RoomState, command: Command, now_ms: int) -> Result:
    """Apply one command to a room's live state."""
    if state.closed:
        return _error(state, "room closed", ErrorCode.CLOSED)
    match command:
        case ClientMessage(actor=actor, msg=msg):
            handler = _CLIENT_HANDLERS.get(msg.type)
            if handler is None:
                return _error(state, f"unknown message type: {_type_name(msg.type)}")
            return handler(state, actor, msg, now_ms)
        case ReportDuration(movie_id=movie_id, duration=duration, from_metadata=from_metadata):
            return _on_duration(state, movie_id, duration, now_ms, from_metadata)
        case CheckEnd():
            return _on_check_end(state, now_ms)
        case SetCurrentMovie(sender=sender, movie=movie):
            current = playback.set_movie(state.current, movie, now_ms=now_ms)
            out = WsMessage(MsgType.CURRENT, timestamp=now_ms, sender=_sender_of(sender))
            return Result(state=replace(state, current=current), broadcast=(Outgoing(out),), persist=True)
        case NotifyMovies(sender=sender):
            return Result(state=state, broadcast=(Outgoing(WsMessage(MsgType.MOVIES, sender=_sender_of(sender))),))
        case NotifyMyStatus(sender=sender, target_user_id=target):
            out = WsMessage(MsgType.MY_STATUS, sender=_sender_of(sender))
            return Result(state=state, broadcast=(Outgoing(out, Audience.USER, user_id=target),))
        case KickUser(user_id=user_id, reason=reason):
            rtc = frozenset(a for a in state.rtc_joined if not a.startswith(user_id + ":"))
            return Result(state=replace(state, rtc_joined=rtc), kicks=(Kick(user_id, reason),))
        case CloseRoom(reason=reason):
            return Result(state=replace(state, closed=True, rtc_joined=frozenset()), kicks=(Kick("", reason),))
        case ConnectionLeft(user=user, conn_id=conn_id):
            me = peer_address(user.user_id, conn_id)
            if me not in state.rtc_joined:
                return Result(state=state)
            out = WsMessage(MsgType.WEBRTC_LEAVE, sender=_sender_of(user), webrtc=WebRTC(from_=me))
            return Result(state=replace(state, rtc_joined=state.rtc_joined - {me}), broadcast=(Outgoing(out),))
        case ViewerCount(viewer_count=count):
            if count == state.last_viewer_count:
                return Result(state=state)
            out = WsMessage(MsgType.VIEWER_COUNT, viewer_count=count)
            return Result(state=replace(state, last_viewer_count=count), broadcast=(Outgoing(out),))
    return _error(state, "unknown command")


def _on_duration(state: RoomState, movie_id: str, duration: float, now_ms: int, from_metadata: bool = False) -> Result:
    """A client's reported length only ever grows (one client can't cut the movie short); the media's own metadata
    is the length as it is (it replaces a longer client report). Either only ends the movie when the room's own
    clock reaches it (`CheckEnd`)."""
    movie = state.current.movie
    if not movie.id or movie_id != movie.id:
        return _error(state, "not the current movie")
    if movie.is_live:
        return _error(state, "a live stream has no duration")
    try:
        value = playback.validate_position(duration)
    except PlaybackError as exc:
        return _error(state, f"invalid duration: {exc}")
    if value <= 0:
        return _error(state, "invalid duration: must be positive")
    if value == movie.duration or (value < movie.duration and not from_metadata):
        return Result(state=state)
    # Extrapolate first: a clock already past the new end stops there, not further on.
    current = playback.extrapolate(state.current, now_ms) if state.current.status.is_playing else state.current
    current = playback.with_duration(current, value)
    return _on_check_end(replace(state, current=current), now_ms, persist=True)


def _on_check_end(state: RoomState, now_ms: int, persist: bool = False) -> Result:
    stopped = playback.stop_at_end(state.current, now_ms)
    if stopped is None:
        return Result(state=state, persist=persist)
    out = WsMessage(MsgType.STATUS, timestamp=now_ms, status=stopped.status)
    return Result(state=replace(state, current=stopped), broadcast=(Outgoing(out),), persist=True)


def wake_at(state: RoomState) -> int | None:
    """When the owner must look at the room again: the playing movie's end (wall-clock ms)."""
    return playback.end_ms(state.current)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a new owner needs to continue a room exactly where the old one stopped."""

    state: RoomState
    seq: int
    presence: dict[str, dict[str, int]] = field(default_factory=dict)
