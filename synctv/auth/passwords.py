"""bcrypt password hashing, run off the event loop (a hash costs tens of milliseconds)."""

from __future__ import annotations

import asyncio
import zlib

import bcrypt

# Upstream uses Go's bcrypt.DefaultCost.
BCRYPT_ROUNDS = 10


def hash_password_sync(password: str) -> bytes:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_ROUNDS))


def check_password_sync(password: str, hashed: bytes) -> bool:
    if not hashed:
        return False
    try:
        return bcrypt.checkpw(password.encode(), hashed)
    except ValueError:
        return False


async def hash_password(password: str) -> bytes:
    return await asyncio.to_thread(hash_password_sync, password)


async def check_password(password: str, hashed: bytes) -> bool:
    return await asyncio.to_thread(check_password_sync, password, hashed)


def user_version(hashed: bytes) -> int:
    """Token version: CRC32 of the bcrypt hash, so a password change invalidates every older token."""
    return zlib.crc32(hashed)
