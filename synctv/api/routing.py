"""Route tables that also describe themselves, so the OpenAPI document is generated from the real routes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Any]


@dataclass(frozen=True, slots=True)
class RouteDoc:
    method: str
    path: str
    summary: str
    auth: str  # none | user | room | room!g | room-admin | room-creator | admin | root
    tag: str
    body: dict[str, str] | None = None  # field -> JSON type ("string", "integer", "boolean", "object", "array")
    query: tuple[str, ...] = ()
    status: int = 200


@dataclass
class Routes:
    tag: str
    table: web.RouteTableDef = field(default_factory=web.RouteTableDef)
    docs: list[RouteDoc] = field(default_factory=list)

    def _add(self, method: str, path: str, summary: str, auth: str, body: dict[str, str] | None,
             query: tuple[str, ...], status: int) -> Callable[[Handler], Handler]:
        self.docs.append(RouteDoc(method, path, summary, auth, self.tag, body, query, status))
        return self.table.route(method, path)

    def get(self, path: str, summary: str, auth: str = "none", query: tuple[str, ...] = (),
            status: int = 200) -> Callable[[Handler], Handler]:
        return self._add("GET", path, summary, auth, None, query, status)

    def post(self, path: str, summary: str, auth: str = "none", body: dict[str, str] | None = None,
             query: tuple[str, ...] = (), status: int = 204) -> Callable[[Handler], Handler]:
        return self._add("POST", path, summary, auth, body, query, status)

    def any(self, path: str, summary: str, auth: str = "none") -> Callable[[Handler], Handler]:
        return self._add("*", path, summary, auth, None, (), 400)


LIST_QUERY = ("page", "max", "keyword", "search", "sort", "order")
