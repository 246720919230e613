"""The built-in users: the guest, and the first root user with a random one-time password.

The first root is created only once the server listens (a start that fails on a busy port creates nothing). Its
password is printed once and also kept in `<data dir>/first-root-password` (owner-only), so it survives a lost
terminal until the password is changed; every start says where it is. In a cluster the instance that creates the
user writes the file; the others log which instance and path hold it (from a reserved row of the settings table).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from synctv.auth.passwords import check_password, hash_password, user_version
from synctv.config import Config
from synctv.core.permissions import Role
from synctv.store import Store
from synctv.store.users import Conflict

log = logging.getLogger("synctv.first_root")

PASSWORD_FILE = "first-root-password"
MARKER_ROW = "_first_root"


async def ensure_guest(store: Store) -> None:
    await store.users.ensure_guest(await hash_password(secrets.token_urlsafe(24)))


def password_file(cfg: Config) -> Path:
    return Path(cfg.data_dir) / PASSWORD_FILE


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def _read_password(path: Path) -> str | None:
    try:
        for line in path.read_text().splitlines():
            if line.startswith("password: "):
                return line[len("password: "):]
    except OSError:
        return None
    return None


async def ensure_first_root(store: Store, cfg: Config, instance_id: str,
                            announce: Callable[[str], None] = print) -> None:
    """Create the first root if there is none; otherwise say where its unchanged one-time password is."""
    path = password_file(cfg)
    if await store.users.count_role(Role.ROOT) > 0:
        await _remind(store, path)
        return
    name = "root"
    existing = await store.users.get_by_username(name)
    if existing is not None and existing.role >= Role.ROOT:
        # Another instance of the cluster created it between our count and now: it holds the password.
        await _remind(store, path)
        return
    if existing is not None:  # an ordinary user took the name
        name = f"root-{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(12)
    # The file first: once the user exists, its password must already be somewhere.
    _write_private(path, "# The first root user's one-time password. Log in and change it; this file is then\n"
                         "# deleted at the next start.\n"
                         f"username: {name}\npassword: {password}\n")
    hashed = await hash_password(password)
    try:
        user = await store.users.create(name, hashed, Role.ROOT)
    except Conflict:  # another instance of the cluster created it at the same moment
        path.unlink(missing_ok=True)
        await _remind(store, path)
        return
    await store.settings.set_internal(MARKER_ROW, json.dumps(
        {"user_id": user.id, "instance": instance_id, "file": str(path), "version": user_version(hashed)}))
    log.info("created the first root user", extra={"username": user.username, "kept_in": str(path)})
    announce(f"Created the first root user {user.username!r} with password: {password}\n"
             f"(also kept in {path} until the password is changed; log in and change it in your profile, "
             f"or run `synctv user password {user.username}`)")


def _remove(path: Path) -> bool:
    with contextlib.suppress(OSError):
        path.unlink()
        return True
    return False


async def _remind(store: Store, path: Path) -> None:
    raw = await store.settings.get_internal(MARKER_ROW)
    try:
        marker = json.loads(raw) if raw else {}
    except ValueError:
        marker = {}
    user = await store.users.get(str(marker.get("user_id", ""))) if marker else None
    local = _read_password(path)  # None: no file here (another instance created the user) or unreadable
    unchanged = user is not None and user.role >= Role.ROOT
    if unchanged and user is not None:
        if local is not None:
            unchanged = await check_password(local, user.hashed_password)
        else:
            unchanged = user_version(user.hashed_password) == marker.get("version")
    if not unchanged or user is None:
        if _remove(path):
            log.info("the first root user's one-time password was changed; removed its file",
                     extra={"kept_in": str(path)})
        return
    if local is not None:
        log.warning("the first root user still has its one-time password; log in and change it",
                    extra={"username": user.username, "kept_in": str(path)})
    else:
        log.warning("the first root user still has its one-time password, kept by the instance that created it",
                    extra={"username": user.username, "instance": marker.get("instance", ""),
                           "kept_in": marker.get("file", "")})
