"""JSON shapes of the API's shared objects (upstream field names)."""

from __future__ import annotations

import json
from typing import Any

from synctv.core import movies as movie_rules
from synctv.store.ids import to_ms
from synctv.store.models import Movie, RoomMember, User
from synctv.store.rooms import RoomRow


def user_info(user: User, *, with_email: bool = True) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "email": (user.email or "") if with_email else "",
            "createdAt": to_ms(user.created_at), "role": user.role}


def room_list_item(row: RoomRow, viewers: int) -> dict[str, Any]:
    return {"roomId": row.id, "roomName": row.name, "creatorId": row.creator_id, "creator": row.creator,
            "viewerCount": viewers, "createdAt": to_ms(row.created_at), "needPassword": row.need_password,
            "status": row.status}


def check_room(row: RoomRow, viewers: int, enabled_guest: bool) -> dict[str, Any]:
    return {"name": row.name, "creatorId": row.creator_id, "creator": row.creator, "viewerCount": viewers,
            "status": row.status, "needPassword": row.need_password, "enabledGuest": enabled_guest}


def room_member(member: RoomMember, username: str, online: int) -> dict[str, Any]:
    return {"userId": member.user_id, "username": username, "roomId": member.room_id,
            "joinAt": to_ms(member.created_at), "onlineCount": online, "permissions": member.permissions,
            "adminPermissions": member.admin_permissions, "role": member.role, "status": member.status}


def movie_base(movie: Movie) -> dict[str, Any]:
    base: dict[str, Any] = json.loads(movie.base)
    return base


def api_movie(movie: Movie, creator: str, *, viewer_id: str, sub_path: str = "",
              for_playback: bool = False) -> dict[str, Any]:
    base = movie_rules.without_secrets(movie_base(movie))
    if for_playback:
        base = movie_rules.for_playback(base)
    elif movie.creator_id != viewer_id:
        base = movie_rules.hide_private(base)
    return {"id": movie.id, "creator": creator, "creatorId": movie.creator_id, "subPath": sub_path, "base": base,
            "createAt": to_ms(movie.created_at)}


EMPTY_BASE: dict[str, Any] = {"url": "", "name": "", "type": "", "live": False, "proxy": False, "rtmpSource": False,
                              "headers": {}, "subtitles": {}, "moreSources": [], "danmu": "", "streamDanmu": "",
                              "parentId": "", "isFolder": False, "vendorInfo": {"vendor": "", "backend": ""}}
