"""An EMULATION of the Consul agent HTTP API subset synctv uses -- not Consul.

No Consul binary exists on these machines, so the consul discovery backend is tested against this small
aiohttp app on loopback. It follows Consul's documented behaviour for:

- PUT /v1/agent/service/register (service with ID, Address, Port, Tags, Meta, Check/Checks; keys are
  case-insensitive as in Consul; `replace-existing-checks`)
- PUT /v1/agent/service/deregister/<service_id>
- PUT /v1/agent/check/pass/<check_id>, /v1/agent/check/fail/<check_id> (404 for an unknown check)
- GET /v1/health/service/<name>?passing&index=&wait= (blocking query; X-Consul-Index header)
- ACL token via X-Consul-Token when the emulator is given one (403 otherwise)

Check semantics: every check starts critical (as in Consul). A TTL check becomes passing on /check/pass and
turns critical when its TTL elapses without a pass. A gRPC check is recorded but not dialled: it is evaluated
as passing while the same service's TTL check is fresh (the emulator does not run a health prober).
`stop()` then `start()` on the same port simulates an agent outage; state survives, as it does in a real agent
with a data dir.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from typing import Any

from aiohttp import web

MAX_WAIT_S = 600.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lower_keys(value: Any) -> Any:
    """Consul decodes request JSON case-insensitively; normalise top-level and check keys."""
    if isinstance(value, dict):
        return {str(k).lower(): v for k, v in value.items()}
    return value


def _duration(text: str) -> float:
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text):
        total += float(number) * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[unit]
    return total


class _Check:
    def __init__(self, check_id: str, service_id: str, spec: dict[str, Any]) -> None:
        self.check_id = check_id
        self.service_id = service_id
        self.name = str(spec.get("name") or check_id)
        self.ttl = _duration(str(spec["ttl"])) if spec.get("ttl") else 0.0
        self.grpc = str(spec.get("grpc") or "")
        self.kind = "ttl" if self.ttl else ("grpc" if self.grpc else "other")
        self.status = "critical"
        self.expires_at = 0.0


class ConsulEmulator:
    def __init__(self, token: str = "", port: int = 0) -> None:
        self.token = token
        self.port = port or _free_port()
        self.services: dict[str, dict[str, Any]] = {}
        self.checks: dict[str, _Check] = {}
        self.index = 1
        self.requests: list[tuple[str, str]] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._reaper: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_put("/v1/agent/service/register", self._register)
        app.router.add_put("/v1/agent/service/deregister/{service_id}", self._deregister)
        app.router.add_put("/v1/agent/check/pass/{check_id}", self._pass)
        app.router.add_put("/v1/agent/check/fail/{check_id}", self._fail)
        app.router.add_get("/v1/health/service/{name}", self._health_service)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self._reaper = asyncio.create_task(self._reap())

    async def stop(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            await asyncio.gather(self._reaper, return_exceptions=True)
            self._reaper = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- state ---------------------------------------------------------------------------------------------

    async def _bump(self) -> None:
        self.index += 1
        async with self._changed:
            self._changed.notify_all()

    def _effective_status(self, check: _Check) -> str:
        if check.kind == "grpc":
            ttl_checks = [c for c in self.checks.values() if c.service_id == check.service_id and c.kind == "ttl"]
            return "passing" if ttl_checks and all(c.status == "passing" for c in ttl_checks) else "critical"
        return check.status

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            expired = [
                c for c in self.checks.values() if c.kind == "ttl" and c.status != "critical" and now > c.expires_at
            ]
            for check in expired:
                check.status = "critical"
            if expired:
                await self._bump()

    def _authorized(self, request: web.Request) -> bool:
        return not self.token or request.headers.get("X-Consul-Token") == self.token

    # -- handlers ------------------------------------------------------------------------------------------

    async def _register(self, request: web.Request) -> web.Response:
        self.requests.append(("register", request.path_qs))
        if not self._authorized(request):
            return web.Response(status=403, text="Permission denied")
        body = _lower_keys(await request.json())
        name = str(body.get("name") or "")
        if not name:
            return web.Response(status=400, text="Missing service name")
        service_id = str(body.get("id") or name)
        specs: list[dict[str, Any]] = [_lower_keys(c) for c in body.get("checks") or []]
        if body.get("check"):
            specs.append(_lower_keys(body["check"]))
        replace = request.query.get("replace-existing-checks") in ("true", "1")
        existing = {cid: c for cid, c in self.checks.items() if c.service_id == service_id}
        if replace:
            for cid in existing:
                del self.checks[cid]
        for n, spec in enumerate(specs, start=1):
            default_id = f"service:{service_id}" if len(specs) == 1 else f"service:{service_id}:{n}"
            check_id = str(spec.get("checkid") or spec.get("id") or default_id)
            old = existing.get(check_id)
            check = _Check(check_id, service_id, spec)
            if old is not None:  # re-registering keeps a check's current status, as Consul does
                check.status, check.expires_at = old.status, old.expires_at
            self.checks[check_id] = check
        self.services[service_id] = {
            "ID": service_id,
            "Service": name,
            "Tags": list(body.get("tags") or []),
            "Address": str(body.get("address") or ""),
            "Port": int(body.get("port") or 0),
            "Meta": {str(k): str(v) for k, v in (body.get("meta") or {}).items()},
        }
        await self._bump()
        return web.Response(status=200)

    async def _deregister(self, request: web.Request) -> web.Response:
        self.requests.append(("deregister", request.path_qs))
        if not self._authorized(request):
            return web.Response(status=403, text="Permission denied")
        service_id = request.match_info["service_id"]
        if self.services.pop(service_id, None) is None:
            return web.Response(status=404, text=f'Unknown service ID "{service_id}"')
        for cid in [cid for cid, c in self.checks.items() if c.service_id == service_id]:
            del self.checks[cid]
        await self._bump()
        return web.Response(status=200)

    async def _set_check(self, request: web.Request, status: str) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=403, text="Permission denied")
        check = self.checks.get(request.match_info["check_id"])
        if check is None:
            return web.Response(status=404, text=f'Unknown check ID "{request.match_info["check_id"]}"')
        if check.kind != "ttl":
            return web.Response(status=500, text="CheckID does not have associated TTL")
        changed = check.status != status
        check.status = status
        check.expires_at = time.monotonic() + check.ttl
        if changed:
            await self._bump()
        return web.Response(status=200)

    async def _pass(self, request: web.Request) -> web.Response:
        return await self._set_check(request, "passing")

    async def _fail(self, request: web.Request) -> web.Response:
        return await self._set_check(request, "critical")

    def _entries(self, name: str, passing_only: bool) -> list[dict[str, Any]]:
        out = []
        for service_id, svc in sorted(self.services.items()):
            if svc["Service"] != name:
                continue
            checks = [c for c in self.checks.values() if c.service_id == service_id]
            statuses = [self._effective_status(c) for c in checks]
            if passing_only and any(s != "passing" for s in statuses):
                continue
            out.append(
                {
                    "Node": {"Node": "emulated-agent", "Address": "127.0.0.1"},
                    "Service": dict(svc),
                    "Checks": [
                        {"CheckID": c.check_id, "Name": c.name, "Status": s, "ServiceID": service_id}
                        for c, s in zip(checks, statuses, strict=True)
                    ],
                }
            )
        return out

    async def _health_service(self, request: web.Request) -> web.Response:
        self.requests.append(("health", request.path_qs))
        if not self._authorized(request):
            return web.Response(status=403, text="Permission denied")
        name = request.match_info["name"]
        passing = request.query.get("passing", None) not in (None, "false", "0")
        wanted = request.query.get("index")
        if wanted is not None and int(wanted) >= self.index:
            wait = min(_duration(request.query.get("wait", "5m")) or 300.0, MAX_WAIT_S)
            deadline = time.monotonic() + wait
            async with self._changed:
                while self.index <= int(wanted):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        await asyncio.wait_for(self._changed.wait(), remaining)
                    except TimeoutError:
                        break
        return web.json_response(self._entries(name, passing), headers={"X-Consul-Index": str(self.index)})
