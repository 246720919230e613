"""List queries: keyword search, sort, order and page, as the API's list endpoints take them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T", bound=tuple[Any, ...])


@dataclass(frozen=True, slots=True)
class ListQuery:
    page: int = 1
    max: int = 10
    keyword: str = ""
    search: str = "all"
    sort: str = "name"
    desc: bool = True

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.max


def like_pattern(keyword: str) -> str:
    escaped = keyword.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def paginate(session: AsyncSession, stmt: Any, q: ListQuery) -> tuple[int, list[Any]]:
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = (await session.execute(stmt.offset(q.offset).limit(q.max))).all()
    return int(total or 0), list(rows)
