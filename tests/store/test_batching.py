"""Coalesced lookups and group-committed memberships: one statement per wave, answers as fresh as asking alone."""

from __future__ import annotations

import asyncio

import pytest

from synctv.core.permissions import MemberStatus, Role, RoomStatus
from synctv.store.batching import Batcher
from synctv.store.members import MembershipGone
from tests.support.servers import Server


class Recorder:
    def __init__(self, delay: float = 0.0, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.delay = delay
        self.fail_on = fail_on

    async def run(self, keys: dict[str, int]) -> dict[str, int | BaseException]:
        self.batches.append(sorted(keys))
        await asyncio.sleep(self.delay)
        if self.fail_on is not None and self.fail_on in keys:
            raise RuntimeError("database is down")
        return {k: (ValueError(k) if k.startswith("bad") else v * 10) for k, v in keys.items() if k != "lost"}


async def test_concurrent_keys_share_one_batch_and_each_gets_its_answer() -> None:
    rec = Recorder()
    b: Batcher[str, int, int] = Batcher(rec.run)
    got = await asyncio.gather(*(b.get(f"k{i}", i) for i in range(50)))
    assert got == [i * 10 for i in range(50)]
    assert len(rec.batches) == 1 and len(rec.batches[0]) == 50


async def test_a_key_asked_during_a_running_batch_waits_for_the_next_one() -> None:
    rec = Recorder(delay=0.05)
    b: Batcher[str, int, int] = Batcher(rec.run)
    first = asyncio.ensure_future(b.get("a", 1))
    await asyncio.sleep(0.01)  # the first batch is running now
    second = await asyncio.gather(b.get("a", 2), b.get("b", 3))
    assert await first == 10
    assert second == [20, 30]  # not the running batch's answer for "a": the next batch's, with its argument
    assert rec.batches == [["a"], ["a", "b"]]


async def test_errors_reach_only_their_callers_and_the_batcher_keeps_working() -> None:
    rec = Recorder(fail_on="boom")
    b: Batcher[str, int, int] = Batcher(rec.run)
    ok, bad, lost = await asyncio.gather(b.get("ok", 1), b.get("bad1", 2), b.get("lost", 3), return_exceptions=True)
    assert ok == 10 and isinstance(bad, ValueError) and isinstance(lost, KeyError)
    with pytest.raises(RuntimeError, match="database is down"):
        await asyncio.gather(b.get("boom", 1), b.get("x", 2))
    assert await b.get("y", 4) == 40


async def test_a_caller_giving_up_does_not_cancel_the_others() -> None:
    rec = Recorder(delay=0.05)
    b: Batcher[str, int, int] = Batcher(rec.run)
    quitter = asyncio.ensure_future(b.get("k", 1))
    stayer = asyncio.ensure_future(b.get("k", 1))
    await asyncio.sleep(0.01)
    quitter.cancel()
    assert await stayer == 10


async def test_batches_are_bounded() -> None:
    rec = Recorder()
    b: Batcher[str, int, int] = Batcher(rec.run, max_batch=7)
    await asyncio.gather(*(b.get(f"k{i:02d}", i) for i in range(20)))
    assert [len(x) for x in rec.batches] == [7, 7, 6]


async def _room(server: Server, name: str) -> tuple[str, str]:
    owner = await server.store.users.create(name + "-owner", b"x", Role.USER)
    room = await server.store.rooms.create(name, owner.id, b"", RoomStatus.ACTIVE, {})
    return room.id, owner.id


async def test_a_storm_of_first_joins_creates_every_membership_once(server: Server) -> None:
    room_id, _ = await _room(server, "storm")
    users = [(await server.store.users.create(f"joiner{i}", b"x", Role.USER)).id for i in range(40)]
    members = server.store.members
    # Every user asks twice at once (two tabs): one row each, both callers get it.
    rows = await asyncio.gather(*(members.get_or_create(room_id, u, status=MemberStatus.ACTIVE, permissions=193)
                                  for u in users + users))
    assert sorted({r.user_id for r in rows}) == sorted(users)
    for u in users:
        row = await members.get(room_id, u)
        assert row is not None and row.permissions == 193 and row.status == MemberStatus.ACTIVE
    # An existing membership is returned as it is, not overwritten with the new values.
    again = await members.get_or_create(room_id, users[0], status=MemberStatus.PENDING, permissions=1)
    assert again.status == MemberStatus.ACTIVE and again.permissions == 193


async def test_a_deleted_room_fails_only_its_own_joins(server: Server) -> None:
    live_room, _ = await _room(server, "live")
    gone_room, _ = await _room(server, "gone")
    a = (await server.store.users.create("alice-b", b"x", Role.USER)).id
    b = (await server.store.users.create("bob-b", b"x", Role.USER)).id
    assert await server.store.rooms.delete(gone_room)
    results = await asyncio.gather(
        server.store.members.get_or_create(live_room, a, status=MemberStatus.ACTIVE, permissions=193),
        server.store.members.get_or_create(gone_room, b, status=MemberStatus.ACTIVE, permissions=193),
        server.store.members.get_or_create(live_room, b, status=MemberStatus.ACTIVE, permissions=193),
        return_exceptions=True)
    assert not isinstance(results[0], BaseException) and results[0].user_id == a
    assert isinstance(results[1], MembershipGone)
    assert not isinstance(results[2], BaseException) and results[2].user_id == b


async def test_batched_reads_see_writes_made_before_they_were_asked(server: Server) -> None:
    room_id, owner = await _room(server, "fresh")
    users = server.store.users
    assert (await users.get(owner)).role == Role.USER
    await users.set_role(owner, Role.BANNED)
    infos = await asyncio.gather(*(server.store.rooms.access_info(room_id, owner) for _ in range(5)),
                                 users.get(owner), server.store.rooms.access_info("0" * 32, owner))
    assert all(i.creator_role == Role.BANNED for i in infos[:5])
    assert infos[5].role == Role.BANNED
    assert infos[6] is None
