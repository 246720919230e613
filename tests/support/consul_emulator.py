"""An EMULATION of the Consul agent HTTP API subset synctv uses -- not Consul.

No Consul binary exists on these machines, so the consul discovery backend is tested against this small
aiohttp app on loopback. It follows Consul's documented behaviour for:

- PUT /v1/agent/service/register (service with ID, Address, Port, Tags, Meta, Check/Checks; keys are
  case-insensitive as in Consul; `replace-existing-checks`)
- PUT /v1/agent/service/deregister/<service_id>
- PUT /v1/agent/check/pass/<check_id>, /v1/agent/check/fail/<check_id> (404 for an unknown check)
- GET /v1/health/service/<name>?passing&index=&wait= (blocking query; X-Consul-Index header; the wait gets up
  to wait/16 of random jitter added, as Consul does)
- ACL token via X-Consul-Token when the emulator is given tokens: an unknown token is refused (403, "ACL not
  found"); a known token without `service:read` on the service gets 200 with the entries it may not see left
  out and `X-Consul-Results-Filtered-By-ACLs: true` (Consul filters reads, it does not refuse them).

Check semantics: every check starts critical (as in Consul). A TTL check becomes passing on /check/pass and
turns critical when its TTL elapses without a pass. A gRPC check is dialled every `Interval` (grpc.health.v1
Check, service ""), in plaintext, or with TLS when registered with `GRPCUseTLS` -- verifying the server
against the agent's CA under `TLSServerName`, and presenting the agent's certificate when the emulator is
given one (`enable_agent_tls_for_checks`). `DeregisterCriticalServiceAfter` is honoured: a service with a
check critical for that long is removed (`reap_scale` shortens Consul's one-minute minimum for tests).
`reset_index()` sets the index back to 1, as an agent that lost its state does. `stop()` then `start()` on the
same port simulates an agent outage; state survives, as it does in a real agent with a data dir.
"""

from __future__ import annotations

import asyncio
import random
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from aiohttp import web
from grpc_health.v1 import health_pb2, health_pb2_grpc

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


@dataclass(frozen=True)
class AgentTls:
    """The agent's TLS settings used for checks: its CA, and (enable_agent_tls_for_checks) its certificate."""

    ca_path: str
    cert_path: str = ""
    key_path: str = ""


class _Check:
    def __init__(self, check_id: str, service_id: str, spec: dict[str, Any]) -> None:
        self.check_id = check_id
        self.service_id = service_id
        self.name = str(spec.get("name") or check_id)
        self.ttl = _duration(str(spec["ttl"])) if spec.get("ttl") else 0.0
        self.grpc = str(spec.get("grpc") or "")
        self.kind = "ttl" if self.ttl else ("grpc" if self.grpc else "other")
        self.interval = _duration(str(spec.get("interval") or "10s")) or 10.0
        self.timeout = _duration(str(spec.get("timeout") or "10s")) or 10.0
        self.use_tls = bool(spec.get("grpcusetls"))
        self.tls_server_name = str(spec.get("tlsservername") or "")
        self.deregister_after = _duration(str(spec.get("deregistercriticalserviceafter") or ""))
        self.status = "critical"
        self.output = ""
        self.expires_at = 0.0
        self.next_probe = 0.0
        self.critical_since = time.monotonic()
        self.probing = False


