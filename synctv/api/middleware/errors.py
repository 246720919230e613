"""Every failure becomes the upstream error envelope; bad input never surfaces as a bare 500."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from synctv.api.responses import ApiError, error, room_error_status
from synctv.core.playback import PlaybackError
from synctv.core.site_settings import SettingError
from synctv.core.validation import ValidationError
from synctv.media.errors import ProxyError
from synctv.rooms.actor import RoomUnavailable
from synctv.store.errors import UNAVAILABLE_MESSAGE, database_unavailable
from synctv.store.members import MembershipGone
from synctv.store.users import Conflict

log = logging.getLogger("synctv.api")

_BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding"})


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        resp = error(exc.status, exc.message)
        resp.headers.update(exc.headers)
        return resp
    except ProxyError as exc:  # vendor failures included (they are proxy errors)
        return error(exc.status, exc.message)
    except (ValidationError, SettingError, PlaybackError, Conflict) as exc:
        return error(400, str(exc))
    except MembershipGone:
        return error(404, "room not found")  # deleted while this request was joining it
    except RoomUnavailable as exc:
        # Usually transient (the room is moving between instances or its owner is unreachable): retry later.
        return error(room_error_status(exc.code), str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = error(exc.status, exc.reason.lower())
        for name, value in exc.headers.items():  # e.g. Allow on a 405
            if name.lower() not in _BODY_HEADERS:
                response.headers[name] = value
        return response
    except Exception as exc:
        if database_unavailable(exc):
            # A database outage: nothing was written; the client retries (the instance itself stays ready).
            log.warning("request refused: database unavailable", extra={"route": request.path})
            return error(503, UNAVAILABLE_MESSAGE)
        log.exception("unhandled error", extra={"route": request.path})
        return error(500, "internal server error")
