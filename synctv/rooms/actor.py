"""RoomActor: the owner's single serial loop for one room.

Every change to a room's live state goes through `submit`; commands are applied one at a time by the sans-IO
state machine, the new state is persisted (fenced by the ownership epoch) and only then are the resulting
events published, each with the next per-room sequence number. Client frames are decoded here, once, and the
sender's permissions are resolved here from the database: commands say who the user is, never their role.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from synctv.core import commands as c
from synctv.core import playback, playlist
from synctv.core import room as core
from synctv.core.errors import ErrorCode, RoomError
from synctv.core.permissions import GUEST_USER_ID, MemberRole, Membership, MemberStatus, Role, Subject
from synctv.core.permissions import effective_permissions as _effective
from synctv.core.presence import PresenceTable
from synctv.observability import tracing
from synctv.rooms import frames
from synctv.rooms.delivery import Delivery, from_kick, from_outgoing
from synctv.store import Store
from synctv.store.chat import ChatEntry
from synctv.store.errors import UNAVAILABLE_MESSAGE, database_unavailable
from synctv.store.rooms import FenceRejected

log = logging.getLogger(__name__)

VIEWER_TICK_S = 5.0
QUEUE_LIMIT = 4096
# Op ids remembered per room (applied at most once, also across a change of owner).
RECENT_OPS = 256
PERSISTED_OPS = 64

# A room loaded from the database numbers its events from epoch << this (2**32 events per ownership at most).
SEQ_EPOCH_SHIFT = 32
# publish(room_id, first_seq, server_ts_ms, deliveries)
Publisher = Callable[[str, int, int, list[Delivery]], None]


class RoomUnavailable(Exception):
    """The room cannot be served by this actor (missing, closed, or ownership lost)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class _Job:
    cmd: c.RoomCommand | None  # None: stop marker
    future: asyncio.Future[c.Reply] | None
    trace_ctx: Any = None  # the submitter's trace context, so the actor's span joins its trace
    op_id: str = ""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class RoomActor:
    def __init__(self, room_id: str, store: Store, publish: Publisher, *,
                 on_fenced: Callable[[str], None] | None = None, instance_id: str = "") -> None:
        self.room_id = room_id
        self.instance_id = instance_id
        self._store = store
        self._publish = publish
        self._on_fenced = on_fenced
        self.state = core.RoomState()
        self.seq = 0
        self.epoch = 0
        self.presence = PresenceTable()
        self.recent_ops: OrderedDict[str, c.Reply] = OrderedDict()
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(QUEUE_LIMIT)
        self._creator_id = ""
        self._settings: dict[str, Any] | None = None
        self._members: dict[str, Membership | None] = {}
        self._roles: dict[str, Role] = {}
        # Bumped whenever cached rights are dropped: a prefetch that started before must not refill them.
        self._rights_gen = 0
        self.chat_history_failures = 0
        self._prefetches: set[asyncio.Task[None]] = set()
        self._current_op = ""
        self._loop_task: asyncio.Task[None] | None = None
        self._tick_task: asyncio.Task[None] | None = None
        self._wake: asyncio.TimerHandle | None = None
        self._wake_at = 0
        self._wake_task: asyncio.Future[None] | None = None
        self._advanced: tuple[str, int] | None = None  # the ended (movie, moment) auto-play already acted on
        self.stopped = False
        self.last_active = time.monotonic()

    async def start(self, snapshot: core.Snapshot | None = None,
                    recent_ops: dict[str, c.Reply] | None = None) -> None:
        """Take ownership: raise the epoch in the database, then load state (or continue from a snapshot)."""
        taken = await self._store.rooms.take_ownership(self.room_id)
        if taken is None:
            raise RoomUnavailable(ErrorCode.NOT_FOUND, "room not found")
        self.epoch, current_json, ops_json = taken
        for op in json.loads(ops_json) if ops_json else []:
            self.recent_ops[str(op)] = c.Reply()
        self.recent_ops.update(recent_ops or {})
        if snapshot is not None:
            self.state, self.seq = snapshot.state, snapshot.seq
            self.presence = PresenceTable(snapshot.presence)
        else:
            current = playback.current_from_json(json.loads(current_json)) if current_json else playback.Current()
            self.state = core.RoomState(current=current)
            # Events are not stored, so their sequence restarts above every earlier owner's: an edge still
            # following this instance (the room reloaded here after a fence) would drop lower ones as repeats.
            self.seq = self.epoch << SEQ_EPOCH_SHIFT
        await self._load_room()
        self._loop_task = asyncio.create_task(self._run(), name=f"room-{self.room_id}")
        self._tick_task = asyncio.create_task(self._ticker(), name=f"room-tick-{self.room_id}")
        self._schedule_wake()

    async def _load_room(self) -> None:
        row = await self._store.rooms.get(self.room_id)
        if row is None:
            raise RoomUnavailable(ErrorCode.NOT_FOUND, "room not found")
        self._creator_id = row.creator_id
        self._settings = await self._store.rooms.get_settings(self.room_id) or {}
        self._members.clear()
        self._rights_gen += 1

    async def submit(self, cmd: c.RoomCommand, op_id: str = "") -> c.Reply:
        """Apply a command in order; a command whose op id was already applied gets the first reply again."""
        if self.stopped:
            raise RoomUnavailable(ErrorCode.MOVING, "room actor stopped")
        fut: asyncio.Future[c.Reply] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait(_Job(cmd, fut, tracing.current_context(), op_id))
        except asyncio.QueueFull:
            return c.Reply.fail(ErrorCode.BUSY, "room is busy, try again")
        return await fut

    async def stop(self) -> None:
        """Stop taking commands; commands already queued are answered first."""
        self.stopped = True
        if self._tick_task:
            self._tick_task.cancel()
        for task in list(self._prefetches):
            task.cancel()
        if self._wake is not None:
            self._wake.cancel()
        if self._loop_task and not self._loop_task.done():
            await self._queue.put(_Job(None, None))
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._loop_task

    def snapshot(self) -> core.Snapshot:
        return core.Snapshot(state=self.state, seq=self.seq, presence=self.presence.copy_counts())

    # --- viewers ---

    def viewer_count(self) -> int:
        return self.presence.viewer_count()

    def drop_instance(self, instance_id: str) -> None:
        self.presence.drop_instance(instance_id)

    # --- the loop ---

    async def _ticker(self) -> None:
        while not self.stopped:
            await asyncio.sleep(VIEWER_TICK_S)
            with contextlib.suppress(RoomUnavailable):
                await self.submit(c.Tick())

    # --- the end of the movie and auto-play ---

    def _play_mode(self) -> playlist.PlayMode:
        return playlist.parse_mode((self._settings or {}).get("play_mode", int(playlist.PlayMode.OFF)))

    def _next_delay_ms(self) -> int:
        delay = (self._settings or {}).get("play_next_delay", playlist.DEFAULT_NEXT_DELAY_S)
        return int(delay if isinstance(delay, int) else playlist.DEFAULT_NEXT_DELAY_S) * 1000

    def _pending_advance(self) -> int | None:
        """When auto-play starts the next movie, if the current one ended and hasn't been acted on."""
        current = self.state.current
        if not playback.is_ended(current) or self._play_mode() is playlist.PlayMode.OFF:
            return None
        if self._advanced == (current.movie.id, current.status.last_update_ms):
            return None
        return current.status.last_update_ms + self._next_delay_ms()

    def _schedule_wake(self) -> None:
        if self.stopped:
            return
        due = [t for t in (core.wake_at(self.state), self._pending_advance()) if t is not None]
        at = min(due) if due else 0
        if at == self._wake_at and self._wake is not None:
            return
        if self._wake is not None:
            self._wake.cancel()
            self._wake = None
        self._wake_at = at
        if at:
            loop = asyncio.get_running_loop()
            self._wake = loop.call_later(max(at - now_ms(), 0) / 1000.0, self._on_wake)

    def _on_wake(self) -> None:
        self._wake, self._wake_at = None, 0
        if not self.stopped:
            self._wake_task = asyncio.ensure_future(self._submit_wake())

    async def _submit_wake(self) -> None:
        with contextlib.suppress(RoomUnavailable):
            await self.submit(c.Wake())

    async def _on_wake_cmd(self, now: int) -> c.Reply:
        reply = await self._commit(core.apply(self.state, core.CheckEnd(), now), now)
        due = self._pending_advance()
        if due is None or due > now:
            return reply
        current = self.state.current
        self._advanced = (current.movie.id, current.status.last_update_ms)
        siblings = await self._store.movies.siblings(self.room_id, current.movie.id)
        live = dict(siblings)
        pick = random.randrange(1 << 30) if siblings else 0
        next_id = playlist.next_movie(self._play_mode(), [m for m, _ in siblings], current.movie.id, pick)
        if next_id is None or next_id not in live:
            return reply
        duration = current.movie.duration if next_id == current.movie.id else 0.0
        movie = playback.CurrentMovie(id=next_id, is_live=live[next_id], duration=duration)
        return await self._commit(core.apply(self.state, c.SetCurrentMovie(_AUTOPLAY, movie), now), now)

    async def _run(self) -> None:
        while True:
            job = await self._queue.get()
            if job.cmd is None or job.future is None:
                break
            # A command whose submitter went away is still applied: it may have been acknowledged elsewhere.
            if job.op_id and job.op_id in self.recent_ops:
                if not job.future.done():
                    job.future.set_result(self.recent_ops[job.op_id])
                continue
            self._current_op = job.op_id
            try:
                with tracing.attached(job.trace_ctx), tracing.span(
                        f"room.apply {type(job.cmd).__name__}",
                        {"synctv.instance": self.instance_id, "synctv.room": self.room_id, "synctv.epoch": self.epoch}):
                    reply = await self._handle(job.cmd)
            except FenceRejected as exc:
                log.error("ownership lost; actor stops", extra={"room_id": self.room_id, "error": str(exc)})
                if not job.future.done():
                    job.future.set_result(_MOVED)
                self._fail_pending()
                if self._on_fenced:
                    self._on_fenced(self.room_id)
                return
            except Exception as exc:  # a bug in one command must not kill the room
                if database_unavailable(exc):
                    # Nothing was applied (persist comes first): the client retries, with the same op id.
                    log.warning("room command refused: database unavailable", extra={"room_id": self.room_id})
                    if not job.future.done():
                        job.future.set_result(c.Reply.fail(ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE))
                    continue
                log.exception("room command failed", extra={"room_id": self.room_id})
                reply = c.Reply.fail(ErrorCode.INTERNAL, f"internal error: {type(exc).__name__}")
            if job.op_id:
                self._remember(job.op_id, reply)
            if not job.future.done():
                job.future.set_result(reply)
            if not isinstance(job.cmd, (c.Tick, c.GetState, c.Wake)):
                self.last_active = time.monotonic()
            self._schedule_wake()

    def _remember(self, op_id: str, reply: c.Reply) -> None:
        self.recent_ops[op_id] = reply
        while len(self.recent_ops) > RECENT_OPS:
            self.recent_ops.popitem(last=False)

    def _fail_pending(self) -> None:
        self.stopped = True
        while not self._queue.empty():
            job = self._queue.get_nowait()
            if job.future is not None and not job.future.done():
                job.future.set_result(_MOVED)

    async def _membership(self, user_id: str) -> Membership | None:
        if user_id not in self._members:
            row = await self._store.members.get(self.room_id, user_id)
            self._members[user_id] = _membership_of(row)
        return self._members[user_id]

    async def _role(self, user_id: str) -> Role:
        role = self._roles.get(user_id)
        if role is None:
            user = None if user_id == GUEST_USER_ID else await self._store.users.get(user_id)
            role = self._roles[user_id] = Role(user.role) if user is not None else Role.USER
        return role

    def _prefetch_rights(self, user_ids: list[str]) -> None:
        """Load the rights of viewers who just arrived, in the background and in one query per wave, so that
        their first message does not wait for two database reads in the room's serial loop."""
        wanted = [u for u in user_ids if u != GUEST_USER_ID and (u not in self._members or u not in self._roles)]
        if not wanted or self.stopped:
            return
        task = asyncio.ensure_future(self._load_rights(wanted, self._rights_gen))
        self._prefetches.add(task)
        task.add_done_callback(self._prefetches.discard)

    async def _load_rights(self, user_ids: list[str], gen: int) -> None:
        try:
            rows = await self._store.members.get_many(self.room_id, user_ids)
            users = await asyncio.gather(*(self._store.users.get(u) for u in user_ids))
        except Exception:  # only a warm-up: the first message reads them itself
            return
        if gen != self._rights_gen:
            return
        for user_id, user in zip(user_ids, users, strict=True):
            if user_id not in self._members:
                self._members[user_id] = _membership_of(rows.get(user_id))
            if user_id not in self._roles:
                self._roles[user_id] = Role(user.role) if user is not None else Role.USER

    async def _permissions(self, user_id: str) -> int:
        subject = Subject(user_id, await self._role(user_id))
        member = None if user_id == GUEST_USER_ID else await self._membership(user_id)
        return _effective(subject, self._creator_id, member, self._settings or {})

    async def _handle(self, cmd: c.RoomCommand) -> c.Reply:
        now = now_ms()
        match cmd:
            case c.ClientFrame():
                if cmd.more:
                    return await self._client_batch(cmd, now)
                try:
                    msg = frames.decode(cmd.frame)
                except frames.FrameError as exc:
                    return c.Reply.fail(ErrorCode.MALFORMED, str(exc))
                perms = await self._permissions(cmd.user.user_id)
                actor = core.Actor(cmd.user.user_id, cmd.user.username, cmd.conn_id, perms, joined_ms=cmd.joined_ms)
                return await self._commit(core.apply(self.state, core.ClientMessage(actor, msg), now), now)
            case c.NotifyMyStatus():
                self._members.pop(cmd.target_user_id, None)
                self._rights_gen += 1
            case c.KickUser():
                self._members.pop(cmd.user_id, None)
                self._rights_gen += 1
            case c.CloseRoom():
                reply = await self._commit(core.apply(self.state, cmd, now), now)
                self.stopped = True
                return reply
            case c.UpdatePresence():
                self.presence.apply(cmd)
                self._prefetch_rights([u for u, n in cmd.counts.items() if n > 0])
                return c.Reply(value=self.viewer_count())
            case c.Invalidate():
                self._rights_gen += 1
                if cmd.what is c.CacheKind.MEMBER:
                    self._members.pop(cmd.user_id, None)
                elif cmd.what is c.CacheKind.USER:
                    if cmd.user_id:
                        self._roles.pop(cmd.user_id, None)
                    else:
                        self._roles.clear()
                else:
                    await self._load_room()
                return c.Reply()
            case c.GetState():
                current = playback.extrapolate(self.state.current, now)
                return c.Reply(value=c.StateView(current=current, viewer_count=self.viewer_count(),
                                                 online=self.presence.online()))
            case c.Tick():
                return await self._commit(core.apply(self.state, core.ViewerCount(self.viewer_count()), now), now)
            case c.Wake():
                return await self._on_wake_cmd(now)
        # The state machine's own commands pass straight through.
        return await self._commit(core.apply(self.state, cmd, now), now)

    async def _client_batch(self, cmd: c.ClientFrame, now: int) -> c.Reply:
        """Several messages of one connection, applied in order as if one by one, committed together: one write,
        one publish. Each message's own answers (and refusals, as ERROR frames) go back in the same order; an
        undecodable message ends the batch there (the edge closes that connection)."""
        perms = await self._permissions(cmd.user.user_id)
        actor = core.Actor(cmd.user.user_id, cmd.user.username, cmd.conn_id, perms, joined_ms=cmd.joined_ms)
        state, persist = self.state, False
        broadcast: list[core.Outgoing] = []
        kicks: list[core.Kick] = []
        answers: list[bytes] = []
        malformed: RoomError | None = None
        for data in (cmd.frame, *cmd.more):
            try:
                msg = frames.decode(data)
            except frames.FrameError as exc:
                malformed = RoomError(ErrorCode.MALFORMED, str(exc))
                break
            result = core.apply(state, core.ClientMessage(actor, msg), now)
            state, persist = result.state, persist or result.persist
            broadcast += result.broadcast
            kicks += result.kicks
            answers += [frames.encode(m) for m in result.direct]
            if result.error is not None:
                answers.append(frames.error_frame(result.error.message))
        merged = core.Result(state, broadcast=tuple(broadcast), persist=persist, kicks=tuple(kicks))
        await self._commit(merged, now)
        return c.Reply(error=malformed, frames=tuple(answers))

    async def _commit(self, result: core.Result, now: int) -> c.Reply:
        if result.persist:
            # Persist, then publish: an event a viewer has seen survives a crash of this instance.
            payload = json.dumps(playback.current_to_json(result.state.current), separators=(",", ":"))
            ops = list(self.recent_ops)[-(PERSISTED_OPS - 1):]
            if self._current_op:
                ops.append(self._current_op)
            await self._store.rooms.save_current(self.room_id, self.epoch, payload, json.dumps(ops))
        try:
            await self._keep_chat(result)
        except Exception as exc:  # history is a courtesy: a database outage must not stop the room's chat
            self.chat_history_failures += 1
            if self.chat_history_failures == 1 or self.chat_history_failures % 100 == 0:
                log.warning("chat history not stored (the message is delivered anyway): %s", exc,
                            extra={"room_id": self.room_id, "failures": self.chat_history_failures})
        self.state = result.state
        deliveries = [from_outgoing(o) for o in result.broadcast] + [from_kick(k) for k in result.kicks]
        if deliveries:
            first = self.seq + 1
            self.seq += len(deliveries)
            self._publish(self.room_id, first, now, deliveries)
        return c.Reply(error=result.error, frames=tuple(frames.encode(m) for m in result.direct))


    async def _keep_chat(self, result: core.Result) -> None:
        """Chat joins the room's history before anyone sees it, so a viewer who joins next finds it there."""
        keep = self._store.settings.int("chat_history_max")
        if keep <= 0:
            return
        days = self._store.settings.int("chat_history_days")
        for out in result.broadcast:
            msg = out.msg
            if msg.type is core.MsgType.CHAT and msg.sender is not None and msg.chat_content is not None:
                entry = ChatEntry(msg.timestamp, msg.sender.user_id, msg.sender.username, msg.chat_content)
                older = msg.timestamp - days * 86_400_000 if days > 0 else 0
                await self._store.chat.add(self.room_id, entry, keep=keep, older_than_ms=older)


def _membership_of(row: Any) -> Membership | None:
    return None if row is None else Membership(role=MemberRole(row.role), status=MemberStatus(row.status),
                                                permissions=row.permissions, admin_permissions=row.admin_permissions)


# The sender of a CURRENT that auto-play caused (no user chose it).
_AUTOPLAY = c.UserRef("", "")
_MOVED = c.Reply(error=RoomError(ErrorCode.MOVING, "room moved to another instance, try again"))