class ConsulEmulator:
    def __init__(self, token: str = "", port: int = 0, *, acl: dict[str, set[str]] | None = None,
                 agent_tls: AgentTls | None = None, reap_scale: float = 1.0, jitter: bool = True) -> None:
        """`token`: the one token allowed everything. `acl`: more tokens, each allowed to register and pass
        checks, mapped to the service names whose instances it may read in full (node:read and service:read;
        for any other, reads are filtered). `reap_scale`: multiplies DeregisterCriticalServiceAfter (Consul's
        minimum is 1 minute)."""
        self.token = token
        self.acl = dict(acl or {})
        self.agent_tls = agent_tls
        self.reap_scale = reap_scale
        self.jitter = jitter
        self.reaped: list[str] = []
        self.probes = 0
        self.port = port or _free_port()
        self.services: dict[str, dict[str, Any]] = {}
        self.checks: dict[str, _Check] = {}
        self.index = 1
        self.requests: list[tuple[str, str]] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._probes: set[asyncio.Future[None]] = set()

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
        for probe in list(self._probes):
            probe.cancel()
        await asyncio.gather(*self._probes, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- state ---------------------------------------------------------------------------------------------

    async def _bump(self) -> None:
        self.index += 1
        async with self._changed:
            self._changed.notify_all()

    def reset_index(self) -> None:
        """What an agent that lost its state answers next: an index lower than any a client holds."""
        self.index = 1

    def _effective_status(self, check: _Check) -> str:
        return check.status

    async def _set_status(self, check: _Check, status: str) -> None:
        if status != check.status:
            check.status = status
            check.critical_since = time.monotonic()
            await self._bump()

    def _tls_material(self) -> tuple[bytes | None, bytes | None, bytes | None]:
        tls = self.agent_tls
        if tls is None:
            return None, None, None
        return (Path(tls.ca_path).read_bytes(), Path(tls.key_path).read_bytes() if tls.key_path else None,
                Path(tls.cert_path).read_bytes() if tls.cert_path else None)

    def _probe_blocking(self, check: _Check) -> bool:
        if check.use_tls:
            root, key, cert = self._tls_material()
            options = [("grpc.ssl_target_name_override", check.tls_server_name)] if check.tls_server_name else []
            channel = grpc.secure_channel(check.grpc, grpc.ssl_channel_credentials(root, key, cert), options=options)
        else:
            channel = grpc.insecure_channel(check.grpc)
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""),
                                                              timeout=check.timeout)
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
        finally:
            channel.close()

    async def _probe(self, check: _Check) -> None:
        """One run of a gRPC check, as the agent makes it."""
        self.probes += 1
        try:
            # The agent's prober, as a blocking gRPC client in a worker thread: it shares no event loop with
            # the servers under test.
            serving = await asyncio.wait_for(asyncio.to_thread(self._probe_blocking, check), check.timeout + 2)
            check.output = f"gRPC check {check.grpc}: {'success' if serving else 'not serving'}"
            await self._set_status(check, "passing" if serving else "critical")
        except Exception as exc:  # refused, TLS failure, timeout: critical, as in Consul
            check.output = f"gRPC check {check.grpc}: {type(exc).__name__}"
            await self._set_status(check, "critical")
        finally:
            check.probing = False

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            expired = [
                c for c in self.checks.values() if c.kind == "ttl" and c.status != "critical" and now > c.expires_at
            ]
            for check in expired:
                await self._set_status(check, "critical")
            for check in list(self.checks.values()):
                if check.kind == "grpc" and not check.probing and now >= check.next_probe:
                    check.probing = True
                    check.next_probe = now + check.interval
                    task = asyncio.ensure_future(self._probe(check))
                    self._probes.add(task)
                    task.add_done_callback(self._probes.discard)
            for check in list(self.checks.values()):
                limit = check.deregister_after * self.reap_scale
                if check.deregister_after and check.status == "critical" and now - check.critical_since > limit \
                        and check.service_id in self.services:
                    # DeregisterCriticalServiceAfter: the agent removes the service and its checks.
                    self.reaped.append(check.service_id)
                    del self.services[check.service_id]
                    for cid in [cid for cid, c in self.checks.items() if c.service_id == check.service_id]:
                        del self.checks[cid]
                    await self._bump()

    def _authorized(self, request: web.Request) -> bool:
        given = request.headers.get("X-Consul-Token", "")
        if given in self.acl:
            return True
        return not self.token or given == self.token

    def _may_read(self, request: web.Request, service: str) -> bool:
        given = request.headers.get("X-Consul-Token", "")
        return given not in self.acl or service in self.acl[given]

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
                check.critical_since, check.next_probe = old.critical_since, old.next_probe
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
        check.expires_at = time.monotonic() + check.ttl
        await self._set_status(check, status)
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
            if self.jitter:
                wait += random.uniform(0, wait / 16)
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
        headers = {"X-Consul-Index": str(self.index)}
        if not self._may_read(request, name):
            # ACLs filter reads: 200, the entries the token may not see left out, and a header saying so.
            headers["X-Consul-Results-Filtered-By-ACLs"] = "true"
            return web.json_response([], headers=headers)
        return web.json_response(self._entries(name, passing), headers=headers)
