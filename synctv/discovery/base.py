"""Membership values and the `Discovery` protocol every backend implements.

Discovery knows nothing about rooms: it yields snapshots of the live instances and resolves service names.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

log = logging.getLogger(__name__)

# The default service name instances register under (consul) and resolve each other by.
SELF_SERVICE = "synctv"


@dataclass(frozen=True)
class Member:
    """One live instance of the cluster as announced in the discovery backend."""

    instance_id: str
    http_address: str = ""
    grpc_address: str = ""
    version: str = ""
    started_at_ms: int = 0
    # Free-form string labels; excluded from hashing so a Member stays usable as a dict key.
    meta: Mapping[str, str] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "http_address": self.http_address,
            "grpc_address": self.grpc_address,
            "version": self.version,
            "started_at_ms": self.started_at_ms,
            "meta": dict(self.meta),
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True).encode()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Member:
        instance_id = str(data.get("instance_id") or "")
        if not instance_id:
            raise ValueError("member record without instance_id")
        meta = data.get("meta") or {}
        return cls(
            instance_id=instance_id,
            http_address=str(data.get("http_address") or ""),
            grpc_address=str(data.get("grpc_address") or ""),
            version=str(data.get("version") or ""),
            started_at_ms=int(data.get("started_at_ms") or 0),
            meta={str(k): str(v) for k, v in dict(meta).items()},
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Member:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("member record is not a JSON object")
        return cls.from_dict(data)


MembersCallback = Callable[[list[Member]], Any]


@runtime_checkable
class Discovery(Protocol):
    """Membership of the cluster, from one backend (static list, etcd or consul)."""

    @property
    def healthy(self) -> bool:
        """False while the backend is unreachable; the last known membership is kept meanwhile."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None:
        """Leave gracefully: deregister so peers react at once."""
        ...

    def members(self) -> list[Member]:
        """Last known healthy membership, sorted by instance id, including this instance."""
        ...

    def on_change(self, callback: MembersCallback) -> None:
        """Call `callback(members)` (sync or async) whenever the membership changes."""
        ...

    def on_health_change(self, callback: Callable[[bool], Any]) -> None:
        """Call `callback(healthy)` whenever the backend becomes unreachable or reachable again."""
        ...

    @property
    def has_lease(self) -> bool:
        """True when membership expires with a lease/TTL (etcd, Consul): then `lease_valid` can turn False."""
        ...

    @property
    def lease_valid(self) -> bool:
        """False once this instance's registration may have expired on the others (self-fencing)."""
        ...

    def on_lease_change(self, callback: Callable[[bool], Any]) -> None:
        """Call `callback(valid)` whenever `lease_valid` changes (never, without a lease)."""
        ...

    async def resolve(self, service_name: str) -> list[Member]:
        """Healthy endpoints of a named service (vendor backends), via the same backend."""
        ...


class MembershipState:
    """Shared bookkeeping for backends: current view, health flag and change listeners."""

    def __init__(self, self_member: Member) -> None:
        self.self_member = self_member
        self._members: list[Member] = [self_member]
        self._listeners: list[MembersCallback] = []
        self._healthy = True
        self._health_listeners: list[Callable[[bool], Any]] = []
        # After an outage longer than the lease, every record is gone and each instance writes its own again at
        # its next keepalive: for `rejoin_grace` seconds after recovery, members of the view from before the
        # outage that have not re-registered yet are kept (so rooms do not move for a registration race).
        self.rejoin_grace = 0.0
        self._held: dict[str, Member] = {}
        self._held_until = 0.0
        self._backend_view: list[Member] = [self_member]
        self._release: asyncio.TimerHandle | None = None

    @property
    def healthy(self) -> bool:
        return self._healthy

    def members(self) -> list[Member]:
        return list(self._members)

    def on_change(self, callback: MembersCallback) -> None:
        self._listeners.append(callback)

    def on_health_change(self, callback: Callable[[bool], Any]) -> None:
        self._health_listeners.append(callback)

    @property
    def has_lease(self) -> bool:
        return False

    @property
    def lease_valid(self) -> bool:
        return True

    def on_lease_change(self, callback: Callable[[bool], Any]) -> None:
        return None  # no lease: it never changes

    def _set_healthy(self, value: bool) -> None:
        if value == self._healthy:
            return
        self._healthy = value
        log.warning("discovery backend %s", "reachable again" if value else "unreachable: keeping last membership")
        if self.rejoin_grace <= 0:
            pass
        elif not value:
            # The view from before the outage: what the backend answers until everyone re-registered.
            self._held = {m.instance_id: m for m in self._members}
            self._held_until = float("inf")
        elif self._held:
            self._held_until = time.monotonic() + self.rejoin_grace
            with contextlib.suppress(RuntimeError):  # no running loop: the next publish ends the hold
                loop = asyncio.get_running_loop()
                if self._release is not None:
                    self._release.cancel()
                self._release = loop.call_later(self.rejoin_grace, self._end_hold)
        for cb in list(self._health_listeners):
            _call(cb, value)

    def _end_hold(self) -> None:
        self._held, self._release = {}, None
        self._publish(self._backend_view)

    def _publish(self, members: Sequence[Member]) -> None:
        """Replace the view (self always included) and notify listeners if it changed."""
        self._backend_view = list(members)
        by_id = {m.instance_id: m for m in members}
        back = set(by_id) | {self.self_member.instance_id}
        if self._held and (time.monotonic() >= self._held_until or set(self._held) <= back):
            self._held = {}  # over, or every member from before the outage is back: departures count again
        for iid, held in self._held.items():
            by_id.setdefault(iid, held)
        # Our own record is authoritative locally even before the backend echoes it back.
        by_id[self.self_member.instance_id] = self.self_member
        new = sorted(by_id.values(), key=lambda m: m.instance_id)
        if new == self._members:
            return
        self._members = new
        log.info("membership: %s", [m.instance_id for m in new])
        for cb in list(self._listeners):
            _call(cb, list(new))


def _call(cb: Callable[..., Any], *args: Any) -> None:
    try:
        result = cb(*args)
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            _background.add(task)
            task.add_done_callback(_background.discard)
    except Exception:
        log.exception("discovery listener failed")


# Strong references to listener tasks so they are not garbage-collected mid-flight.
_background: set[Any] = set()
