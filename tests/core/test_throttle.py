"""Window leases and brute-force lockouts, as pure arithmetic."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from synctv.core.throttle import FAILURE_MEMORY_S, FREE_FAILURES, MAX_LOCKOUT_S, FailureBook, LeaseBook


def test_leases_never_hand_out_more_than_the_window_budget() -> None:
    book = LeaseBook()
    grants = [book.grant("k", limit=10, period_s=60, want=4, now=5.0) for _ in range(5)]
    assert [g.granted for g in grants] == [4, 4, 2, 0, 0]
    assert grants[0].lease_s == 55.0
    fresh = book.grant("k", limit=10, period_s=60, want=4, now=61.0)  # the next window
    assert fresh.granted == 4 and fresh.lease_s == 59.0
    assert book.grant("other", limit=10, period_s=60, want=4, now=61.0).granted == 4


@given(st.lists(st.tuples(st.integers(1, 20), st.floats(0, 200)), max_size=60), st.integers(1, 50))
def test_per_window_total_is_bounded(asks: list[tuple[int, float]], limit: int) -> None:
    book, per_window, now = LeaseBook(), {}, 0.0
    for want, dt in asks:
        now += dt
        g = book.grant("k", limit=limit, period_s=30, want=want, now=now)
        per_window[int(now // 30)] = per_window.get(int(now // 30), 0) + g.granted
        assert 0 < g.lease_s <= 30
    assert all(total <= limit for total in per_window.values())


def test_lockouts_start_after_the_free_failures_and_double_up_to_the_cap() -> None:
    book = FailureBook()
    waits = [book.fail("u", now=100.0) for _ in range(FREE_FAILURES + 3)]
    assert waits[:FREE_FAILURES] == [0.0] * FREE_FAILURES
    assert waits[FREE_FAILURES:] == [1.0, 2.0, 4.0]
    assert book.retry_after("u", 101.0) == 3.0
    for _ in range(40):
        book.fail("u", now=200.0)
    assert book.retry_after("u", 200.0) == MAX_LOCKOUT_S
    book.reset("u")
    assert book.retry_after("u", 200.0) == 0.0
    assert book.fail("addr", now=0.0, free=20) == 0.0


def test_failures_are_forgotten_after_a_quiet_hour() -> None:
    book = FailureBook()
    for _ in range(FREE_FAILURES + 1):
        book.fail("u", now=0.0)
    assert book.retry_after("u", 0.5) > 0
    assert book.retry_after("u", FAILURE_MEMORY_S + 1) == 0.0
    assert book.fail("u", now=FAILURE_MEMORY_S + 2) == 0.0  # counting starts again
