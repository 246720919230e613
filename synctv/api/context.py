"""How request handlers reach the service container stored on the aiohttp application."""

from __future__ import annotations

from aiohttp import web

from synctv.services import Services

SERVICES: web.AppKey[Services] = web.AppKey("services", Services)


def services(request: web.Request) -> Services:
    return request.app[SERVICES]
