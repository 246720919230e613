"""OpenTelemetry tracing (off by default). One play/pause shows as one trace across instances: the WebSocket
message on the edge, the router's decision, the mesh hop (context carried inside the command), the owner's
actor and its database statements.

When tracing is off, `span()` is a shared no-op context manager, so hot paths pay almost nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context

_enabled = False
_tracer = trace.get_tracer("synctv")
_NULL = contextlib.nullcontext()


def enabled() -> bool:
    return _enabled


def setup(service_instance: str, *, endpoint: str, sample_ratio: float,
          provider: Any | None = None) -> None:
    """Install a tracer provider: OTLP export by default, or the given provider (tests use an in-memory one)."""
    global _enabled, _tracer
    if provider is None:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

        provider = TracerProvider(
            resource=Resource.create({"service.name": "synctv", "service.instance.id": service_instance}),
            sampler=ParentBased(TraceIdRatioBased(sample_ratio)))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        trace.set_tracer_provider(provider)
    _tracer = provider.get_tracer("synctv")
    _enabled = True


def instrument_engine(engine: Any) -> None:
    """Database statement spans, as children of whatever span is current (the actor's, a request's)."""
    from sqlalchemy import event

    sync_engine = engine.sync_engine
    system = sync_engine.dialect.name

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _start(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        if not _enabled:
            return
        op = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        span_ = _tracer.start_span(f"db {op}", attributes={"db.system": system, "db.statement": statement[:500]})
        conn.info.setdefault("synctv_spans", []).append(span_)

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _end(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        spans = conn.info.get("synctv_spans")
        if spans:
            spans.pop().end()

    @event.listens_for(sync_engine, "handle_error")
    def _error(ctx: Any) -> None:
        spans = ctx.connection.info.get("synctv_spans") if ctx.connection is not None else None
        if spans:
            span_ = spans.pop()
            span_.record_exception(ctx.original_exception)
            span_.end()


def span(name: str, attributes: Mapping[str, Any] | None = None, context: Context | None = None
         ) -> contextlib.AbstractContextManager[Any]:
    if not _enabled:
        return _NULL
    return _tracer.start_as_current_span(name, context=context, attributes=dict(attributes or {}))


def current_context() -> Context | None:
    return otel_context.get_current() if _enabled else None


def inject() -> dict[str, str]:
    """The current trace context as W3C headers, to carry across the mesh."""
    if not _enabled:
        return {}
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def extract(carrier: Mapping[str, str] | None) -> Context | None:
    if not _enabled or not carrier:
        return None
    return propagate.extract(dict(carrier))


@contextlib.contextmanager
def attached(ctx: Context | None) -> Iterator[None]:
    """Run a block under a trace context captured elsewhere (e.g. in the task that queued a command)."""
    if ctx is None:
        yield
        return
    token = otel_context.attach(ctx)
    try:
        yield
    finally:
        otel_context.detach(token)


def disable() -> None:
    """Turn span creation off again (tests that install a provider for one case)."""
    global _enabled
    _enabled = False
