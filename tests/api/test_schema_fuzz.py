"""Schemathesis over `/api/openapi.json` against a real server: no input answers 5xx, every 4xx carries the
upstream error envelope, and a 405 names the allowed methods. The budget is bounded (`FUZZ_EXAMPLES` per
operation, derandomised so CI is repeatable; raise `SYNCTV_FUZZ_EXAMPLES` to explore further), and the
hand-found inputs of `tests/api/test_input_errors.py` are replayed as explicit cases."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.schemas import OpenApiSchema

from synctv.api import openapi
from synctv.api.app import all_route_docs
from synctv.auth.passwords import user_version
from synctv.core.permissions import Role
from tests.support.thread_server import ThreadServer

FUZZ_EXAMPLES = int(os.environ.get("SYNCTV_FUZZ_EXAMPLES", "8"))
HUGE = "99999999999999999999"


class Target:
    """The fuzzed server with a root user whose token and room survive whatever a generated case does."""

    def __init__(self, ts: ThreadServer) -> None:
        self.ts = ts
        self.root_id = ts.run(self._setup())
        self.room = ""

    async def _setup(self) -> str:
        token = await self.ts.server.make_user("fuzzroot", Role.ROOT)
        return str((await self.ts.server.api.me(token))["id"])

    async def _headers(self) -> dict[str, str]:
        store = self.ts.server.store
        user = await store.users.get(self.root_id)
        assert user is not None, "a generated case deleted the fuzzing user"
        if user.role != Role.ROOT:
            await store.users.set_role(self.root_id, Role.ROOT)
        token = str(self.ts.server.runtime.services.tokens.issue(self.root_id, user_version(user.hashed_password)))
        if not self.room or await store.rooms.get(self.room) is None:
            self.room = await self.ts.server.api.create_room(token, f"fuzz{time.time_ns() % 10**9}")
        return {"Authorization": token, "X-Room-Id": self.room}

    def headers(self) -> dict[str, str]:
        return self.ts.run(self._headers())


def error_envelope(ctx: Any, response: Any, case: Case) -> bool | None:
    """Every 4xx is `{"error": "<non-empty>", "time": <int>}`; a 405 carries `Allow`."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        what = f"{response.status_code} without a JSON error envelope: {response.content[:200]!r}"
        raise AssertionError(what) from None
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("time"), int), body
    if response.status_code == 405:
        assert response.headers.get("allow"), "405 without Allow"  # schemathesis lower-cases names
    return None


CHECKS = [not_a_server_error, error_envelope]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    ts = ThreadServer(Path(tmp_path_factory.mktemp("fuzz")) / "data")
    try:
        yield Target(ts)
    finally:
        ts.stop()


# The document the server serves, built at collection time so every operation is its own test (schemathesis's
# fixture-loaded schemas need pytest internals that pytest 9 removed); test_the_fuzzed_document_is_the_served_one
# proves the two are the same.
SPEC = openapi.build(all_route_docs())
schema = schemathesis.openapi.from_dict(SPEC)


@pytest.fixture(scope="module")
def api_schema() -> OpenApiSchema:
    return schema


def test_the_fuzzed_document_is_the_served_one(target: Target) -> None:
    with urllib.request.urlopen(target.ts.base + "/api/openapi.json", timeout=30) as resp:
        assert json.loads(resp.read()) == SPEC


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_input_answers_5xx(case: Case, target: Target) -> None:
    case.call_and_validate(base_url=target.ts.base, headers=target.headers(), checks=CHECKS, timeout=30)


REGRESSIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("/api/room/list", "GET", {"query": {"page": HUGE}}),
    ("/api/admin/user/list", "GET", {"query": {"page": HUGE}}),
    ("/api/admin/room/list", "GET", {"query": {"page": HUGE, "keyword": "a\x00b"}}),
    ("/api/room/list", "GET", {"query": {"keyword": "a\x00b"}}),
    ("/api/user/signup", "POST", {"body": {"username": "a\ud800b", "password": "password1"}}),
    ("/api/room/create", "POST", {"body": {"roomName": "\udfff", "password": ""}}),
    ("/api/room/movie/push", "POST", {"body": {"name": "a\x00b", "url": "https://example.com/a.mp4"}}),
    ("/api/room/movie/push", "POST", {"body": {"name": "n", "url": "https://example.com/a.mp4",
                                               "headers": {"\ud800": "x"}}}),
    ("/api/user/me", "GET", {"method": "PUT"}),
    ("/api/room/create", "POST", {"method": "DELETE"}),
]


@pytest.mark.parametrize(("path", "method", "override"), REGRESSIONS,
                         ids=[f"{m} {p} {sorted(o)}" for p, m, o in REGRESSIONS])
def test_hand_found_inputs(api_schema: OpenApiSchema, target: Target, path: str, method: str,
                           override: dict[str, Any]) -> None:
    operation = api_schema[path][method]
    kwargs = dict(override)
    if "body" in kwargs:
        kwargs["media_type"] = "application/json"
    case = operation.Case(**kwargs)
    response = case.call(base_url=target.ts.base, headers=target.headers(), timeout=30)
    case.validate_response(response, checks=CHECKS)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:200])
