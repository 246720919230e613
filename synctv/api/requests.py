"""Reading request input: JSON bodies with typed fields, IDs, and the common list parameters."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from synctv.api.responses import bad_request
from synctv.core.validation import ValidationError, require_id
from synctv.store.pagination import ListQuery

MAX_BODY_BYTES = 1 << 20


async def json_body(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise bad_request("request body too large")
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise bad_request("request body too large")
    if not raw.strip():
        raise bad_request("request body is empty")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise bad_request("request body is not valid JSON") from None


async def json_object(request: web.Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise bad_request("request body must be a JSON object")
    return body


def field_str(body: dict[str, Any], key: str, *, required: bool = True, default: str = "") -> str:
    value = body.get(key)
    if value is None:
        if required:
            raise bad_request(f"{key} is required")
        return default
    if not isinstance(value, str):
        raise bad_request(f"{key} must be a string")
    return value


def field_bool(body: dict[str, Any], key: str, default: bool = False) -> bool:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_request(f"{key} must be a boolean")
    return value


def field_int(body: dict[str, Any], key: str, *, required: bool = True, default: int = 0) -> int:
    value = body.get(key)
    if value is None:
        if required:
            raise bad_request(f"{key} is required")
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float)
                                                                          and not value.is_integer()):
        raise bad_request(f"{key} must be an integer")
    return int(value)


def field_id(body: dict[str, Any], key: str = "id", what: str | None = None) -> str:
    value = body.get(key)
    try:
        return require_id(value, what or key)
    except ValidationError as exc:
        raise bad_request(str(exc)) from None


def query_id(request: web.Request, key: str = "id") -> str:
    try:
        return require_id(request.query.get(key, ""), key)
    except ValidationError as exc:
        raise bad_request(str(exc)) from None


def _query_int(request: web.Request, key: str, default: int) -> int:
    raw = request.query.get(key, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{key} must be an integer") from None


def list_query(request: web.Request, *, sorts: tuple[str, ...] = ("name", "createdAt"),
               searches: tuple[str, ...] = ("all", "name", "id"), default_sort: str = "name") -> ListQuery:
    """Upstream paging: page ≤ 0 → 1, max ≤ 0 → 10, max capped at 100; sort/order/search validated."""
    page = _query_int(request, "page", 1)
    size = _query_int(request, "max", 10)
    page = page if page > 0 else 1
    size = 10 if size <= 0 else min(size, 100)
    sort = request.query.get("sort", "") or default_sort
    if sort not in sorts:
        raise bad_request("not support sort")
    order = request.query.get("order", "") or "desc"
    if order not in ("asc", "desc"):
        raise bad_request("not support order")
    search = request.query.get("search", "") or "all"
    if search not in searches:
        raise bad_request("not support search")
    keyword = request.query.get("keyword", "")
    if len(keyword) > 256:
        raise bad_request("keyword is too long")
    return ListQuery(page=page, max=size, keyword=keyword, search=search, sort=sort, desc=order == "desc")


def validated(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a core validator, turning its error into a 400."""
    try:
        return fn(*args, **kwargs)
    except ValidationError as exc:
        raise bad_request(str(exc)) from None
