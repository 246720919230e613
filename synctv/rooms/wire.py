"""The rooms runtime's values in their mesh form: `core.commands` <-> `mesh.proto` messages, field by field.

Only message objects are built here; bytes are made once per stream write, in `mesh/wire.py`. WebSocket
frames travel as the bytes they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from synctv._generated import mesh_pb2 as pb
from synctv.core import commands as c
from synctv.core.errors import ErrorCode, RoomError
from synctv.core.playback import Current, CurrentMovie, Status
from synctv.core.room import Audience, RoomState, Snapshot
from synctv.rooms.delivery import Delivery


class WireError(ValueError):
    """A message from a peer that this version cannot turn into a command."""


def _user(u: c.UserRef, out: pb.UserRef) -> None:
    out.user_id, out.username, out.session_id = u.user_id, u.username, u.session_id


def _user_from(m: pb.UserRef) -> c.UserRef:
    return c.UserRef(m.user_id, m.username, m.session_id)


def movie_to_pb(movie: CurrentMovie, out: pb.CurrentMovie) -> None:
    out.id, out.is_live, out.sub_path, out.duration = movie.id, movie.is_live, movie.sub_path, movie.duration


def movie_from_pb(m: pb.CurrentMovie) -> CurrentMovie:
    return CurrentMovie(id=m.id, is_live=m.is_live, sub_path=m.sub_path, duration=m.duration)


def current_to_pb(current: Current, out: pb.Current) -> None:
    movie_to_pb(current.movie, out.movie)
    s = current.status
    out.status.is_playing, out.status.current_time = s.is_playing, s.current_time
    out.status.playback_rate, out.status.last_update_ms = s.playback_rate, s.last_update_ms


def current_from_pb(m: pb.Current) -> Current:
    s = m.status
    return Current(movie=movie_from_pb(m.movie),
                   status=Status(is_playing=s.is_playing, current_time=s.current_time,
                                 playback_rate=s.playback_rate, last_update_ms=s.last_update_ms))


# --- commands ---


def command_to_pb(cmd: c.RoomCommand) -> pb.RoomCommand:
    out = pb.RoomCommand()
    match cmd:
        case c.ClientFrame():
            _user(cmd.user, out.client_frame.user)
            out.client_frame.conn_id = cmd.conn_id
            out.client_frame.frame = cmd.frame
            out.client_frame.joined_ms = cmd.joined_ms
            out.client_frame.more_frames.extend(cmd.more)
        case c.SetCurrentMovie():
            _user(cmd.sender, out.set_current_movie.sender)
            movie_to_pb(cmd.movie, out.set_current_movie.movie)
        case c.NotifyMovies():
            _user(cmd.sender, out.notify_movies.sender)
        case c.NotifyMyStatus():
            _user(cmd.sender, out.notify_my_status.sender)
            out.notify_my_status.target_user_id = cmd.target_user_id
        case c.KickUser():
            out.kick_user.user_id, out.kick_user.reason = cmd.user_id, cmd.reason
        case c.CloseRoom():
            out.close_room.reason = cmd.reason
        case c.ConnectionLeft():
            _user(cmd.user, out.connection_left.user)
            out.connection_left.conn_id = cmd.conn_id
        case c.UpdatePresence():
            p = out.presence
            p.instance_id, p.replace_all, p.version = cmd.instance_id, cmd.replace_all, cmd.version
            p.counts.update(cmd.counts)
        case c.Invalidate():
            out.invalidate.what = int(cmd.what)  # type: ignore[assignment]
            out.invalidate.user_id = cmd.user_id
        case c.GetState():
            out.get_state.SetInParent()
        case c.ReportDuration():
            _user(cmd.sender, out.report_duration.sender)
            out.report_duration.movie_id, out.report_duration.duration = cmd.movie_id, cmd.duration
            out.report_duration.from_metadata = cmd.from_metadata
        case c.Tick() | c.Wake():
            raise WireError("the owner's own timers never cross the mesh")
    return out


def command_from_pb(m: pb.RoomCommand) -> c.RoomCommand:
    kind = m.WhichOneof("body")
    if kind == "client_frame":
        f = m.client_frame
        return c.ClientFrame(_user_from(f.user), f.conn_id, f.frame, joined_ms=f.joined_ms, more=tuple(f.more_frames))
    if kind == "set_current_movie":
        return c.SetCurrentMovie(_user_from(m.set_current_movie.sender), movie_from_pb(m.set_current_movie.movie))
    if kind == "report_duration":
        r = m.report_duration
        return c.ReportDuration(_user_from(r.sender), r.movie_id, r.duration, r.from_metadata)
    if kind == "notify_movies":
        return c.NotifyMovies(_user_from(m.notify_movies.sender))
    if kind == "notify_my_status":
        return c.NotifyMyStatus(_user_from(m.notify_my_status.sender), m.notify_my_status.target_user_id)
    if kind == "kick_user":
        return c.KickUser(m.kick_user.user_id, m.kick_user.reason)
    if kind == "close_room":
        return c.CloseRoom(m.close_room.reason)
    if kind == "connection_left":
        return c.ConnectionLeft(_user_from(m.connection_left.user), m.connection_left.conn_id)
    if kind == "presence":
        p = m.presence
        return c.UpdatePresence(p.instance_id, dict(p.counts), replace_all=p.replace_all, version=p.version)
    if kind == "invalidate":
        try:
            what = c.CacheKind(m.invalidate.what)
        except ValueError:
            raise WireError(f"unknown cache kind {m.invalidate.what}") from None
        return c.Invalidate(what, m.invalidate.user_id)
    if kind == "get_state":
        return c.GetState()
    raise WireError(f"unknown room command {kind!r}")


# --- replies ---


def reply_to_pb(reply: c.Reply, out: pb.Reply) -> None:
    if reply.error is not None:
        out.code = int(reply.error.code)  # type: ignore[assignment]
        out.error = reply.error.message
    out.frames.extend(reply.frames)
    value = reply.value
    if isinstance(value, c.StateView):
        current_to_pb(value.current, out.state.current)
        out.state.viewer_count = value.viewer_count
        out.state.online.update(value.online)
    elif isinstance(value, int):
        out.viewer_count = value


def reply_from_pb(m: pb.Reply) -> c.Reply:
    error = None
    if m.code != pb.OK:
        try:
            code = ErrorCode(m.code)
        except ValueError:
            code = ErrorCode.INTERNAL
        error = RoomError(code, m.error)
    value: c.StateView | int | None = None
    kind = m.WhichOneof("value")
    if kind == "state":
        value = c.StateView(current=current_from_pb(m.state.current), viewer_count=m.state.viewer_count,
                            online=dict(m.state.online))
    elif kind == "viewer_count":
        value = m.viewer_count
    return c.Reply(error=error, frames=tuple(m.frames), value=value)


# --- deliveries ---

_AUDIENCE_TO_PB = {Audience.ALL: pb.AUDIENCE_ALL, Audience.OTHERS: pb.AUDIENCE_OTHERS,
                   Audience.CONNS: pb.AUDIENCE_CONNS, Audience.USER: pb.AUDIENCE_USER}
_AUDIENCE_FROM_PB = {v: k for k, v in _AUDIENCE_TO_PB.items()}


def delivery_to_pb(d: Delivery, out: pb.Delivery) -> None:
    out.frame = d.frame
    out.audience = _AUDIENCE_TO_PB[d.audience]
    out.conn_id, out.user_id, out.kick, out.reason = d.conn_id, d.user_id, d.kick, d.reason
    out.conn_ids.extend(d.conn_ids)


def delivery_from_pb(m: pb.Delivery) -> Delivery:
    return Delivery(frame=m.frame, audience=_AUDIENCE_FROM_PB.get(m.audience, Audience.ALL), conn_id=m.conn_id,
                    user_id=m.user_id, conn_ids=tuple(m.conn_ids), kick=m.kick, reason=m.reason)


# --- handoff ---


@dataclass(frozen=True, slots=True)
class Handoff:
    """What moves with a room: its snapshot, the edges subscribed to it, and the op ids it applied."""

    snapshot: Snapshot
    subscribers: frozenset[str]
    recent_ops: dict[str, c.Reply]


def snapshot_to_pb(room_id: str, snapshot: Snapshot, subscribers: set[str] | frozenset[str],
                   recent_ops: Mapping[str, c.Reply]) -> pb.RoomSnapshot:
    out = pb.RoomSnapshot(room_id=room_id, last_viewer_count=snapshot.state.last_viewer_count, seq=snapshot.seq)
    current_to_pb(snapshot.state.current, out.current)
    out.rtc_joined.extend(sorted(snapshot.state.rtc_joined))
    for instance, counts in snapshot.presence.items():
        out.presence[instance].counts.update(counts)
    out.subscribers.extend(sorted(subscribers))
    for op_id, reply in recent_ops.items():
        op = out.recent_ops.add(op_id=op_id)
        reply_to_pb(reply, op.reply)
    return out


def snapshot_from_pb(m: pb.RoomSnapshot) -> Handoff:
    state = RoomState(current=current_from_pb(m.current), rtc_joined=frozenset(m.rtc_joined),
                      last_viewer_count=m.last_viewer_count)
    presence = {instance: dict(p.counts) for instance, p in m.presence.items()}
    return Handoff(snapshot=Snapshot(state=state, seq=m.seq, presence=presence),
                   subscribers=frozenset(m.subscribers),
                   recent_ops={op.op_id: reply_from_pb(op.reply) for op in m.recent_ops})
