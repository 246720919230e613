"""Guessing secrets (account and room passwords) is throttled per account or room and per client address,
cluster-wide: after a few failures each further one doubles a lockout, answered 429 with Retry-After.

An unknown account costs as much time as a wrong password and gets the same answer, so accounts cannot be
discovered by guessing.
"""

from __future__ import annotations

from aiohttp import web

from synctv.api.context import services
from synctv.api.middleware.ratelimit import client_ip, trusted_networks
from synctv.api.responses import too_many_requests
from synctv.auth.passwords import check_password, hash_password
from synctv.core.throttle import FREE_FAILURES_PER_ADDRESS

_DUMMY: list[bytes] = []


class Attempt:
    """One guess at a secret, by a client address, at `subject` (an account or a room)."""

    def __init__(self, request: web.Request, kind: str, subject: str) -> None:
        svc = services(request)
        self._throttle = svc.router.throttle
        cfg = svc.cfg.rate_limit
        self.subject_key = f"{kind}:{subject.lower()}"
        self.address_key = f"{kind}-from:{client_ip(request, cfg, trusted_networks(cfg))}"

    async def check(self) -> None:
        """Raise 429 while the subject or the address is locked out."""
        wait = max(await self._throttle.lockout(self.subject_key), await self._throttle.lockout(self.address_key))
        if wait > 0:
            raise too_many_requests("too many failed attempts, try again later", wait)

    async def failed(self) -> None:
        await self._throttle.failed(self.subject_key)
        await self._throttle.failed(self.address_key, FREE_FAILURES_PER_ADDRESS)

    async def succeeded(self) -> None:
        # Only the subject's count: a success at one's own account must not clear an address's guesses.
        await self._throttle.succeeded(self.subject_key)


async def verify(attempt: Attempt, password: str, hashed: bytes | None) -> bool:
    """Check `password` against `hashed` (None: no such account, checked against a stand-in all the same)."""
    await attempt.check()
    if hashed is None:
        if not _DUMMY:
            _DUMMY.append(await hash_password("no such account"))
        await check_password(password, _DUMMY[0])
        ok = False
    else:
        ok = await check_password(password, hashed)
    if ok:
        await attempt.succeeded()
    else:
        await attempt.failed()
    return ok
