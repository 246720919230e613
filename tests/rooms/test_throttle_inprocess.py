"""Throttling holds across instances: every instance admits from one budget per key, kept by the key's
owner on the ring; brute-force lockouts counted on one instance are seen on every other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from synctv._generated import mesh_pb2 as pb
from tests.support.inprocess_cluster import InProcessCluster

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[InProcessCluster]:
    cl = await InProcessCluster.start(tmp_path / "data", "n1", "n2", "n3")
    yield cl
    await cl.stop()


async def test_a_rate_limit_is_one_budget_across_instances(cluster: InProcessCluster) -> None:
    throttles = [cluster.nodes[n].router.throttle for n in ("n1", "n2", "n3")]
    owner = throttles[0].owner("http:10.0.0.7")
    assert {t.owner("http:10.0.0.7") for t in throttles} == {owner}

    async def hammer(i: int) -> int:
        admitted = 0
        for _ in range(40):
            if await throttles[i].allow("http:10.0.0.7", limit=60, period_s=30) == 0:
                admitted += 1
        return admitted

    admitted = await asyncio.gather(*(hammer(i) for i in range(3)))
    assert sum(admitted) <= 60  # 120 tried through three instances: one budget
    assert sum(admitted) >= 54  # little of it stranded in unused leases
    assert all(n > 0 for n in admitted)
    wait = await throttles[1].allow("http:10.0.0.7", limit=60, period_s=30)
    assert 0 < wait <= 30
    assert sum(t.asked for t in throttles) >= 2  # edges asked the owner for leases
    assert await throttles[2].allow("http:10.0.0.8", limit=60, period_s=30) == 0  # other keys are untouched


async def test_brute_force_counts_are_shared(cluster: InProcessCluster) -> None:
    t1, t2, t3 = (cluster.nodes[n].router.throttle for n in ("n1", "n2", "n3"))
    for t in (t1, t2, t3, t1, t2):  # five free failures, spread over instances
        assert await t.failed("login:alice") == 0
    assert await t3.failed("login:alice") == pytest.approx(1.0, abs=0.05)
    assert await t1.lockout("login:alice") > 0 and await t2.lockout("login:alice") > 0
    await t2.succeeded("login:alice")
    assert await t3.lockout("login:alice") == 0


async def test_bad_throttle_queries_are_refused(cluster: InProcessCluster) -> None:
    mesh = cluster.nodes["n1"].mesh
    key = next(k for k in (f"k{i}" for i in range(100)) if cluster.nodes["n1"].router.throttle.owner(k) == "n2")
    for bad in (pb.ThrottleRequest(op=pb.THROTTLE_LEASE, key=key, limit=0, period_ms=1000),
                pb.ThrottleRequest(op=pb.THROTTLE_UNSPECIFIED, key=key),
                pb.ThrottleRequest(op=pb.THROTTLE_CHECK, key="x" * 600)):
        answer = await mesh.query("n2", pb.Query(throttle=bad), timeout=2)
        assert answer.code in (pb.INVALID, pb.NOT_OWNER)
    other = next(k for k in (f"k{i}" for i in range(100)) if cluster.nodes["n1"].router.throttle.owner(k) == "n3")
    answer = await mesh.query("n2", pb.Query(throttle=pb.ThrottleRequest(op=pb.THROTTLE_CHECK, key=other)), timeout=2)
    assert answer.code == pb.NOT_OWNER
