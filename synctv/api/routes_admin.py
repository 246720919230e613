"""`/api/admin`: site administration (admins; some actions root only)."""

from __future__ import annotations

from synctv.api.routing import Routes

routes = Routes("admin")
