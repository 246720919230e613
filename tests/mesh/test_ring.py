from __future__ import annotations

import random
from collections import Counter

import pytest

from synctv.mesh.ring import Ring

ROOMS = [f"room-{i}" for i in range(5000)]


def test_same_members_same_owner_regardless_of_order() -> None:
    ids = ["node-a", "node-b", "node-c"]
    shuffled = ids[:]
    random.Random(7).shuffle(shuffled)
    r1, r2 = Ring(ids), Ring([*shuffled, "node-a"])
    assert all(r1.owner(room) == r2.owner(room) for room in ROOMS)


def test_known_owner_is_stable_across_processes() -> None:
    # md5-based and not salted: the same on every instance and every Python process (no hash randomisation).
    ring = Ring(["node-a", "node-b", "node-c"])
    first = {room: ring.owner(room) for room in ROOMS[:50]}
    again = Ring(["node-c", "node-b", "node-a"])
    assert first == {room: again.owner(room) for room in ROOMS[:50]}


def test_distribution_and_minimal_movement() -> None:
    three = Ring(["a", "b", "c"])
    counts = Counter(three.owner(room) for room in ROOMS)
    assert set(counts) == {"a", "b", "c"}
    assert max(counts.values()) < 1.25 * len(ROOMS) / 3
    four = Ring(["a", "b", "c", "d"])
    moved = [room for room in ROOMS if three.owner(room) != four.owner(room)]
    # Only rooms that move to the new node change owner.
    assert all(four.owner(room) == "d" for room in moved)
    assert 0.15 < len(moved) / len(ROOMS) < 0.35


def test_single_and_empty() -> None:
    assert Ring(["solo"]).owner("x") == "solo"
    assert "solo" in Ring(["solo"])
    with pytest.raises(LookupError):
        Ring([]).owner("x")
