"""Public endpoints the web client calls on page load, the clock endpoint, and the not-yet-available features.

Live danmu answers a clear 400 instead of a 401 or a 500, so clients degrade gracefully.
"""

from __future__ import annotations

import time

from aiohttp import web

from synctv.api.context import services
from synctv.api.responses import bad_request, ok
from synctv.api.routing import Routes

routes = Routes("public")


@routes.get("/api/public/settings", "Public site settings the client needs before login")
async def public_settings(request: web.Request) -> web.Response:
    svc = services(request)
    s = svc.store.settings
    whitelist = [d.strip() for d in str(s.get("email_signup_white_list")).split(",") if d.strip()]
    return ok({
        "emailWhitelist": whitelist,
        "passwordDisableSignup": s.bool("disable_user_signup") or not s.bool("enable_password_signup"),
        "emailEnable": s.bool("enable_email"),
        "emailDisableSignup": s.bool("disable_user_signup") or s.bool("email_disable_user_signup"),
        "emailWhitelistEnabled": s.bool("email_signup_white_list_enable"),
        "oauth2DisableSignup": s.bool("disable_user_signup"),
        "guestEnable": s.bool("enable_guest"),
        "p2pZone": s.get("p2p_zone"),
        # Not upstream: where the web client may reconnect a room when this instance stops answering.
        "publicAddresses": [a.rstrip("/") for a in svc.cfg.server.public_addresses],
    })


@routes.get("/api/public/time", "Server wall-clock time in milliseconds, for client clock-offset estimation")
async def server_time(request: web.Request) -> web.Response:
    return ok({"serverTime": time.time_ns() // 1_000_000})


for _path, _summary in (
    ("/api/room/movie/danmu/{tail:.*}", "Live danmu stream: not available yet"),
):
    async def _unavailable(request: web.Request) -> web.Response:
        raise bad_request("live danmu is not available on this server")

    routes.any(_path, _summary)(_unavailable)
