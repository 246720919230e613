"""Who is watching a room, aggregated by its owner from every instance's announcements.

Presence is per user (distinct users, any number of connections, on any instances). Each instance announces
absolute counts, versioned per user, so a late retry or re-announcement never undoes a newer update.
"""

from __future__ import annotations

from collections.abc import Mapping

from synctv.core.commands import UpdatePresence


class PresenceTable:
    def __init__(self, counts: Mapping[str, Mapping[str, int]] | None = None) -> None:
        self.counts: dict[str, dict[str, int]] = {k: dict(v) for k, v in (counts or {}).items()}
        self._versions: dict[str, dict[str, int]] = {}

    def apply(self, update: UpdatePresence) -> None:
        """Per-user last-writer-wins on the announcing instance's version."""
        counts = self.counts.setdefault(update.instance_id, {})
        versions = self._versions.setdefault(update.instance_id, {})
        users = set(update.counts)
        if update.replace_all:
            users |= set(counts) | set(versions)
        for user in users:
            if update.version and update.version <= versions.get(user, 0):
                continue
            if update.version:
                versions[user] = update.version
            n = update.counts.get(user, 0)
            if n > 0:
                counts[user] = n
            else:
                counts.pop(user, None)

    def drop_instance(self, instance_id: str) -> None:
        self.counts.pop(instance_id, None)
        self._versions.pop(instance_id, None)

    def viewer_count(self) -> int:
        return len({u for counts in self.counts.values() for u, n in counts.items() if n > 0})

    def online(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for counts in self.counts.values():
            for user, n in counts.items():
                if n > 0:
                    out[user] = out.get(user, 0) + n
        return out

    def copy_counts(self) -> dict[str, dict[str, int]]:
        return {k: dict(v) for k, v in self.counts.items()}
