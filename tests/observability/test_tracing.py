"""One play/pause as one trace across two instances: the edge's WebSocket span, the router's decision, the mesh
hop, the owner's actor and its database statements share one trace id (in-memory exporter)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from synctv._generated import message_pb2 as pb
from synctv.app import Runtime
from synctv.mesh.ring import Ring
from synctv.observability import tracing
from tests.support.api_client import Api
from tests.support.etcd_server import free_port
from tests.support.pg_server import PostgresServer
from tests.support.servers import make_config

pytestmark = [pytest.mark.postgres]
SECRET = "tracing-test-cluster-secret-0123456789"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracing.setup("test", endpoint="", sample_ratio=1.0, provider=provider)
    yield memory
    tracing.disable()


@pytest.fixture
async def two_instances(pg_server: PostgresServer, tmp_path: Path, exporter: InMemorySpanExporter
                        ) -> AsyncIterator[tuple[Runtime, Runtime]]:
    dsn = pg_server.create_database("tr_" + uuid.uuid4().hex[:10])
    ports = {"n1": free_port(), "n2": free_port()}
    runtimes = []
    for iid, other in (("n1", "n2"), ("n2", "n1")):
        cfg = make_config(tmp_path / iid, dsn, SYNCTV_CLUSTER_ENABLED="true", SYNCTV_CLUSTER_INSTANCE_ID=iid,
                          SYNCTV_CLUSTER_SECRET=SECRET, SYNCTV_CLUSTER_GRPC_LISTEN="127.0.0.1",
                          SYNCTV_CLUSTER_GRPC_PORT=str(ports[iid]), SYNCTV_CLUSTER_ADVERTISE_ADDRESS="127.0.0.1",
                          SYNCTV_JWT_SECRET="tracing-test-jwt-secret-0123456789abcdef",
                          SYNCTV_CLUSTER_DISCOVERY_STATIC_PEERS=f"{other}=127.0.0.1:{ports[other]}")
        runtime = Runtime(cfg)
        await runtime.start()
        runtimes.append(runtime)
    yield runtimes[0], runtimes[1]
    for runtime in runtimes:
        await runtime.stop()


def _tree(spans: list[ReadableSpan], trace_id: int) -> str:
    mine = [s for s in spans if s.context.trace_id == trace_id]
    children: dict[int | None, list[ReadableSpan]] = {}
    for s in mine:
        children.setdefault(s.parent.span_id if s.parent else None, []).append(s)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for s in sorted(children.get(parent, []), key=lambda x: x.start_time or 0):
            inst = (s.attributes or {}).get("synctv.instance", "")
            lines.append(f"{'  ' * depth}{s.name} [{inst}] {((s.end_time or 0) - (s.start_time or 0)) / 1e6:.2f} ms")
            walk(s.context.span_id, depth + 1)

    ids = {s.context.span_id for s in mine}
    for root in [s for s in mine if not s.parent or s.parent.span_id not in ids]:
        children.setdefault(None, [])
        if root not in children[None]:
            children[None].append(root)
    walk(None, 0)
    return "\n".join(lines)


async def test_status_from_an_edge_is_one_trace_across_two_instances(
        two_instances: tuple[Runtime, Runtime], exporter: InMemorySpanExporter) -> None:
    if True:
        n1, n2 = two_instances
        async with aiohttp.ClientSession() as session:
            api1 = Api(f"http://127.0.0.1:{n1.port}", session)
            api2 = Api(f"http://127.0.0.1:{n2.port}", session)
            token = await api1.signup("tracer")
            room = await api1.create_room(token, "traced room")
            owner = Ring(["n1", "n2"]).owner(room)
            edge_api = api2 if owner == "n1" else api1
            edge = "n2" if owner == "n1" else "n1"
            ws = await edge_api.ws(room, token)
            await ws.expect(pb.MessageType.VIEWER_COUNT)
            exporter.clear()
            await ws.send(pb.Message(type=pb.MessageType.STATUS, timestamp=int(time.time() * 1000),
                                     playback_status=pb.Status(is_playing=True, current_time=5.0,
                                                               playback_rate=1.0)))
            await ws.send(pb.Message(type=pb.MessageType.SYNC))
            await ws.expect(pb.MessageType.SYNC)
            await ws.close()
        await asyncio.sleep(0.2)
        spans = list(exporter.get_finished_spans())
        ws_span = next(s for s in spans if s.name == "ws STATUS")
        trace_id = ws_span.context.trace_id
        in_trace = [s for s in spans if s.context.trace_id == trace_id]
        by_name = {s.name: s for s in in_trace}
        print("\n" + _tree(spans, trace_id))
        assert (ws_span.attributes or {})["synctv.instance"] == edge
        assert (by_name["router.submit"].attributes or {})["synctv.route"] == "mesh"
        assert (by_name["mesh.command"].attributes or {})["synctv.instance"] == owner
        apply = by_name["room.apply ClientFrame"]
        assert (apply.attributes or {})["synctv.instance"] == owner
        db_spans = [s for s in in_trace if s.parent and s.parent.span_id == apply.context.span_id]
        assert any(s.name == "db UPDATE" for s in db_spans), [s.name for s in in_trace]
        instances = {(s.attributes or {}).get("synctv.instance") for s in in_trace} - {None}
        assert instances == {"n1", "n2"}
