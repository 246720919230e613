"""Operator commands at scale: `import-upstream` of a generated upstream SQLite site (first run and the no-op
second run), and `backup` of the result against a plain file copy of the same database, side by side.

    .venv/bin/python -m bench.maintenance [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import table, write_json
from synctv import config
from synctv.importer.source import UpstreamSource
from synctv.importer.upstream import run_import
from synctv.maintenance.backup import backup
from synctv.store import Store
from tests.support.upstream_db import ddl, go_bcrypt


def build(path: Path, users: int, rooms: int, members: int, movies: int) -> dict[str, int]:
    """An upstream site: `rooms` rooms of `members` members and `movies` movies each (one hash reused)."""
    db = sqlite3.connect(path)
    for stmt in ddl("sqlite"):
        db.execute(stmt)
    when = "2024-03-01 18:30:00.123456789+08:00"
    hashed = go_bcrypt("same-password")
    uid = [f"{i:032x}" for i in range(2, users + 2)]
    db.executemany('INSERT INTO users (id, created_at, updated_at, username, hashed_password, role, '
                   'registered_by_provider, registered_by_email) VALUES (?, ?, ?, ?, ?, 3, 0, 0)',
                   [(u, when, when, f"user{i}", hashed) for i, u in enumerate(uid)])
    rid = [f"{(1 << 64) + i:032x}" for i in range(rooms)]
    db.executemany('INSERT INTO rooms (id, created_at, updated_at, name, creator_id, hashed_password, status, '
                   'current) VALUES (?, ?, ?, ?, ?, ?, 3, ?)',
                   [(r, when, when, f"room{i}", uid[i % users], b"", "") for i, r in enumerate(rid)])
    db.executemany("INSERT INTO room_settings (id, hidden, user_default_permissions, guest_permissions, "
                   "updated_at) VALUES (?, 0, 193, 0, ?)", [(r, when) for r in rid])
    db.executemany('INSERT INTO room_members (created_at, updated_at, user_id, room_id, status, role, permissions, '
                   'admin_permissions) VALUES (?, ?, ?, ?, 3, 1, 193, 0)',
                   [(when, when, uid[(i + k) % users], r, ) for i, r in enumerate(rid) for k in range(members)])
    db.executemany('INSERT INTO movies (id, created_at, updated_at, position, room_id, creator_id, base_url, '
                   'base_name, base_is_folder, base_live, base_proxy, base_rtmp_source, base_headers) '
                   'VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, ?)',
                   [(f"{(2 << 64) + i * movies + m:032x}", when, when, m, r, uid[i % users],
                     f"https://media.example.com/{i}/{m}.mp4", f"movie {m}", "{}")
                    for i, r in enumerate(rid) for m in range(movies)])
    db.commit()
    db.close()
    return {"users": users, "rooms": rooms, "members": rooms * members, "movies": rooms * movies}


def _files(cfg: config.Config, work: Path) -> tuple[dict[str, int], dict[str, float]]:
    """A plain copy of the database file (what is not a backup) and `synctv backup`, timed one after the other."""
    timings: dict[str, float] = {}
    db_file = work / "data" / "synctv.db"
    t0 = time.perf_counter()
    shutil.copyfile(db_file, work / "copy.db")
    timings["plain file copy (not a backup)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = backup(cfg, work / "backup.db")
    timings["synctv backup (+ integrity check)"] = time.perf_counter() - t0
    return {"database_bytes": db_file.stat().st_size, "backup_bytes": result.size}, timings


async def run(sizes: dict[str, int]) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="synctv-bench-maint-"))
    try:
        upstream = work / "upstream.db"
        rows = build(upstream, **sizes)
        cfg = config.load(work / "data", env={"SYNCTV_LOG_LEVEL": "warning"})
        store = await Store.open(cfg)
        timings: dict[str, float] = {}
        try:
            for label in ("import (first run)", "import (second run, no-op)"):
                source = await UpstreamSource.open(str(upstream))
                t0 = time.perf_counter()
                report = await run_import(source, store)
                timings[label] = time.perf_counter() - t0
                await source.close()
                if label.startswith("import (first"):
                    assert report.imported["movies"] == rows["movies"], report.lines()[:8]
                else:
                    assert report.changed == 0
        finally:
            await store.close()
        sizes_, file_timings = await asyncio.to_thread(_files, cfg, work)
        timings.update(file_timings)
        total = sum(rows.values())
        out = [{"step": k, "seconds": v, "rows_per_s": total / v if k.startswith("import") else "",
                "vs_first_import": v / timings["import (first run)"]} for k, v in timings.items()]
        return {"rows": rows, **sizes_, "steps": out,
                "backup_vs_copy": timings["synctv backup (+ integrity check)"]
                / timings["plain file copy (not a backup)"]}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = ({"users": 1000, "rooms": 200, "members": 4, "movies": 10} if args.quick
             else {"users": 10000, "rooms": 2000, "members": 5, "movies": 20})
    result = asyncio.run(run(sizes))
    print("rows:", result["rows"], f"database {result['database_bytes'] / 1e6:.1f} MB")
    print(table(result["steps"], ["step", "seconds", "rows_per_s", "vs_first_import"]))
    print(f"backup / plain copy time ratio: {result['backup_vs_copy']:.1f}")
    write_json("maintenance-quick" if args.quick else "maintenance", result)


if __name__ == "__main__":
    main()
