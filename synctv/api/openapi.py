"""An OpenAPI 3 document generated from the registered routes (`/api/openapi.json`)."""

from __future__ import annotations

import re
from typing import Any

from synctv import __version__
from synctv.api.routing import RouteDoc

_AUTH_NOTE = {
    "none": "No authentication.",
    "user": "A user token (Authorization header, raw or Bearer).",
    "room": "A user token or none (guest), plus the room id (X-Room-Id header or ?roomId=).",
    "room!g": "As room, guests refused.",
    "room-admin": "As room, and a room admin or the creator.",
    "room-creator": "As room, and the room creator.",
    "admin": "A site administrator's token.",
    "root": "A root user's token.",
}


def _path(path: str) -> str:
    return re.sub(r"\{(\w+)(:[^}]*)?\}", r"{\1}", path)


def _envelope(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"data": schema, "time": {"type": "integer"}}}


ERROR = {"description": "Error", "content": {"application/json": {"schema": {
    "type": "object", "properties": {"error": {"type": "string"}, "time": {"type": "integer"}}}}}}


def build(docs: list[RouteDoc]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for d in docs:
        methods = ["get", "post"] if d.method == "*" else [d.method.lower()]
        for method in methods:
            op: dict[str, Any] = {
                "summary": d.summary,
                "description": _AUTH_NOTE.get(d.auth, d.auth),
                "tags": [d.tag],
                "responses": {"400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR},
            }
            if d.auth != "none":
                op["security"] = [{"token": []}]
            params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                      for n in re.findall(r"\{(\w+)", d.path)]
            params += [{"name": q, "in": "query", "required": False, "schema": {"type": "string"}} for q in d.query]
            if params:
                op["parameters"] = params
            if d.body is not None and method == "post":
                props = {k: {"type": v if v in ("string", "integer", "boolean", "object", "array") else "object"}
                         for k, v in d.body.items() if k.isidentifier()}
                op["requestBody"] = {"content": {"application/json": {"schema": {"type": "object",
                                                                                 "properties": props}}}}
            if d.status == 204:
                op["responses"]["204"] = {"description": "Done"}
            elif d.status < 400:
                op["responses"][str(d.status)] = {"description": "OK", "content": {
                    "application/json": {"schema": _envelope({"type": "object"})}}}
            paths.setdefault(_path(d.path), {})[method] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "SyncTV API", "version": __version__,
                 "description": "HTTP API compatible with the SyncTV Go server. Responses use the envelope "
                                "{data, time} or {error, time}."},
        "components": {"securitySchemes": {"token": {"type": "apiKey", "in": "header", "name": "Authorization"}}},
        "paths": paths,
    }
