"""`synctv backup` / `synctv restore` for SQLite, through SQLite's online backup API.

In WAL mode the database is `synctv.db` plus `synctv.db-wal` (committed pages not yet checkpointed), so copying
the main file alone loses writes or yields a torn file. The backup API reads one consistent snapshot inside a
read transaction, which in WAL mode does not block the server's writers, and writes a single self-contained
file. PostgreSQL and MySQL have their own tools (pg_dump, mysqldump); these commands point there.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from synctv.config import Config
from synctv.store.database import sqlite_path

_MAGIC = b"SQLite format 3\x00"


class BackupError(Exception):
    """An expected failure; the message is one line for the operator."""


@dataclass(frozen=True)
class Result:
    path: Path
    size: int
    users: int


def _database(cfg: Config) -> Path:
    path = sqlite_path(cfg)
    if path is None and cfg.database.type == "sqlite3" and not cfg.database.custom_dsn.startswith(("postgres",
                                                                                                  "mysql")):
        raise BackupError("the database is an in-memory SQLite database (database.name: memory): there is no "
                          "file to back up or restore")
    if path is None:
        kind = {"postgres": "PostgreSQL", "mysql": "MySQL"}.get(cfg.database.type, cfg.database.type)
        if cfg.database.custom_dsn.startswith(("postgres", "mysql")):
            kind = "PostgreSQL" if cfg.database.custom_dsn.startswith("postgres") else "MySQL"
        tool = "mysqldump --single-transaction" if kind == "MySQL" else "pg_dump --format=custom"
        restore = "mysql" if kind == "MySQL" else "pg_restore"
        raise BackupError(f"the database is {kind}, not SQLite: back it up with {tool} and restore it with "
                          f"{restore} (see docs/operations.md, \"Backup and restore\")")
    return path


def _check(conn: sqlite3.Connection, what: str) -> int:
    """`PRAGMA integrity_check` must say ok, and the file must be this server's; returns the user count."""
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchall()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{what}: {exc}") from None
    if verdict != [("ok",)]:
        raise BackupError(f"{what} failed the integrity check: {'; '.join(str(r[0]) for r in verdict[:3])}")
    if not {"alembic_version", "users", "rooms"} <= tables:
        raise BackupError(f"{what} is not a SyncTV database (no users, rooms or alembic_version table)")
    return int(conn.execute("SELECT COUNT(*) FROM users").fetchone()[0])


def backup(cfg: Config, dest: Path, *, force: bool = False) -> Result:
    src_path = _database(cfg)
    if not src_path.exists():
        raise BackupError(f"no database at {src_path}")
    if dest.exists() and not force:
        raise BackupError(f"{dest} already exists (give another name, or --force to overwrite it)")
    if not dest.parent.is_dir():
        raise BackupError(f"directory {dest.parent} does not exist")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(src_path, timeout=30)
    try:
        out = sqlite3.connect(partial)
        try:
            src.backup(out)  # every page in one step: one snapshot, writers carry on meanwhile
            out.execute("PRAGMA journal_mode=DELETE")  # the copy is one file, with no -wal beside it
            users = _check(out, f"the backup {partial}")
        finally:
            out.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"backup of {src_path} failed: {exc}") from None
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    os.chmod(partial, 0o600)  # it holds password hashes and secrets
    partial.replace(dest)
    return Result(dest, dest.stat().st_size, users)


def restore(cfg: Config, source: Path, *, force: bool = False) -> Result:
    target = _database(cfg)
    if not source.is_file():
        raise BackupError(f"backup {source}: no such file")
    with source.open("rb") as f:
        if f.read(len(_MAGIC)) != _MAGIC:
            raise BackupError(f"backup {source}: not a SQLite database file")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; stop every server using it, then rerun with --force to replace it")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        users = _check(src, f"the backup {source}")
        dst = sqlite3.connect(target, timeout=30)
        try:
            # Through the target's own connection, so its -wal and -shm files are replaced consistently too.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")
            _check(dst, f"the restored database {target}")
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"restore into {target} failed: {exc}") from None
    finally:
        src.close()
    return Result(target, target.stat().st_size, users)
