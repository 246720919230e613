"""Structured logging: text or JSON lines with time, level, instance id and context fields.

Every line carries, where known: the trace and span ids of the current OpenTelemetry span, and the room and
user of the request or WebSocket being served (set through `bind()` / `set_fields()`, which live in a context
variable, so concurrent requests never mix their fields). Secrets never reach the output: fields named like a
secret are replaced, and messages are scrubbed of `token=` values, Authorization headers, passwords and
JWT-looking strings.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from typing import Any

from opentelemetry import trace

_STD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
# Fields whose name contains one of these are never logged, whatever their value.
_SECRET_PARTS = ("token", "password", "passwd", "secret", "authorization", "jwt", "cookie", "api_key", "apikey")
REDACTED = "[redacted]"

_SECRET_NAME = r"(?:access_token|refresh_token|id_token|token|password|passwd|pwd|secret|api_key|apikey|" \
               r"client_secret|signature|sig|code_verifier|jwt)"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # JSON / dict / keyword forms: "password": "x", 'token': 'x', password='x'
    (re.compile(r"""(?i)(["']?\b""" + _SECRET_NAME + r"""["']?\s*[:=]\s*)(["'])(?:\\.|(?!\2).)*\2"""),
     r"\1\2" + REDACTED + r"\2"),
    # query strings and key=value: token=x&..., password=x
    (re.compile(r"(?i)(\b[\w-]*?" + _SECRET_NAME + r"=)(?!\[redacted\])[^&\s\"',;)}\]]+"), r"\1" + REDACTED),
    # "password: x" in prose
    (re.compile(r"(?i)(\b[\w-]*?(?:password|passwd|secret|token)\s*:\s*)(?![\"'\[])[^\s,;]+"), r"\1" + REDACTED),
    # headers: Authorization: Bearer x / Authorization=x / 'Authorization': 'x'
    (re.compile(r"""(?i)(\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?:(?:bearer|basic|token)\s+)?(?!\[redacted\])"""
                r"""[^\s"',;}\]]+"""), r"\1" + REDACTED),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    # JWTs (header.payload.signature, or a truncated one) anywhere in the text
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){0,2}"), REDACTED),
)


def redact(text: str) -> str:
    """Scrub secrets out of free text (a message, an exception, a URL)."""
    if not text:
        return text
    # Every pattern needs a ":" or "=", a space (before a bearer credential) or a JWT's "eyJ": most values (ids,
    # paths, names) have none of them and skip the regular expressions.
    if "=" not in text and ":" not in text and " " not in text and "eyJ" not in text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _secret_key(key: str) -> bool:
    low = key.lower()
    return any(part in low for part in _SECRET_PARTS)


# -- context --------------------------------------------------------------------------------------------------

# Per-request (or per-WebSocket) fields. The dict is replaced, never shared: `bind()` installs a fresh one.
_fields: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("synctv_log_fields", default=None)


@contextlib.contextmanager
def bind(**fields: Any) -> Iterator[dict[str, Any]]:
    """Install context fields for the block (and everything it awaits); nested binds add to the outer ones.

    A value may be a zero-argument callable, evaluated when a line is written (e.g. the user, known only once
    the handler authenticated the request). `None` values are skipped.
    """
    current = _fields.get()
    merged = dict(current) if current else {}
    merged.update(fields)
    token = _fields.set(merged)
    try:
        yield merged
    finally:
        _fields.reset(token)


def set_fields(**fields: Any) -> None:
    """Add fields to the innermost `bind()` (a request's, a WebSocket's); starts one if there is none."""
    current = _fields.get()
    if current is None:
        _fields.set(dict(fields))
    else:
        current.update(fields)


def context_fields() -> dict[str, Any]:
    """The context fields of the current task, trace and span ids included."""
    out: dict[str, Any] = {}
    span_ctx = trace.get_current_span().get_span_context()
    if span_ctx.is_valid:
        out["trace_id"] = format(span_ctx.trace_id, "032x")
        out["span_id"] = format(span_ctx.span_id, "016x")
    for key, value in (_fields.get() or {}).items():
        if callable(value):
            try:
                value = value()
            except Exception:  # a lazy field never breaks logging
                continue
        if value is not None and value != "":
            out[key] = value
    return out


_STAMPED = "_synctv_ctx"


def _stamp(record: logging.LogRecord) -> dict[str, Any]:
    """Capture the context when the record is made (in the logging task), once."""
    ctx: dict[str, Any] | None = getattr(record, _STAMPED, None)
    if ctx is None:
        ctx = context_fields()
        setattr(record, _STAMPED, ctx)
    return ctx


class ContextFilter(logging.Filter):
    """Stamps the current context on each record as it is emitted (so a later formatter still has it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        _stamp(record)
        return True


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return redact(str(value))


def _record_fields(record: logging.LogRecord) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in _stamp(record).items():
        out[key] = REDACTED if _secret_key(key) else _clean(value)
    for key, value in record.__dict__.items():
        if key in _STD or key.startswith("_"):
            continue
        out[key] = REDACTED if _secret_key(key) else _clean(value)
    return out


def _message(record: logging.LogRecord) -> str:
    try:
        return redact(record.getMessage())
    except Exception:  # a bad %-format never loses the line
        return redact(f"{record.msg!r} {record.args!r}")


# -- formatters -----------------------------------------------------------------------------------------------

def _iso(created: float, msecs: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(msecs):03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, instance, logger, msg, then the context and extra fields."""

    def __init__(self, instance_id: str) -> None:
        super().__init__()
        self.instance_id = instance_id

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": _iso(record.created, record.msecs),
            "level": record.levelname.lower(),
            "instance": self.instance_id,
            "logger": record.name,
            "msg": _message(record),
        }
        for key, value in _record_fields(record).items():
            out.setdefault(key, value)
        if record.exc_info:
            out["exc"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            out["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(out, default=str, ensure_ascii=False)


def _text_value(value: Any) -> str:
    text = str(value)
    if text == "" or any(ch.isspace() or ch in "\"=" for ch in text):
        return json.dumps(text, ensure_ascii=False)
    return text


class TextFormatter(logging.Formatter):
    """`2025-01-02T03:04:05.678Z INFO [logger] message instance=... key=value ...`"""

    def __init__(self, instance_id: str) -> None:
        super().__init__()
        self.instance_id = instance_id

    def format(self, record: logging.LogRecord) -> str:
        fields = {"instance": self.instance_id, **_record_fields(record)}
        line = (f"{_iso(record.created, record.msecs)} {record.levelname} [{record.name}] {_message(record)} "
                + " ".join(f"{k}={_text_value(v)}" for k, v in fields.items()))
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        if record.stack_info:
            line += "\n" + redact(self.formatStack(record.stack_info))
        return line


def formatter(fmt: str, instance_id: str) -> logging.Formatter:
    return JsonFormatter(instance_id) if fmt == "json" else TextFormatter(instance_id)


def _handler(handler: logging.Handler, fmt: logging.Formatter) -> logging.Handler:
    handler.setFormatter(fmt)
    handler.addFilter(ContextFilter())
    return handler


def setup(level: str, fmt: str, instance_id: str, file_path: str | None = None,
          stream: Any = None) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    form = formatter(fmt, instance_id)
    root.addHandler(_handler(logging.StreamHandler(stream if stream is not None else sys.stderr), form))
    if file_path:
        root.addHandler(_handler(logging.FileHandler(file_path), form))
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

