"""Structured logs: text and JSON lines with time, level, instance, trace/span ids, room and user; one access
line per request; and no token, Authorization header or password ever reaches the output."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from synctv import logs
from synctv._generated import message_pb2 as pb
from synctv.observability import tracing
from tests.support.servers import Server

PASSWORD = "Sup3r-s3cret-pw"


@contextmanager
def captured(fmt: str, level: int = logging.INFO) -> Iterator[io.StringIO]:
    """Everything logged in the block, formatted as the server would write it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.formatter(fmt, "inst-1"))
    handler.addFilter(logs.ContextFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def record(msg: str, *args: Any, exc: bool = False, **extra: Any) -> logging.LogRecord:
    rec = logging.LogRecord("synctv.test", logging.WARNING, __file__, 1, msg, args,
                            None if not exc else _exc_info())
    rec.__dict__.update(extra)
    return rec


def _exc_info() -> Any:
    try:
        raise RuntimeError("failed GET /x?token=abc123secret with Authorization: Bearer abcdef123456")
    except RuntimeError:
        import sys
        return sys.exc_info()


# -- redaction -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "secret"), [
    ("GET /api/room/ws?roomId=r1&token=abc.def.ghi HTTP/1.1", "abc.def.ghi"),
    ("url=https://x/y?a=1&access_token=zzz999&b=2", "zzz999"),
    ("headers={'Authorization': 'Bearer tok-123456789'}", "tok-123456789"),
    ("Authorization: Bearer tok-123456789", "tok-123456789"),
    ("authorization=rawtoken123", "rawtoken123"),
    ('body {"username": "a", "password": "hunter2!"}', "hunter2!"),
    ("kwargs password='p@ss word' ok", "p@ss word"),
    ("password: hunter2 for alice", "hunter2"),
    ("opaque eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl trailing", "eyJzdWIiOiIxIn0"),
    ("partial eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9"),
    ("Bearer abcdefghijklmnop", "abcdefghijklmnop"),
])
def test_redact(text: str, secret: str) -> None:
    out = logs.redact(text)
    assert secret not in out and "[redacted]" in out
    assert logs.redact(out) == out  # idempotent


def test_redact_keeps_ordinary_text() -> None:
    for text in ("login failed for alice", "token expired", "room r1 created by u2", "serving port=8080",
                 "password changed"):
        assert logs.redact(text) == text


def test_json_line_fields_context_and_secret_extras() -> None:
    fmt = logs.JsonFormatter("inst-9")
    with logs.bind(room_id="room1", user_id=lambda: "user1"):
        logs.set_fields(conn="c1")
        rec = record("user %s joined with token=%s", "alice", "eyJabc.def.ghi", token="tok", password="pw",
                     user_password="pw2", detail="see Authorization: Bearer zzzzzzzzzzzz", count=3)
        line = json.loads(fmt.format(rec))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert line["level"] == "warning" and line["instance"] == "inst-9" and line["logger"] == "synctv.test"
    assert line["msg"] == "user alice joined with token=[redacted]"
    assert line["room_id"] == "room1" and line["user_id"] == "user1" and line["conn"] == "c1"
    assert line["token"] == line["password"] == line["user_password"] == "[redacted]"
    assert line["detail"] == "see Authorization: [redacted]" and line["count"] == 3
    assert "trace_id" not in line  # no span: no ids


def test_context_is_scoped_and_lazy_errors_are_ignored() -> None:
    def broken() -> str:
        raise RuntimeError("no")

    with logs.bind(room_id="outer"):
        with logs.bind(user_id="u", lazy=broken):
            assert logs.context_fields() == {"room_id": "outer", "user_id": "u"}
        assert logs.context_fields() == {"room_id": "outer"}
    assert logs.context_fields() == {}


async def test_context_does_not_leak_between_tasks() -> None:
    seen: dict[str, Any] = {}

    async def worker(name: str) -> None:
        with logs.bind(user_id=name):
            await asyncio.sleep(0.01)
            seen[name] = logs.context_fields()["user_id"]

    await asyncio.gather(worker("a"), worker("b"), worker("c"))
    assert seen == {"a": "a", "b": "b", "c": "c"}


def test_trace_and_span_ids_from_current_span() -> None:
    tracer = TracerProvider().get_tracer("t")
    fmt = logs.JsonFormatter("i")
    with tracer.start_as_current_span("work") as span:
        line = json.loads(fmt.format(record("inside")))
        ctx = span.get_span_context()
    assert line["trace_id"] == format(ctx.trace_id, "032x") and line["span_id"] == format(ctx.span_id, "016x")


def test_text_line_and_exception_redacted() -> None:
    fmt = logs.TextFormatter("inst-2")
    with logs.bind(room_id="r9"):
        line = fmt.format(record("failed for %s", "bob", exc=True, reason="two words", secret="x"))
    first = line.splitlines()[0]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARNING \[synctv\.test\] failed for bob "
                    r"instance=inst-2 ", first)
    assert 'room_id=r9' in first and 'reason="two words"' in first and "secret=[redacted]" in first
    assert "RuntimeError" in line and "abc123secret" not in line and "abcdef123456" not in line


