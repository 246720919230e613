"""Reading request input: JSON bodies with typed fields, IDs, and the common list parameters."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, TypeVar

from aiohttp import web

from synctv.api.context import services
from synctv.api.responses import bad_request, request_timeout
from synctv.config import parse_duration
from synctv.core.validation import ValidationError, require_id
from synctv.store.pagination import ListQuery

MAX_BODY_BYTES = 1 << 20

_T = TypeVar("_T")


def _body_timeout(request: web.Request) -> float:
    return parse_duration(services(request).cfg.server.http.body_timeout, "server.http.body_timeout")


async def _read_all(request: web.Request, limit: int) -> bytes:
    """Up to `limit` bytes of the body (StreamReader.read(n) returns what has arrived so far, not n bytes)."""
    parts: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await request.content.read(limit - size)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


async def json_body(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise bad_request("request body too large")
    try:
        async with asyncio.timeout(_body_timeout(request)):
            raw = await _read_all(request, MAX_BODY_BYTES + 1)
    except TimeoutError:
        raise request_timeout("request body not received in time") from None
    if len(raw) > MAX_BODY_BYTES:
        raise bad_request("request body too large")
    if not raw.strip():
        raise bad_request("request body is empty")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise bad_request("request body is not valid JSON") from None
    _check_strings(body)
    return body


# json.loads joins escaped surrogate pairs, so any surrogate left is unpaired: it cannot be encoded as UTF-8
# (nor stored). NUL is valid JSON but PostgreSQL text refuses it; no field of this API has a use for it.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _check_strings(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            check_text(item, "request body")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def check_text(text: str, where: str) -> None:
    """Refuse text that can be neither encoded as UTF-8 nor stored in every database."""
    found = _UNSTORABLE.search(text)
    if found is not None:
        what = "a NUL character" if found.group() == "\x00" else "an unpaired surrogate"
        raise bad_request(f"{where} contains {what}")


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


_INT_RE = re.compile(r"[+-]?[0-9]{1,19}")
_INT64_MAX = (1 << 63) - 1
# The last page anyone can reach: beyond it every list is empty anyway, and `(page - 1) * max` stays far below
# the 64-bit OFFSET every database accepts (a huge `page` used to overflow there and answer 500).
MAX_PAGE = 1 << 31


def _query_int(request: web.Request, key: str, default: int) -> int:
    """A decimal integer (upstream's strconv.Atoi: ASCII digits, optional sign, 64-bit); missing or empty → default."""
    raw = request.query.get(key, "")
    if not raw:
        return default
    if not _INT_RE.fullmatch(raw) or abs(value := int(raw)) > _INT64_MAX:
        raise bad_request(f"{key} must be an integer")
    return value


def paging(request: web.Request) -> tuple[int, int]:
    """Upstream's GetPageAndMax: page ≤ 0 → 1, max ≤ 0 → 10, max capped at 100; page capped at MAX_PAGE."""
    page = _query_int(request, "page", 1)
    size = _query_int(request, "max", 10)
    page = min(page, MAX_PAGE) if page > 0 else 1
    size = 10 if size <= 0 else min(size, 100)
    return page, size


def _keyword(request: web.Request) -> str:
    keyword = request.query.get("keyword", "")
    if len(keyword) > 256:
        raise bad_request("keyword is too long")
    return keyword


def list_query(request: web.Request, *, sorts: tuple[str, ...] = ("name", "createdAt"),
               searches: tuple[str, ...] = ("all", "name", "id"), default_sort: str = "name") -> ListQuery:
    """The common list parameters, read as upstream's handlers read them.

    - `page`/`max`: see `paging`.
    - `sort`: missing or empty → `default_sort`; a mode the route doesn't know → 400 `not support sort` (upstream
      also refuses an empty `sort=`; we take it as the default).
    - `order`: missing → `desc`; `desc` → descending; anything else (`asc`, empty, unknown) → ascending, as
      upstream's `DefaultQuery("order", "desc") == "desc"`.
    - `search`: only looked at when `keyword` is non-empty; missing, empty or a mode the route doesn't know (the
      web client's `search=roomId`) → `all`, never an error. (Upstream applies no keyword filter at all for an
      unknown mode; matching the keyword against every field is what a user who typed one expects.)
    """
    page, size = paging(request)
    sort = request.query.get("sort", "") or default_sort
    if sort not in sorts:
        raise bad_request("not support sort")
    desc = request.query.get("order", "desc") == "desc"
    keyword = _keyword(request)
    search = request.query.get("search", "") or "all"
    if search not in searches:
        search = "all"
    return ListQuery(page=page, max=size, keyword=keyword, search=search, sort=sort, desc=desc)


def page_query(request: web.Request) -> ListQuery:
    """Only `page`, `max` and `keyword` (lists upstream neither sorts nor searches by mode: movies, hot rooms)."""
    page, size = paging(request)
    return ListQuery(page=page, max=size, keyword=_keyword(request))


def query_filter(request: web.Request, key: str, choices: dict[str, _T], default: str = "") -> _T | None:
    """A named filter (`status`, `role`) as upstream's `switch ctx.DefaultQuery(key, default)`.

    A missing key means `default` (e.g. `active`, or no filter when `default` is ""); a key that is present but
    empty — the web client's "all" — or names nothing known means no filter. Never an error.
    """
    raw = request.query.get(key)
    if raw is None:
        raw = default
    return choices.get(raw) if raw else None


def validated(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a core validator, turning its error into a 400."""
    try:
        return fn(*args, **kwargs)
    except ValidationError as exc:
        raise bad_request(str(exc)) from None
