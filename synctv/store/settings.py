"""Global settings, stored one row per setting and cached in memory.

The cache is refreshed from the database on demand (`reload`); in a cluster an instance that changes a
setting tells the others to reload, so a change takes effect everywhere at once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from synctv.core.site_settings import (
    OIDC_NAMES_SETTING,
    SETTINGS,
    SettingDef,
    SettingError,
    SettingValue,
    all_defs,
    coerce,
    from_text,
    to_text,
)
from synctv.core.site_settings import validate_combination as _validate_combination
from synctv.store.ids import utcnow
from synctv.store.models import Setting


class SettingsStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._values: dict[str, SettingValue] = {name: d.default for name, d in SETTINGS.items()}

    async def load(self) -> None:
        """Insert missing rows with defaults, then read all values."""
        async with self._sessions() as s:
            rows = {r.name: r for r in await s.scalars(select(Setting))}
            now = utcnow()
            for name, d in SETTINGS.items():
                if name not in rows:
                    s.add(Setting(name=name, value=to_text(d.default), type=d.type, group=d.group, updated_at=now))
                elif d.read_only and rows[name].value != to_text(d.default):
                    rows[name].value = to_text(d.default)
            try:
                await s.commit()
            except IntegrityError:
                await s.rollback()  # another instance inserted the defaults at the same moment
        await self.reload()

    async def reload(self) -> None:
        async with self._sessions() as s:
            rows = list(await s.scalars(select(Setting)))
        values: dict[str, SettingValue] = {name: d.default for name, d in SETTINGS.items()}
        names_row = next((r for r in rows if r.name == OIDC_NAMES_SETTING), None)
        if names_row is not None:
            values[OIDC_NAMES_SETTING] = from_text(SETTINGS[OIDC_NAMES_SETTING], names_row.value)
        defs = all_defs(values)
        values.update({name: d.default for name, d in defs.items() if name not in values})
        for row in rows:
            d = defs.get(row.name)
            if d is not None:
                values[row.name] = from_text(d, row.value)
        self._values = values

    def definitions(self) -> dict[str, SettingDef]:
        """Every setting in force, the generic OpenID Connect providers' included."""
        return all_defs(self._values)

    def get(self, name: str) -> SettingValue:
        value = self._values.get(name)
        if value is None:
            d = self.definitions().get(name)
            if d is None:
                raise KeyError(name)
            return d.default
        return value

    def text(self, name: str) -> str:
        return str(self.get(name))

    def bool(self, name: str) -> bool:
        return bool(self.get(name))

    def int(self, name: str) -> int:
        value = self.get(name)
        return value if isinstance(value, int) else 0

    def all(self) -> dict[str, SettingValue]:
        return {name: self.get(name) for name in self.definitions()}

    async def set_many(self, updates: dict[str, object]) -> dict[str, SettingValue]:
        """Validate every value first; write all or none."""
        coerced: dict[str, SettingValue] = {}
        if OIDC_NAMES_SETTING in updates:  # new provider names bring their settings into the same update
            coerced[OIDC_NAMES_SETTING] = coerce(SETTINGS[OIDC_NAMES_SETTING], updates[OIDC_NAMES_SETTING])
        defs = all_defs({**self._values, **coerced})
        for name, value in updates.items():
            d = defs.get(name)
            if d is None:
                raise SettingError(f"setting {name!s:.64} not found")
            if d.read_only:
                raise SettingError(f"setting {name} is read-only")
            coerced[name] = coerce(d, value)
        _validate_combination({**self._values, **coerced})
        async with self._sessions() as s:
            now = utcnow()
            for name, value in coerced.items():
                row = await s.get(Setting, name)
                if row is None:
                    d = defs[name]
                    s.add(Setting(name=name, value=to_text(value), type=d.type, group=d.group, updated_at=now))
                else:
                    row.value = to_text(value)
                    row.updated_at = now
            await s.commit()
        self._values.update(coerced)
        return coerced
