"""E-mailed verification codes in the database, so that any instance can verify a code another one sent."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from synctv.store.ids import utcnow
from synctv.store.models import EmailCode


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class EmailCodeStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def issue(self, key: str, new_code: str, ttl_s: float) -> str:
        """The code for `key`: an unexpired one is kept and its lifetime extended (a resend sends the same
        code); otherwise `new_code` is stored."""
        digest = key_hash(key)
        for _ in range(3):
            now = utcnow()
            expires = now + timedelta(seconds=ttl_s)
            async with self._sessions() as s:
                await s.execute(delete(EmailCode).where(EmailCode.expires_at < now))
                row = await s.get(EmailCode, digest)
                if row is not None:
                    row.expires_at = expires
                    code = row.code
                else:
                    s.add(EmailCode(key_hash=digest, code=new_code, attempts=0, expires_at=expires))
                    code = new_code
                try:
                    await s.commit()
                except IntegrityError:
                    continue  # issued at the same moment elsewhere: read that one
                return code
        raise RuntimeError("could not store the e-mail code")

    async def verify(self, key: str, code: str, max_attempts: int) -> bool:
        """True once for the right code (it is then deleted). Each wrong try counts; after `max_attempts` the
        code is gone and a new one must be requested."""
        digest = key_hash(key)
        async with self._sessions() as s:
            row = await s.scalar(select(EmailCode).where(EmailCode.key_hash == digest).with_for_update())
            if row is None:
                return False
            if row.expires_at < utcnow():
                await s.delete(row)
                await s.commit()
                return False
            if hmac.compare_digest(row.code.encode(), code.encode()):
                res = await s.execute(delete(EmailCode).where(EmailCode.key_hash == digest))
                await s.commit()
                return bool(res.rowcount)  # type: ignore[attr-defined]
            row.attempts += 1
            if row.attempts >= max_attempts:
                await s.delete(row)
            await s.commit()
            return False
