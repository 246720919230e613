"""What the logs of a real 3-process cluster (etcd, PostgreSQL) say when a peer leaves and when one crashes: a
graceful leave is INFO on every side and ends with a "stopped" line; a SIGKILLed peer is named as down or
unreachable by the others, never as an authentication problem ("check cluster.secret"), also once it is back."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.cluster_harness import ClusterProcesses, Instance
from tests.support.etcd_server import EtcdServer
from tests.support.pg_server import PostgresServer
from tests.support.require import missing

pytestmark = [pytest.mark.slow, pytest.mark.etcd, pytest.mark.postgres]
TTL_S = 3


@pytest.fixture
def etcd() -> Iterator[EtcdServer]:
    if not EtcdServer.available():
        missing("etcd", "etcd not installed")
    server = EtcdServer()
    server.start()
    yield server
    server.stop()


def lines(inst: Instance) -> list[dict[str, Any]]:
    """The instance's JSON log lines (its whole log file)."""
    out = []
    for raw in inst.log_path.read_text(errors="replace").splitlines():
        if raw.startswith("{"):
            out.append(json.loads(raw))
    return out


def about(inst: Instance, peer: str, since: int) -> list[dict[str, Any]]:
    """Lines logged by `inst` after its first `since` lines that mention `peer`."""
    return [ln for ln in lines(inst)[since:] if peer in json.dumps(ln)]


async def wait_for_line(inst: Instance, since: int, pred: Any, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ln in lines(inst)[since:]:
            if pred(ln):
                return ln
        await asyncio.sleep(0.2)
    raise AssertionError(f"{inst.instance_id}: no such line; log tail:\n{inst.log()}")


async def test_leave_and_crash_are_logged_as_what_they_are(pg_server: PostgresServer, etcd: EtcdServer) -> None:
    dsn = pg_server.create_database("logs_" + uuid.uuid4().hex[:12])
    procs = ClusterProcesses(3, dsn, etcd.endpoint, ttl=f"{TTL_S}s",
                             extra_env={"SYNCTV_LOG_LOG_FORMAT": "json", "SYNCTV_SERVER_DRAIN_TIMEOUT": "10s"})
    procs.start()
    try:
        await procs.wait_ready()
        n1, n2, n3 = procs.instances
        for inst in procs.instances:  # startup's last words (the root password reminder) are not the leave's
            await wait_for_line(inst, 0, lambda ln: ln["msg"] == "serving", 30)

        # Graceful leave: n3 drains and stops; nothing above INFO on its side, a final "stopped" line, and the
        # others note the departure at INFO.
        mark1, mark3 = len(lines(n1)), len(lines(n3))
        n3.signal(signal.SIGTERM)
        assert await asyncio.to_thread(n3.wait, 30) == 0
        own = lines(n3)[mark3:]
        loud = [(ln["level"], ln["logger"], ln["msg"]) for ln in own if ln["level"] in ("warning", "error", "critical")]
        assert not loud, loud
        assert own[-1]["msg"] == "stopped", own[-3:]
        left = await wait_for_line(n1, mark1, lambda ln: "n3" in json.dumps(ln) and "left" in ln["msg"], 10)
        assert left["level"] == "info", left
        loud = [(ln["level"], ln["msg"]) for ln in about(n1, "n3", mark1) if ln["level"] not in ("info", "debug")]
        assert not loud, loud

        # Crash: n2 is SIGKILLed. n1 names it as down/unreachable, and never as an authentication failure, both
        # while its record is still in etcd and after the lease expired.
        mark1 = len(lines(n1))
        n2.signal(signal.SIGKILL)
        await asyncio.to_thread(n2.wait, 10)
        down = await wait_for_line(n1, mark1, lambda ln: "n2" in json.dumps(ln) and (
            "down" in ln["msg"] or "unreachable" in ln["msg"]), 10)
        assert down["level"] in ("info", "warning"), down
        await asyncio.sleep(TTL_S + 3)
        after = about(n1, "n2", mark1)
        wrong = [ln for ln in after if "cluster.secret" in json.dumps(ln) or "authentication" in json.dumps(ln)]
        assert not wrong, wrong
        loud = [(ln["level"], ln["logger"], ln["msg"]) for ln in after if ln["level"] in ("error", "critical")]
        assert not loud, loud

        # The crashed peer comes back under the same id: it rejoins without anyone calling it an impostor.
        n3.proc = None  # stopped for good: not waited for
        n2.start()
        await procs.wait_ready(members=2)
        back = await wait_for_line(n1, mark1, lambda ln: "'n2' is reachable again" in ln["msg"], 10)
        assert back["level"] == "info", back
        after = about(n1, "n2", mark1)
        wrong = [ln for ln in after if "cluster.secret" in json.dumps(ln) or "authentication" in json.dumps(ln)]
        assert not wrong, wrong
        loud = [(ln["level"], ln["logger"], ln["msg"]) for ln in after if ln["level"] in ("error", "critical")]
        assert not loud, loud
    finally:
        procs.stop()
