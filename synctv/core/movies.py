"""MovieBase: the playlist entry as the API sees it, normalised and validated (upstream §1.5)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from synctv.core.validation import (
    MAX_TYPE_BYTES,
    MAX_URL_BYTES,
    ValidationError,
    is_id,
    truncate_movie_name,
)

MAX_MAP_ENTRIES = 64
MAX_SOURCES = 32
_EXT_TYPES = {"m3u8": "m3u8", "m3u": "m3u8", "mp4": "mp4", "flv": "flv", "mpd": "mpd", "webm": "webm",
              "mkv": "mkv", "mp3": "mp3", "ogg": "ogg", "srt": "srt", "vtt": "vtt", "ass": "ass"}


def _str(data: dict[str, Any], key: str, limit: int = MAX_URL_BYTES) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{key} must be a string")
    if len(value.encode()) > limit:
        raise ValidationError(f"{key} is too long")
    return value


def _bool(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValidationError(f"{key} must be a boolean")
    return value


def _check_url(url: str, schemes: tuple[str, ...], what: str = "url") -> None:
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ValidationError(f"invalid {what}") from None
    if parts.scheme.lower() not in schemes:
        raise ValidationError(f"{what} scheme must be one of {', '.join(schemes)}")
    if parts.scheme.lower() != "magnet" and not parts.netloc:
        raise ValidationError(f"invalid {what}")


def _headers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_MAP_ENTRIES:
        raise ValidationError("headers must be an object of strings")
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(v, str) or not k or len(k) > 256 or len(v) > 4096:
            raise ValidationError("headers must be an object of strings")
        out[k] = v
    return out


def _subtitles(value: Any) -> dict[str, dict[str, str]]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_MAP_ENTRIES:
        raise ValidationError("subtitles must be an object")
    out: dict[str, dict[str, str]] = {}
    for name, sub in value.items():
        if not isinstance(sub, dict) or not name or len(name) > 256:
            raise ValidationError("invalid subtitle entry")
        url = _str(sub, "url")
        if url:
            _check_url(url, ("http", "https"), "subtitle url")
        out[name] = {"url": url, "type": _str(sub, "type", MAX_TYPE_BYTES)}
    return out


def _sources(value: Any) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_SOURCES:
        raise ValidationError("moreSources must be a list")
    out: list[dict[str, str]] = []
    for src in value:
        if not isinstance(src, dict):
            raise ValidationError("invalid moreSources entry")
        url = _str(src, "url")
        if url:
            _check_url(url, ("http", "https", "magnet"), "source url")
        out.append({"name": _str(src, "name", 256), "type": _str(src, "type", MAX_TYPE_BYTES), "url": url})
    return out


@dataclass(frozen=True, slots=True)
class ProxyRules:
    """The site settings that decide whether `proxy: true` is accepted."""

    movie_proxy: bool = False
    live_proxy: bool = False
    rtmp: bool = False  # the RTMP server is enabled (rtmpSource movies)


def _check_proxy(base: dict[str, Any], rules: ProxyRules) -> None:
    """Upstream §1.5: live sources are HLS (proxied playlists), RTMP or HTTP(S) FLV (pulled into a channel)."""
    url = base["url"]
    if base["live"]:
        if not rules.live_proxy:
            raise ValidationError("live proxy is disabled on this server")
        _check_url(url, ("rtmp", "http", "https"))
        kind = infer_type(url, base["type"]).lower()
        if urlsplit(url).scheme.lower() != "rtmp" and not kind.startswith("m3u") and kind != "flv":
            raise ValidationError("a live source must be HLS (m3u8), HTTP-FLV or rtmp://")
        return
    if not rules.movie_proxy:
        raise ValidationError("movie proxy is disabled on this server")
    _check_url(url, ("http", "https"))


def normalize(data: Any, *, require_name: bool = True, proxy: ProxyRules | None = None) -> dict[str, Any]:
    """Validate a MovieBase request body and return its canonical JSON form.

    `proxy` carries the site's proxy settings; without it `proxy: true` is refused. The address check of a
    proxied URL needs DNS and is done by the caller.
    """
    if not isinstance(data, dict):
        raise ValidationError("movie must be an object")
    name = _str(data, "name", 4096)
    if require_name and not name:
        raise ValidationError("movie name is empty")
    base: dict[str, Any] = {
        "url": _str(data, "url"),
        "name": truncate_movie_name(name),
        "type": _str(data, "type", MAX_TYPE_BYTES),
        "live": _bool(data, "live"),
        "proxy": _bool(data, "proxy"),
        "rtmpSource": _bool(data, "rtmpSource"),
        "headers": _headers(data.get("headers")),
        "subtitles": _subtitles(data.get("subtitles")),
        "moreSources": _sources(data.get("moreSources")),
        "danmu": _str(data, "danmu"),
        "streamDanmu": _str(data, "streamDanmu"),
        "parentId": _str(data, "parentId", 64),
        "isFolder": _bool(data, "isFolder"),
        "vendorInfo": {"vendor": "", "backend": ""},
    }
    if base["parentId"] and not is_id(base["parentId"]):
        raise ValidationError("invalid parent id")
    vendor = data.get("vendorInfo") or {}
    if not isinstance(vendor, dict):
        raise ValidationError("vendorInfo must be an object")
    if vendor.get("vendor"):
        base["vendorInfo"] = vendor_info(vendor)
        return _check_vendor_movie(base, proxy or ProxyRules())
    if base["isFolder"]:
        return base
    if base["rtmpSource"]:
        if not base["live"]:
            raise ValidationError("an rtmp source must be live")
        if base["proxy"]:
            raise ValidationError("an rtmp source cannot be proxied")
        if not (proxy or ProxyRules()).rtmp:
            raise ValidationError("rtmp is disabled on this server")
        return base
    if not base["url"]:
        raise ValidationError("movie url is empty")
    if base["proxy"]:
        _check_proxy(base, proxy or ProxyRules())
        return base
    _check_url(base["url"], ("http", "https", "magnet"))
    return base


VENDORS = ("alist", "emby")
_SERVER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_VENDOR_PATH = 4096


def _vendor_path(data: dict[str, Any], vendor: str) -> str:
    path = _str(data, "path", MAX_VENDOR_PATH)
    sid, sep, _ = path.partition("/")
    if not sep or not _SERVER_ID.fullmatch(sid):
        raise ValidationError(f"vendorInfo.{vendor}.path must be <serverId>/<path>")
    return path


# Bilibili's vendor schema is carried (proto/bilibili.proto) but nothing resolves it: every Bilibili request says so.
BILIBILI_UNSUPPORTED = "bilibili is not supported yet on this server"


def vendor_info(vendor: dict[str, Any]) -> dict[str, Any]:
    """`vendorInfo` of an Alist or Emby movie (upstream §1.5); Bilibili is not supported yet."""
    name = vendor.get("vendor")
    if name == "bilibili":
        raise ValidationError(BILIBILI_UNSUPPORTED)
    if not isinstance(name, str) or name not in VENDORS:
        raise ValidationError(f"vendor {name!s:.32} is not available on this server")
    backend = _str(vendor, "backend", 64)
    detail = vendor.get(name)
    if not isinstance(detail, dict):
        raise ValidationError(f"vendorInfo.{name} must be an object")
    if name == "alist":
        return {"vendor": name, "backend": backend,
                "alist": {"path": _vendor_path(detail, name), "password": _str(detail, "password", 1024)}}
    path = _vendor_path(detail, name)
    if not path.partition("/")[2]:
        raise ValidationError("vendorInfo.emby.path must name an item: <serverId>/<itemId>")
    return {"vendor": name, "backend": backend, "emby": {"path": path, "transcode": _bool(detail, "transcode")}}


def _check_vendor_movie(base: dict[str, Any], rules: ProxyRules) -> dict[str, Any]:
    """A vendor file, or a dynamic folder (`isFolder`: a live view of an Alist directory or an Emby folder)."""
    if base["live"] or base["rtmpSource"]:
        raise ValidationError("a vendor movie cannot be live or an rtmp source")
    if base["proxy"] and not rules.movie_proxy:
        raise ValidationError("movie proxy is disabled on this server")
    # The URL, headers and subtitles come from the vendor each time the movie is played.
    return dict(base, url="", headers={}, subtitles={}, moreSources=[])


def is_dynamic_folder(base: dict[str, Any]) -> bool:
    return bool(base.get("isFolder") and (base.get("vendorInfo") or {}).get("vendor"))


def without_secrets(base: dict[str, Any]) -> dict[str, Any]:
    """What the API shows of a movie: a vendor movie's folder password (sealed at rest) never leaves."""
    info = base.get("vendorInfo") or {}
    alist = info.get("alist")
    if not isinstance(alist, dict) or not alist.get("password"):
        return base
    return dict(base, vendorInfo=dict(info, alist=dict(alist, password="")))


def infer_type(url: str, declared: str) -> str:
    """Fill an empty type from the URL's extension, as upstream does when serving."""
    if declared:
        return declared
    path = urlsplit(url).path if url else ""
    ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return _EXT_TYPES.get(ext, ext)


def for_playback(base: dict[str, Any]) -> dict[str, Any]:
    """The base as served by `/api/room/movie/current`: types filled in from URL extensions."""
    out = dict(base)
    out["type"] = infer_type(out.get("url", ""), out.get("type", ""))
    out["moreSources"] = [dict(s, type=infer_type(s.get("url", ""), s.get("type", "")))
                          for s in out.get("moreSources") or []]
    out["subtitles"] = {k: dict(v, type=infer_type(v.get("url", ""), v.get("type", "")))
                        for k, v in (out.get("subtitles") or {}).items()}
    return out


def hide_private(base: dict[str, Any]) -> dict[str, Any]:
    """List privacy: proxied movies hide their URL and headers from everyone but their creator."""
    if not base.get("proxy"):
        return base
    return dict(base, url="", headers={})
