"""The server's collector settings: start-up objects frozen out of the collector's view, young collections rarer,
and reference cycles made afterwards still reclaimed by allocation alone (no explicit collect)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from synctv.runtime import gc_tuning


@pytest.fixture
def restored_gc() -> Iterator[None]:
    before = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_startup_objects_are_frozen_and_thresholds_raised(restored_gc: None) -> None:
    gc_tuning.tune_after_startup()
    assert gc.get_threshold() == gc_tuning.THRESHOLDS
    assert gc.get_freeze_count() > 1000  # everything imported so far


class _Node:
    other: object = None


def test_cycles_made_after_tuning_are_still_collected(restored_gc: None) -> None:
    gc_tuning.tune_after_startup()
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    assert gone() is not None  # only a collection can free a cycle
    kept = [[] for _ in range(gc_tuning.THRESHOLDS[0] + 100)]  # enough live allocations for a young pass
    assert gone() is None
    assert len(kept) > gc_tuning.THRESHOLDS[0]
