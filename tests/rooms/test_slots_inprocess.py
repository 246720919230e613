"""Connection slots hold across instances: one limit per key, kept by the key's owner on the ring; a close
gives its slot back, a peer leaving gives back all of its own, and a crashed peer's slots end with their
lease."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from synctv._generated import mesh_pb2 as pb
from synctv.mesh import MeshError
from synctv.rooms.cluster.slots import REPORT_DELAY_S, ClusterSlots, slot_key
from tests.support.inprocess_cluster import InProcessCluster
from tests.support.mesh import WRONG_SECRET

pytestmark = pytest.mark.timeout(30)

LEASE_S = 1.0


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[InProcessCluster]:
    cl = await InProcessCluster.start(tmp_path / "data", "n1", "n2", "n3")
    for node in cl.nodes.values():
        node.router.slots.lease_s = LEASE_S
    yield cl
    await cl.stop()


def slots(cl: InProcessCluster, *names: str) -> list[ClusterSlots]:
    return [cl.nodes[n].router.slots for n in names]


def key_owned_by(cl: InProcessCluster, owner: str, prefix: str = "ws-user:") -> str:
    s = cl.nodes["n1"].router.slots
    return next(k for k in (f"{prefix}{i}" for i in range(1000)) if s.owner(k) == owner)


async def until(check: object, timeout: float = 5.0) -> float:
    """Seconds until `check()` holds (it is retried)."""
    start = time.monotonic()
    while True:
        if await check():  # type: ignore[operator]
            return time.monotonic() - start
        assert time.monotonic() - start < timeout, "never held"
        await asyncio.sleep(0.02)


async def test_one_limit_across_instances(cluster: InProcessCluster) -> None:
    s1, s2, s3 = slots(cluster, "n1", "n2", "n3")
    key = key_owned_by(cluster, "n2")
    for s in (s1, s2, s3, s1, s2, s3):  # the limit's worth, split over the three
        assert await s.acquire([(key, 6)]) is None
    for s in (s1, s2, s3):
        assert await s.acquire([(key, 6)]) == 0  # refused wherever it is asked
    assert s1.asked >= 2 and s3.asked >= 2 and s2.asked == 0  # the owner itself asks nobody
    assert cluster.nodes["n2"].router.slots.book.total(key, time.monotonic()) == 6
    s3.release([key])  # a close on an edge gives its slot back to the owner (reported within REPORT_DELAY_S)
    await asyncio.sleep(REPORT_DELAY_S * 4)
    assert await s1.acquire([(key, 6)]) is None
    assert await s2.acquire([(key, 6)]) == 0
    assert await s1.acquire([(key_owned_by(cluster, "n3"), 6)]) is None  # other keys are untouched


async def test_the_asks_of_one_loop_turn_travel_together(cluster: InProcessCluster) -> None:
    s1 = cluster.nodes["n1"].router.slots
    key, other = key_owned_by(cluster, "n2"), key_owned_by(cluster, "n2", "ws-address:")
    answers = await asyncio.gather(*(s1.acquire([(key, 6)]) for _ in range(10)), s1.acquire([(other, 1)]))
    assert answers.count(None) == 7 and s1.asked == 1  # one message for eleven asks, each answered on its own
    assert s1.held(key) == 6 and s1.held(other) == 1


async def test_all_or_none(cluster: InProcessCluster) -> None:
    s1, s3 = slots(cluster, "n1", "n3")
    user, address = key_owned_by(cluster, "n2"), key_owned_by(cluster, "n3", "ws-address:")
    assert await s3.acquire([(address, 1)]) is None
    assert await s1.acquire([(user, 5), (address, 1)]) == 1  # the address is full
    assert s1.held(user) == 0 and s1.held(address) == 0
    await asyncio.sleep(REPORT_DELAY_S * 4)
    assert cluster.nodes["n2"].router.slots.book.total(user, time.monotonic()) == 0  # the user's slot came back


async def test_a_peer_leaving_frees_its_slots_and_the_new_owner_learns_the_rest(cluster: InProcessCluster) -> None:
    s1, s2, s3 = slots(cluster, "n1", "n2", "n3")
    kept, moving = key_owned_by(cluster, "n1"), key_owned_by(cluster, "n3")
    for _ in range(3):
        assert await s3.acquire([(kept, 3)]) is None
    assert await s2.acquire([(kept, 3)]) == 0
    assert await s1.acquire([(moving, 2)]) is None and await s2.acquire([(moving, 2)]) is None
    cluster.set_view("n1", "n2", on=("n1", "n2"))  # n3 leaves
    assert await s2.acquire([(kept, 3)]) is None  # n3's slots came back at once
    await asyncio.sleep(0.1)  # the edges report their counts to the key's new owner
    assert await s2.acquire([(moving, 2)]) == 0  # n1's and n2's slots count at the new owner


async def test_a_crashed_peers_slots_end_with_their_lease_while_the_living_renew(cluster: InProcessCluster) -> None:
    s1, s2 = slots(cluster, "n1", "n2")
    kept, renewed = key_owned_by(cluster, "n1"), key_owned_by(cluster, "n2")
    s3 = cluster.nodes["n3"].router.slots
    for _ in range(2):
        assert await s3.acquire([(kept, 2)]) is None
    assert await s1.acquire([(renewed, 1)]) is None
    await cluster.crash("n3")  # gone without a word; the others' views still list it
    assert await s2.acquire([(kept, 2)]) == 0
    freed_after = await until(lambda: _granted(s2, kept, 2), timeout=LEASE_S * 3)
    assert freed_after <= LEASE_S + 0.2
    await asyncio.sleep(LEASE_S * 2)  # n1 renews what it holds: its slot still counts past the lease
    assert await s2.acquire([(renewed, 1)]) == 0


async def _granted(s: ClusterSlots, key: str, limit: int) -> bool:
    return await s.acquire([(key, limit)]) is None


async def test_an_unreachable_owner_leaves_a_per_instance_limit(cluster: InProcessCluster) -> None:
    s1 = cluster.nodes["n1"].router.slots
    key = key_owned_by(cluster, "n3")
    await cluster.crash("n3")
    assert [await s1.acquire([(key, 2)]) for _ in range(3)] == [None, None, 0]


async def test_bad_slot_queries_are_refused(cluster: InProcessCluster) -> None:
    mesh = cluster.nodes["n1"].mesh
    owned = key_owned_by(cluster, "n2")
    elsewhere = key_owned_by(cluster, "n3")
    good = pb.SlotWant(key=owned, limit=3)
    for bad in ([], [pb.SlotWant(key="", limit=3)], [good, pb.SlotWant(key=owned, limit=0)],
                [pb.SlotWant(key="x" * 600, limit=3)], [good] * 5000):
        answer = await mesh.query("n2", pb.Query(slot_acquire=pb.SlotAcquire(wants=bad)), timeout=2)
        assert answer.code == pb.INVALID
    answer = await mesh.query("n2", pb.Query(slot_acquire=pb.SlotAcquire(
        wants=[good, pb.SlotWant(key=elsewhere, limit=3)])), timeout=2)
    assert answer.code == pb.NOT_OWNER
    for counts in ([pb.SlotCount(key="", count=1)], [pb.SlotCount(key=owned, count=10**7)],
                   [pb.SlotCount(key=owned, count=1)] * 5000):
        answer = await mesh.query("n2", pb.Query(slot_report=pb.SlotReport(held=counts)), timeout=2)
        assert answer.code == pb.INVALID
    book = cluster.nodes["n2"].router.slots.book
    assert book.keys() == []  # nothing half-applied
    report = pb.SlotReport(held=[pb.SlotCount(key=owned, count=2), pb.SlotCount(key=elsewhere, count=2)])
    answer = await mesh.query("n2", pb.Query(slot_report=report), timeout=2)
    assert answer.code == pb.OK and book.keys() == [owned]  # a key kept elsewhere is not counted here


async def test_an_instance_that_fails_mesh_authentication_cannot_take_slots(tmp_path: Path) -> None:
    cl = await InProcessCluster.start(tmp_path / "grpc", "n1", "n2", transport="grpc")  # real gRPC authentication
    try:
        intruder = await cl.add("n4", secret=WRONG_SECRET)
        cl.set_view("n1", "n2", "n4")
        key = key_owned_by(cl, "n1")
        ask = pb.SlotAcquire(wants=[pb.SlotWant(key=key, limit=5)])
        with pytest.raises((MeshError, TimeoutError)):
            await intruder.mesh.query("n1", pb.Query(slot_acquire=ask), timeout=1)
        report = pb.SlotReport(held=[pb.SlotCount(key=key, count=5)])
        with pytest.raises((MeshError, TimeoutError)):
            await intruder.mesh.query("n1", pb.Query(slot_report=report), timeout=1)
        assert cl.nodes["n1"].router.slots.book.keys() == []
        assert await cl.nodes["n2"].router.slots.acquire([(key, 1)]) is None  # a member's ask goes through
    finally:
        await cl.stop()


async def test_a_refused_ask_never_leaves_a_count_behind(cluster: InProcessCluster) -> None:
    """A renewal while an ask is in flight carries the ask's count; a refusal takes it back again."""
    s1 = cluster.nodes["n1"].router.slots
    user, address = key_owned_by(cluster, "n1"), key_owned_by(cluster, "n2", "ws-address:")
    assert await s1.acquire([(user, 1)]) is None
    asking = asyncio.create_task(s1.acquire([(user, 1), (address, 5)]))
    await asyncio.sleep(0)  # the user's slot is refused here; the address's ask is on its way to n2
    await s1.report()  # a renewal meanwhile
    assert await asking == 0
    assert s1.book.total(user, time.monotonic()) == 1 and s1.held(user) == 1
    await asyncio.sleep(REPORT_DELAY_S * 4)
    assert cluster.nodes["n2"].router.slots.book.total(address, time.monotonic()) == 0


