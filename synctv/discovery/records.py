"""Parsing service records written by other registrars (vendor backends)."""

from __future__ import annotations

import json
from typing import Any

from synctv.discovery.base import Member


def member_from_record(raw: bytes | str) -> Member | None:
    """Parse our own Member JSON, or a go-kratos registry ServiceInstance (what upstream vendors register).

    Returns None for records that are not understood, so one bad record does not hide the others.
    """
    try:
        data: Any = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if data.get("instance_id"):
        try:
            return Member.from_dict(data)
        except (ValueError, TypeError):
            return None
    if data.get("id"):
        grpc_address = http_address = ""
        for endpoint in data.get("endpoints") or []:
            scheme, _, rest = str(endpoint).partition("://")
            if scheme == "grpc" and not grpc_address:
                grpc_address = rest
            elif scheme in ("http", "https") and not http_address:
                http_address = str(endpoint)
        meta = data.get("metadata") or {}
        return Member(
            instance_id=str(data["id"]),
            grpc_address=grpc_address,
            http_address=http_address,
            version=str(data.get("version") or ""),
            meta={str(k): str(v) for k, v in dict(meta).items()} if isinstance(meta, dict) else {},
        )
    return None
