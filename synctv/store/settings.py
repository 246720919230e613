"""Global settings, stored one row per setting and cached in memory.

Every change also writes a new random token to one reserved row (`VERSION_ROW`) in the same transaction. A
running server polls that single row (`watch`, a primary-key lookup per second) and reloads when it moved, so a
change made by any writer of the database — another instance, or `synctv setting set` against the database
directly — takes effect everywhere within a second without any message between them.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

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

log = logging.getLogger(__name__)

# Reserved rows of the settings table (never site settings: their names start with "_").
VERSION_ROW = "_settings_version"
# Moved by every change to a user row (role, password, name, deletion), for the same reason: a ban made with
# `synctv user ban` straight against the database closes the user's open WebSockets within a second.
USERS_VERSION_ROW = "_users_version"
INTERNAL_GROUP = "_internal"

ChangeListener = Callable[[str], Awaitable[None]]  # "settings" or "users"


async def bump_marker(s: AsyncSession, name: str) -> str:
    """Write a new random token to a reserved row, in the caller's transaction; returns it."""
    version = uuid.uuid4().hex
    marker = await s.get(Setting, name)
    if marker is None:
        s.add(Setting(name=name, value=version, type="string", group=INTERNAL_GROUP, updated_at=utcnow()))
    else:
        marker.value = version
        marker.updated_at = utcnow()
    return version


class SettingsStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._values: dict[str, SettingValue] = {name: d.default for name, d in SETTINGS.items()}
        self._version: str | None = None
        self._users_version: str | None = None
        # Told after a change made by another writer was noticed (the runtime closes what it must).
        self.on_change: ChangeListener | None = None

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
        version = ""
        for row in rows:
            d = defs.get(row.name)
            if d is not None:
                values[row.name] = from_text(d, row.value)
            elif row.name == VERSION_ROW:
                version = row.value
            elif row.name == USERS_VERSION_ROW and self._users_version is None:
                self._users_version = row.value
        self._values = values
        self._version = version
        if self._users_version is None:
            self._users_version = ""

    async def stored_version(self) -> str:
        async with self._sessions() as s:
            return str(await s.scalar(select(Setting.value).where(Setting.name == VERSION_ROW)) or "")

    async def reload_if_changed(self) -> list[str]:
        """Reload when another writer changed a setting since the last load; say what moved ("settings",
        "users"). One primary-key query when nothing did."""
        async with self._sessions() as s:
            rows = await s.execute(select(Setting.name, Setting.value).where(
                Setting.name.in_((VERSION_ROW, USERS_VERSION_ROW))))
            markers = {str(name): str(value) for name, value in rows}
        changed = []
        if markers.get(VERSION_ROW, "") != self._version:
            await self.reload()
            changed.append("settings")
        users = markers.get(USERS_VERSION_ROW, "")
        if self._users_version is not None and users != self._users_version:
            changed.append("users")
        self._users_version = users
        return changed

    async def watch(self, interval: float = 1.0) -> None:
        """Follow changes made by other writers of the database until cancelled."""
        failing = False
        while True:
            await asyncio.sleep(interval)
            try:
                changed = await self.reload_if_changed()
                if "settings" in changed:
                    log.info("site settings changed in the database; reloaded")
                if changed and self.on_change is not None:
                    for what in changed:
                        await self.on_change(what)
                failing = False
            except Exception as exc:  # the database is down: readiness reports it; keep the cached values
                if not failing:
                    log.warning("cannot check the site settings for changes: %s", exc)
                failing = True

    async def get_internal(self, name: str) -> str | None:
        """A reserved row (name starting with "_"): server bookkeeping kept next to the settings, never shown."""
        async with self._sessions() as s:
            return await s.scalar(select(Setting.value).where(Setting.name == name))

    async def set_internal(self, name: str, value: str) -> None:
        if not name.startswith("_"):
            raise ValueError(f"{name}: internal rows start with '_'")
        async with self._sessions() as s:
            row = await s.get(Setting, name)
            if row is None:
                s.add(Setting(name=name, value=value, type="string", group=INTERNAL_GROUP, updated_at=utcnow()))
            else:
                row.value = value
                row.updated_at = utcnow()
            try:
                await s.commit()
            except IntegrityError:  # another instance inserted it at the same moment: theirs stands
                await s.rollback()

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
            version = await bump_marker(s, VERSION_ROW)
            await s.commit()
        self._values.update(coerced)
        self._version = version
        return coerced
