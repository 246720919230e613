"""Garbage-collector settings for a long-running server.

CPython's default collector runs a full collection after a few tens of thousands of allocations surviving
the young generations; with thousands of connections, rooms and ORM rows alive, each full pass walks the
whole heap (tens to hundreds of milliseconds on a join storm), and it runs again and again while clients
arrive. After start-up, what the process has built (modules, configuration, mappers, caches) is moved out of
the collector's view for good (`gc.freeze`), and the young generation is collected less often, so reference
cycles are still reclaimed but full passes become rare.
"""

from __future__ import annotations

import gc

# Allocations (minus deallocations) between young collections, and young/middle collections between the next
# generation's; CPython's defaults are (700, 10, 10).
THRESHOLDS = (20_000, 20, 20)


def tune_after_startup() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