async def test_a_key_too_long_for_the_mesh_is_kept_by_its_digest(cluster: InProcessCluster) -> None:
    """A client address is whatever a trusted proxy forwarded: however long, it is counted like any other
    (and never makes an owner refuse a whole report)."""
    s1, s2, s3 = slots(cluster, "n1", "n2", "n3")
    long_keys = [f"ws-address:{i}-" + "x" * 4000 for i in range(40)]
    key = next(k for k in long_keys if s1.owner(slot_key(k)) == "n2")
    assert await s1.acquire([(key, 2)]) is None and await s3.acquire([(key, 2)]) is None
    assert await s1.acquire([(key, 2)]) == 0
    assert cluster.nodes["n2"].router.slots.book.keys() == [slot_key(key)]
    await s1.report()  # a renewal carrying it is accepted
    assert cluster.nodes["n2"].router.slots.book.total(slot_key(key), time.monotonic()) == 2
    s1.release([key])
    await asyncio.sleep(REPORT_DELAY_S * 4)
    assert s1.held(key) == 0 and await s2.acquire([(key, 2)]) is None


async def test_an_ask_cancelled_midway_keeps_nothing(cluster: InProcessCluster) -> None:
    s1 = cluster.nodes["n1"].router.slots
    key = key_owned_by(cluster, "n2")
    asking = asyncio.create_task(s1.acquire([(key, 3)]))
    await asyncio.sleep(0)
    asking.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asking
    assert s1.held(key) == 0
    await asyncio.sleep(REPORT_DELAY_S * 4)  # the owner may have granted it already: the report takes it back
    assert cluster.nodes["n2"].router.slots.book.total(key, time.monotonic()) == 0
