"""The playlist: movies and static folders of a room, ordered by position."""

from __future__ import annotations

import builtins
import json
import time
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from synctv.store.batching import Batcher
from synctv.store.ids import new_id, utcnow
from synctv.store.models import Movie, User
from synctv.store.pagination import ListQuery, like_pattern, paginate


class MovieStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._reads: Batcher[tuple[str, str], None, Movie | None] = Batcher(self._read_many)

    async def add(self, room_id: str, creator_id: str, bases: list[dict[str, Any]]) -> builtins.list[Movie]:
        """Insert all or nothing; positions follow insertion order (upstream: UnixMilli at insert)."""
        now = utcnow()
        start = time.time_ns() // 1_000_000
        movies = [
            Movie(id=new_id(), created_at=now, updated_at=now, room_id=room_id, creator_id=creator_id,
                  position=start + i, parent_id=b.get("parentId") or None, name=b["name"], url=b.get("url", ""),
                  is_folder=bool(b.get("isFolder")), base=json.dumps(b, separators=(",", ":")))
            for i, b in enumerate(bases)
        ]
        async with self._sessions() as s:
            s.add_all(movies)
            await s.commit()
        return movies

    async def get(self, room_id: str, movie_id: str) -> Movie | None:
        async with self._sessions() as s:
            movie = await s.get(Movie, movie_id)
            return movie if movie is not None and movie.room_id == room_id else None

    async def get_shared(self, room_id: str, movie_id: str) -> Movie | None:
        """`get` for the media paths, where a hundred viewers ask for the same movie at once: concurrent asks
        share one query (and one row object, which callers only read)."""
        return await self._reads.get((room_id, movie_id), None)

    async def _read_many(self, keys: dict[tuple[str, str], None]
                         ) -> dict[tuple[str, str], Movie | BaseException | None]:
        async with self._sessions() as s:
            rows = await s.scalars(select(Movie).where(Movie.id.in_({movie_id for _, movie_id in keys})))
            found = {(m.room_id, m.id): m for m in rows}
        return {key: found.get(key) for key in keys}

    async def get_many(self, room_id: str, ids: list[str]) -> builtins.list[Movie]:
        async with self._sessions() as s:
            return list(await s.scalars(select(Movie).where(Movie.room_id == room_id, Movie.id.in_(ids))))

    async def ancestors(self, room_id: str, movie_id: str) -> builtins.list[str]:
        """The movie and its parent folders, innermost first (bounded against cycles)."""
        chain: list[str] = []
        current: str | None = movie_id
        async with self._sessions() as s:
            while current and current not in chain and len(chain) < 64:
                chain.append(current)
                current = await s.scalar(select(Movie.parent_id).where(Movie.id == current,
                                                                       Movie.room_id == room_id))
        return chain

    async def update_base(self, room_id: str, movie_id: str, base: dict[str, Any]) -> bool:
        async with self._sessions() as s:
            res = await s.execute(update(Movie).where(Movie.id == movie_id, Movie.room_id == room_id).values(
                updated_at=utcnow(), name=base["name"], url=base.get("url", ""), is_folder=bool(base.get("isFolder")),
                parent_id=base.get("parentId") or None, base=json.dumps(base, separators=(",", ":"))))
            await s.commit()
            return bool(res.rowcount)  # type: ignore[attr-defined]

    async def subtree(self, room_id: str, roots: builtins.list[str] | None) -> builtins.list[Movie]:
        """`roots` and everything inside them (the children a delete cascades to); None = the whole room."""
        async with self._sessions() as s:
            if roots is None:
                return list(await s.scalars(select(Movie).where(Movie.room_id == room_id)))
            found = list(await s.scalars(select(Movie).where(Movie.room_id == room_id, Movie.id.in_(roots))))
            level = [m.id for m in found if m.is_folder]
            seen = {m.id for m in found}
            for _depth in range(64):
                if not level:
                    break
                children = list(await s.scalars(select(Movie).where(Movie.room_id == room_id,
                                                                    Movie.parent_id.in_(level))))
                children = [c for c in children if c.id not in seen]
                seen.update(c.id for c in children)
                found += children
                level = [c.id for c in children if c.is_folder]
            return found

    async def delete(self, room_id: str, ids: list[str]) -> int:
        async with self._sessions() as s:
            res = await s.execute(delete(Movie).where(Movie.room_id == room_id, Movie.id.in_(ids)))
            await s.commit()
            return int(res.rowcount)  # type: ignore[attr-defined]

    async def clear(self, room_id: str, parent_id: str) -> int:
        async with self._sessions() as s:
            cond = Movie.parent_id.is_(None) if not parent_id else Movie.parent_id == parent_id
            res = await s.execute(delete(Movie).where(Movie.room_id == room_id, cond))
            await s.commit()
            return int(res.rowcount)  # type: ignore[attr-defined]

    async def swap(self, room_id: str, id1: str, id2: str) -> bool:
        async with self._sessions() as s:
            a = await s.get(Movie, id1)
            b = await s.get(Movie, id2)
            if a is None or b is None or a.room_id != room_id or b.room_id != room_id:
                return False
            a.position, b.position = b.position, a.position
            await s.commit()
            return True

    async def list(self, room_id: str, parent_id: str, q: ListQuery) -> tuple[int, builtins.list[tuple[Movie, str]]]:
        stmt = select(Movie, User.username).join(User, User.id == Movie.creator_id).where(Movie.room_id == room_id)
        stmt = stmt.where(Movie.parent_id.is_(None) if not parent_id else Movie.parent_id == parent_id)
        if q.keyword:
            pattern = like_pattern(q.keyword)
            stmt = stmt.where(or_(Movie.name.ilike(pattern, "\\"), Movie.url.ilike(pattern, "\\")))
        stmt = stmt.order_by(Movie.position.asc(), Movie.id)
        async with self._sessions() as s:
            total, rows = await paginate(s, stmt, q)
        return total, [(r[0], r[1]) for r in rows]

    async def count(self, room_id: str) -> int:
        async with self._sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(Movie).where(Movie.room_id == room_id)) or 0)

    async def siblings(self, room_id: str, movie_id: str) -> builtins.list[tuple[str, bool]]:
        """The playable movies of `movie_id`'s folder in list order, as (id, is live): what auto-play walks."""
        async with self._sessions() as s:
            parent = await s.scalar(select(Movie.parent_id).where(Movie.id == movie_id, Movie.room_id == room_id))
            stmt = select(Movie.id, Movie.base).where(Movie.room_id == room_id, Movie.is_folder.is_(False))
            stmt = stmt.where(Movie.parent_id.is_(None) if not parent else Movie.parent_id == parent)
            rows = (await s.execute(stmt.order_by(Movie.position.asc(), Movie.id))).all()
        return [(r[0], bool(json.loads(r[1] or "{}").get("live"))) for r in rows]
