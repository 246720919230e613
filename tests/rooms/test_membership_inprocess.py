"""Membership is discovery *and* mutual mesh authentication: an instance with another cluster secret or
protocol major is left out of every ring, owns nothing, and the others name it."""

from __future__ import annotations

from pathlib import Path

import pytest

from synctv.core.errors import ErrorCode
from synctv.discovery import Member
from synctv.mesh.version import PROTOCOL_MAJOR
from synctv.rooms.cluster.placement import left_out
from tests.support.inprocess_cluster import InProcessCluster
from tests.support.mesh import WRONG_SECRET

pytestmark = pytest.mark.timeout(20)


def test_the_side_without_a_majority_is_left_out() -> None:
    d = [Member("a", started_at_ms=1), Member("b", started_at_ms=2), Member("c", started_at_ms=3),
         Member("x", started_at_ms=4)]
    assert not left_out("a", d, d[:3])
    assert left_out("x", d, [d[3]])
    assert not left_out("solo", [], [])  # a lone instance is a cluster of one
    assert not left_out("solo", [Member("solo")], [Member("solo")])
    # A tie goes to the side that holds the oldest member.
    assert not left_out("a", d[:2], [d[0]])
    assert left_out("b", d[:2], [d[1]])
    # Members that discovery does not list do not count.
    assert left_out("x", d, [d[3], Member("ghost")])


async def test_an_instance_with_another_secret_owns_no_room_and_is_named(tmp_path: Path) -> None:
    cl = await InProcessCluster.start(tmp_path / "data", "n1", "n2", "n3")
    try:
        await cl.add("n4", secret=WRONG_SECRET)
        cl.set_view("n1", "n2", "n3", "n4")
        for name in ("n1", "n2", "n3"):
            router = cl.nodes[name].router
            assert set(router.placement.ring.instance_ids) == {"n1", "n2", "n3"}
            assert not router.left_out and router.ownership.can_own
            assert "UNAUTHENTICATED" in router.excluded_peers()["n4"]
            assert cl.nodes[name].mesh.stats.auth_failures["n4"] == 1
        bad = cl.nodes["n4"].router
        assert bad.left_out and not bad.ownership.can_own
        assert set(bad.excluded_peers()) == {"n1", "n2", "n3"}
        # A room the four-instance ring would give to n4 is owned by one of the three.
        room_id, _ = await cl.room_owned_by("n4", among=("n1", "n2", "n3", "n4"))
        viewer = await cl.viewer("n1", room_id, "alice")
        assert cl.nodes["n1"].router.owner(room_id) in {"n1", "n2", "n3"}
        assert room_id not in bad.owned_rooms()
        assert viewer.node.name == "n1"
        refused = await bad.submit(room_id, bad.presence({"u": 1}))
        assert refused.error is not None and refused.error.code is ErrorCode.UNAVAILABLE
        assert bad.owned_rooms() == []
    finally:
        await cl.stop()


async def test_a_peer_of_another_protocol_major_is_left_out(tmp_path: Path) -> None:
    cl = await InProcessCluster.start(tmp_path / "data", "n1", "n2")
    try:
        await cl.add("n3", protocol=(PROTOCOL_MAJOR + 1, 0))
        cl.set_view("n1", "n2", "n3")
        for name in ("n1", "n2"):
            router = cl.nodes[name].router
            assert set(router.placement.ring.instance_ids) == {"n1", "n2"}
            assert "protocol" in router.excluded_peers()["n3"]
        assert cl.nodes["n3"].router.left_out
    finally:
        await cl.stop()


async def test_two_instances_split_by_secret_the_older_keeps_owning(tmp_path: Path) -> None:
    cl = await InProcessCluster.start(tmp_path / "data", "n1")
    try:
        await cl.add("n2", secret=WRONG_SECRET)
        cl.set_view("n1", "n2")
        assert not cl.nodes["n1"].router.left_out and cl.nodes["n1"].router.ownership.can_own
        assert cl.nodes["n2"].router.left_out and not cl.nodes["n2"].router.ownership.can_own
        assert cl.nodes["n1"].router.placement.ring.instance_ids == ("n1",)
    finally:
        await cl.stop()


async def test_a_pending_peer_joins_the_ring_once_authenticated(tmp_path: Path) -> None:
    cl = await InProcessCluster.start(tmp_path / "data", "n1", "n2")
    try:
        # n3 is listed by discovery before it runs: pending, not in the ring, not held against n1 and n2.
        members = [cl._member(n) for n in ("n1", "n2", "n3")]
        for name in ("n1", "n2"):
            cl.nodes[name].router.set_members(members)
            assert cl.nodes[name].router.excluded_peers() == {"n3": "mesh authentication pending"}
            assert set(cl.nodes[name].router.placement.ring.instance_ids) == {"n1", "n2"}
        await cl.add("n3")
        cl.set_view("n1", "n2", "n3")
        for name in ("n1", "n2", "n3"):
            assert set(cl.nodes[name].router.placement.ring.instance_ids) == {"n1", "n2", "n3"}
            assert cl.nodes[name].router.excluded_peers() == {}
    finally:
        await cl.stop()
