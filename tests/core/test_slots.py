"""Connection slots as pure arithmetic: one limit over every holder, leases that end, holders that leave."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from synctv.core.slots import SlotBook


def test_the_limit_covers_every_holder() -> None:
    book = SlotBook()
    assert book.acquire("k", "a", limit=3, now=0.0, lease_s=10)[0]
    assert book.acquire("k", "b", limit=3, now=0.0, lease_s=10)[0]
    assert book.acquire("k", "a", limit=3, now=0.0, lease_s=10) == (True, 3)
    assert book.acquire("k", "c", limit=3, now=0.0, lease_s=10) == (False, 3)
    book.hold("k", "a", 1, now=1.0, lease_s=10)  # a closed one of its two
    assert book.acquire("k", "c", limit=3, now=1.0, lease_s=10) == (True, 3)
    assert book.acquire("other", "c", limit=3, now=1.0, lease_s=10)[0]


def test_a_count_stands_until_its_lease_ends_unless_renewed() -> None:
    book = SlotBook()
    book.acquire("k", "a", limit=2, now=0.0, lease_s=10)
    book.acquire("k", "b", limit=2, now=0.0, lease_s=10)
    book.hold("k", "a", 1, now=8.0, lease_s=10)  # a renews, b does not
    assert book.total("k", now=9.9) == 2
    assert book.total("k", now=10.0) == 1  # b's lease ended
    assert book.acquire("k", "c", limit=2, now=10.0, lease_s=10)[0]
    assert book.total("k", now=18.0) == 1  # a's renewed lease has ended too; c's stands
    book.expire(21.0)
    assert book.keys() == []


def test_a_holder_that_leaves_gives_its_slots_back() -> None:
    book = SlotBook()
    for key in ("k1", "k2"):
        book.acquire(key, "gone", limit=1, now=0.0, lease_s=30)
    book.acquire("k2", "stays", limit=2, now=0.0, lease_s=30)
    book.forget_holder("gone")
    assert book.total("k1", 1.0) == 0 and book.total("k2", 1.0) == 1
    assert book.keys() == ["k2"]
    book.hold("k2", "stays", 0, now=1.0, lease_s=30)
    assert book.keys() == []


@given(st.lists(st.tuples(st.sampled_from("abc"), st.booleans(), st.floats(0, 5)), max_size=80),
       st.integers(1, 6))
def test_never_more_than_the_limit_while_every_holder_reports(ops: list[tuple[str, bool, float]],
                                                              limit: int) -> None:
    book, held, now = SlotBook(), {"a": 0, "b": 0, "c": 0}, 0.0
    for holder, take, dt in ops:
        now += dt
        for h, n in held.items():  # every holder renews (what the renewal loop does)
            book.hold("k", h, n, now, lease_s=30)
        if take:
            if book.acquire("k", holder, limit, now, lease_s=30)[0]:
                held[holder] += 1
        elif held[holder]:
            held[holder] -= 1
            book.hold("k", holder, held[holder], now, lease_s=30)
        assert book.total("k", now) == sum(held.values()) <= limit
