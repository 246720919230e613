"""Users' vendor bindings (`vendor_accounts`): sealed bytes in, sealed bytes out; the vendors layer opens them."""

from __future__ import annotations

import builtins

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from synctv.store.ids import utcnow
from synctv.store.models import VendorAccount


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