def test_setup_writes_to_the_given_stream() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    out = io.StringIO()
    try:
        logs.setup("info", "json", "inst-3", stream=out)
        logging.getLogger("synctv.x").info("hello", extra={"authorization": "Bearer abc"})
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved_handlers:
            root.addHandler(h)
        root.setLevel(saved_level)
    line = json.loads(out.getvalue().splitlines()[-1])
    assert line["msg"] == "hello" and line["instance"] == "inst-3" and line["authorization"] == "[redacted]"


# -- a real server -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "text"])
async def test_requests_with_tokens_leave_no_secret_in_logs(sqlite_server: Server, fmt: str) -> None:
    api = sqlite_server.api
    with captured(fmt) as out:
        token = await api.signup("logalice", PASSWORD)
        me = await api.me(token)
        await api.ok("GET", "/api/user/me", headers={"Authorization": "Bearer " + token})
        status, _ = await api.call("GET", "/api/user/me", params={"token": token})
        assert status == 401  # refused outside WebSocket and media URLs, and still not logged
        room = await api.create_room(token, "log room", password="r00m-pass-word")
        await api.ok("GET", "/api/room/me", token=token, room=room)
        forged = "eyJhbGciOiJIUzI1NiJ9.eyJmb3JnZWQiOnRydWV9.Zm9yZ2VkLXNpZ25hdHVyZQ"
        status, _ = await api.call("GET", "/api/user/me", params={"token": forged})
        assert status == 401
        status, _ = await api.call("GET", "/api/no/such/route", params={"token": token})
        assert status == 404
        for via_query in (False, True):
            ws = await api.ws(room, token, via_query=via_query)
            await ws.expect(pb.MessageType.VIEWER_COUNT)
            await ws.close()
        await api.ok("POST", "/api/user/login", json={"username": "logalice", "password": PASSWORD})
        status, _ = await api.call("POST", "/api/user/login", json={"username": "logalice", "password": "wrong-pw-1"})
        assert status in (400, 401, 403)
        # Code that carelessly logs a URL, a header dict or a token field is scrubbed as well.
        careless = logging.getLogger("synctv.careless")
        careless.warning("proxying %s", f"{api.base}/api/room/ws?roomId={room}&token={token}")
        careless.warning("headers %s", {"Authorization": token, "Accept": "*/*"})
        careless.warning("login body %s", json.dumps({"username": "logalice", "password": PASSWORD}))
        careless.warning("raw %s", token, extra={"token": token, "cookie": "session=" + token})
        await asyncio.sleep(0.2)  # WebSocket sessions log their access line when they end
    text = out.getvalue()
    signature = token.rsplit(".", 1)[1]
    for secret in (token, signature, token.split(".")[1], PASSWORD, "r00m-pass-word", forged,
                   forged.rsplit(".", 1)[1], "wrong-pw-1"):
        assert secret not in text, f"secret leaked into the {fmt} log"
    assert "[redacted]" in text

    if fmt == "json":
        lines = json_lines(text)
        assert all(line["instance"] == "inst-1" and line["time"] and line["level"] for line in lines)
        access = [line for line in lines if line["logger"] == "synctv.access"]
        me_lines = [a for a in access if a["route"] == "/api/user/me" and a["status"] == 200]
        assert len(me_lines) == 2
        for a in me_lines:
            assert a["method"] == "GET" and isinstance(a["latency_ms"], (int, float)) and a["latency_ms"] >= 0
            assert a["user_id"] == me["id"] and a["msg"] == "GET /api/user/me 200"
        assert any(a["route"] == "/api/user/me" and a["status"] == 401 and "user_id" not in a for a in access)
        assert any(a["route"] == "unmatched" and a["status"] == 404 for a in access)
        room_lines = [a for a in access if a["route"] == "/api/room/me"]
        assert room_lines and room_lines[0]["room_id"] == room and room_lines[0]["user_id"] == me["id"]
        ws_lines = [a for a in access if a["route"] == "/api/room/ws"]
        assert len(ws_lines) == 2
        assert all(a["status"] == 101 and a["room_id"] == room and a["user_id"] == me["id"] for a in ws_lines)
        assert not any(a["route"] == "/ready" for a in access)  # probes log at debug only
    else:
        assert re.search(r"INFO \[synctv\.access\] GET /api/user/me 200 instance=inst-1 .*method=GET "
                         r"route=/api/user/me status=200 latency_ms=[\d.]+ ", text)
        assert re.search(rf"GET /api/room/ws 101 .*room_id={room} user_id={me['id']}", text)


async def test_access_lines_carry_trace_ids(sqlite_server: Server) -> None:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracing.setup("test", endpoint="", sample_ratio=1.0, provider=provider)
    try:
        with captured("json") as out:
            await sqlite_server.api.ok("GET", "/live")
            await sqlite_server.api.ok("GET", "/api/public/settings")
    finally:
        tracing.disable()
    access = [line for line in json_lines(out.getvalue()) if line["logger"] == "synctv.access"]
    line = next(a for a in access if a["route"] == "/api/public/settings")
    spans = [s for s in memory.get_finished_spans() if s.name == "HTTP GET /api/public/settings"]
    assert spans
    ctx = spans[0].get_span_context()
    assert ctx is not None
    assert line["trace_id"] == format(ctx.trace_id, "032x") and line["span_id"] == format(ctx.span_id, "016x")
