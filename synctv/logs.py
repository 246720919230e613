"""Structured logging: text or JSON lines with time, level, instance id and any context fields given."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_STD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
# Never log these even if a caller passes them as context.
_SECRET_KEYS = {"token", "password", "secret", "authorization", "jwt"}


def _context(record: logging.LogRecord) -> dict[str, Any]:
    return {k: ("[redacted]" if k.lower() in _SECRET_KEYS else v)
            for k, v in record.__dict__.items() if k not in _STD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    def __init__(self, instance_id: str) -> None:
        super().__init__()
        self.instance_id = instance_id

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "instance": self.instance_id,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update(_context(record))
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self, instance_id: str) -> None:
        super().__init__("%(asctime)s %(levelname)s [%(name)s] %(message)s")
        self.instance_id = instance_id

    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        ctx = _context(record)
        fields = " ".join(f"{k}={v}" for k, v in ctx.items())
        return f"{base} instance={self.instance_id}" + (f" {fields}" if fields else "")


def setup(level: str, fmt: str, instance_id: str, file_path: str | None = None) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    formatter: logging.Formatter = JsonFormatter(instance_id) if fmt == "json" else TextFormatter(instance_id)
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(formatter)
    root.addHandler(stream)
    if file_path:
        fh = logging.FileHandler(file_path)
        fh.setFormatter(formatter)
        root.addHandler(fh)
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
