"""Users' vendor bindings (`vendor_accounts`): sealed bytes in, sealed bytes out; the vendors layer opens them."""

from __future__ import annotations

import builtins

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from synctv.store.ids import utcnow
from synctv.store.models import VendorAccount, VendorBackendRow


class VendorAccountStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def put(self, user_id: str, vendor: str, server_id: str, backend: str, sealed: bytes) -> None:
        now = utcnow()
        async with self._sessions() as s:
            row = await s.get(VendorAccount, (user_id, vendor, server_id))
            if row is None:
                s.add(VendorAccount(user_id=user_id, vendor=vendor, server_id=server_id, backend=backend,
                                    sealed=sealed, created_at=now, updated_at=now))
            else:
                row.backend, row.sealed, row.updated_at = backend, sealed, now
            await s.commit()

    async def get(self, user_id: str, vendor: str, server_id: str) -> VendorAccount | None:
        async with self._sessions() as s:
            return await s.get(VendorAccount, (user_id, vendor, server_id))

    async def for_user(self, user_id: str, vendor: str) -> builtins.list[VendorAccount]:
        async with self._sessions() as s:
            rows = await s.execute(select(VendorAccount).where(VendorAccount.user_id == user_id,
                                                               VendorAccount.vendor == vendor)
                                   .order_by(VendorAccount.created_at, VendorAccount.server_id))
            return list(rows.scalars())

    async def reseal(self, user_id: str, vendor: str, server_id: str, sealed: bytes) -> None:
        """A refreshed vendor token: only the sealed part changes (no-op if the binding went away meanwhile)."""
        async with self._sessions() as s:
            await s.execute(update(VendorAccount).where(VendorAccount.user_id == user_id,
                                                        VendorAccount.vendor == vendor,
                                                        VendorAccount.server_id == server_id)
                            .values(sealed=sealed, updated_at=utcnow()))
            await s.commit()

    async def delete(self, user_id: str, vendor: str, server_id: str) -> bool:
        async with self._sessions() as s:
            res = await s.execute(delete(VendorAccount).where(VendorAccount.user_id == user_id,
                                                              VendorAccount.vendor == vendor,
                                                              VendorAccount.server_id == server_id))
            await s.commit()
            return bool(res.rowcount)  # type: ignore[attr-defined]


class VendorBackendStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def all(self) -> builtins.list[VendorBackendRow]:
        async with self._sessions() as s:
            rows = await s.execute(select(VendorBackendRow).order_by(VendorBackendRow.created_at,
                                                                     VendorBackendRow.endpoint))
            return list(rows.scalars())

    async def get(self, endpoint: str) -> VendorBackendRow | None:
        async with self._sessions() as s:
            return await s.get(VendorBackendRow, endpoint)

    async def add(self, endpoint: str, info: str, sealed: bytes, enabled: bool) -> bool:
        """False if the endpoint is taken."""
        now = utcnow()
        async with self._sessions() as s:
            if await s.get(VendorBackendRow, endpoint) is not None:
                return False
            s.add(VendorBackendRow(endpoint=endpoint, enabled=enabled, info=info, sealed=sealed, created_at=now,
                                   updated_at=now))
            await s.commit()
            return True

    async def update(self, endpoint: str, info: str, sealed: bytes, enabled: bool) -> bool:
        async with self._sessions() as s:
            res = await s.execute(update(VendorBackendRow).where(VendorBackendRow.endpoint == endpoint)
                                  .values(info=info, sealed=sealed, enabled=enabled, updated_at=utcnow()))
            await s.commit()
            return bool(res.rowcount)  # type: ignore[attr-defined]

    async def set_enabled(self, endpoints: builtins.list[str], enabled: bool) -> int:
        async with self._sessions() as s:
            res = await s.execute(update(VendorBackendRow).where(VendorBackendRow.endpoint.in_(endpoints))
                                  .values(enabled=enabled, updated_at=utcnow()))
            await s.commit()
            return int(res.rowcount)  # type: ignore[attr-defined]

    async def delete(self, endpoints: builtins.list[str]) -> int:
        async with self._sessions() as s:
            res = await s.execute(delete(VendorBackendRow).where(VendorBackendRow.endpoint.in_(endpoints)))
            await s.commit()
            return int(res.rowcount)  # type: ignore[attr-defined]
