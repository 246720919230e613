"""The playback clock: one formula for the position of a room's video, used on every instance.

`t(now) = current_time + (now - last_update) * rate` while playing; live media is pinned at
`playing, rate 1, t 0`. Times are wall-clock milliseconds passed in by the caller; nothing here reads a clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

# Sender-latency compensation is clamped to this bound (upstream `calculateTimeDiff`).
MAX_TIME_DIFF_S = 1.5
# CHECK_STATUS tolerance before the server answers with its own status (upstream `maxInterval`).
CHECK_TOLERANCE_S = 10.0
MIN_RATE = 0.0625
MAX_RATE = 16.0
# Positions beyond this (about 31 years) are nonsense, not media.
MAX_POSITION_S = 1e9


class PlaybackError(ValueError):
    """A status the server refuses to store."""


@dataclass(frozen=True, slots=True)
class Status:
    is_playing: bool = False
    current_time: float = 0.0
    playback_rate: float = 1.0
    last_update_ms: int = 0  # 0 = never set (upstream's zero time)


@dataclass(frozen=True, slots=True)
class CurrentMovie:
    id: str = ""
    is_live: bool = False
    sub_path: str = ""
    # Seconds; 0 = unknown. The clock stops here (reported by a client, or known from the media's metadata).
    duration: float = 0.0


@dataclass(frozen=True, slots=True)
class Current:
    movie: CurrentMovie = CurrentMovie()
    status: Status = Status()


def time_diff(now_ms: int, timestamp_ms: int) -> float:
    """Seconds of sender latency to compensate: `clamp(now - ts, 0, 1.5)`, 0 without a timestamp."""
    if timestamp_ms == 0:
        return 0.0
    return min(max((now_ms - timestamp_ms) / 1000.0, 0.0), MAX_TIME_DIFF_S)


def validate_rate(rate: float) -> float:
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not math.isfinite(rate):
        raise PlaybackError("playback rate must be a finite number")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise PlaybackError(f"playback rate must be between {MIN_RATE} and {MAX_RATE}")
    return float(rate)


def validate_position(seconds: float) -> float:
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds):
        raise PlaybackError("current time must be a finite number")
    if not 0 <= seconds <= MAX_POSITION_S:
        raise PlaybackError("current time out of range")
    return float(seconds)


def live_status(now_ms: int) -> Status:
    return Status(is_playing=True, current_time=0.0, playback_rate=1.0, last_update_ms=now_ms)


def extrapolate(current: Current, now_ms: int) -> Current:
    """The state as of `now_ms` (upstream `UpdateStatus`), without mutating anything."""
    status = current.status
    if current.movie.is_live:
        return replace(current, status=replace(status, last_update_ms=now_ms))
    if status.is_playing and status.last_update_ms:
        elapsed = max(now_ms - status.last_update_ms, 0) / 1000.0
        position = status.current_time + elapsed * status.playback_rate
        duration = current.movie.duration
        if duration > 0 and status.current_time <= duration < position:
            position = duration  # the clock never runs past the end, even before the owner stops it
        return replace(current, status=replace(status, current_time=position, last_update_ms=now_ms))
    return replace(current, status=replace(status, last_update_ms=now_ms))


def end_ms(current: Current) -> int | None:
    """When a playing clock reaches the movie's end (wall-clock ms), or None (paused, live, length unknown)."""
    status, duration = current.status, current.movie.duration
    if current.movie.is_live or duration <= 0 or not status.is_playing or not status.last_update_ms:
        return None
    remaining = max(duration - status.current_time, 0.0) / status.playback_rate
    return status.last_update_ms + math.ceil(remaining * 1000)


def stop_at_end(current: Current, now_ms: int) -> Current | None:
    """The clock stopped at the end if it reached it by `now_ms`: paused at the duration, timestamped with
    the moment it got there (so `is_ended` and the auto-play pause count from the real end)."""
    end = end_ms(current)
    if end is None or end > now_ms:
        return None
    status = Status(is_playing=False, current_time=current.movie.duration,
                    playback_rate=current.status.playback_rate, last_update_ms=min(end, now_ms))
    return replace(current, status=status)


def is_ended(current: Current) -> bool:
    """Paused at the end of a movie of known length."""
    duration, status = current.movie.duration, current.status
    return not current.movie.is_live and duration > 0 and not status.is_playing and status.current_time >= duration


def with_duration(current: Current, duration: float) -> Current:
    return replace(current, movie=replace(current.movie, duration=duration))


def set_status(current: Current, *, playing: bool, seek: float, rate: float, diff_s: float, now_ms: int) -> Current:
    """Apply a client STATUS. Raises PlaybackError for an invalid rate or position; nothing changes then."""
    if current.movie.is_live:
        return replace(current, status=live_status(now_ms))
    rate = validate_rate(rate)
    seek = validate_position(seek)
    position = seek + diff_s * rate if playing else seek
    return replace(
        current,
        status=Status(is_playing=playing, current_time=position, playback_rate=rate, last_update_ms=now_ms),
    )


def set_movie(current: Current, movie: CurrentMovie, *, now_ms: int) -> Current:
    """Change the current movie: clock reset to 0 and playing; the rate is kept (live pins it to 1)."""
    if not movie.id:
        return Current(movie=CurrentMovie(), status=Status(playback_rate=current.status.playback_rate or 1.0,
                                                             last_update_ms=now_ms))
    if movie.is_live:
        return Current(movie=movie, status=live_status(now_ms))
    rate = current.status.playback_rate or 1.0
    return Current(movie=movie, status=Status(is_playing=True, current_time=0.0, playback_rate=rate,
                                              last_update_ms=now_ms))


def needs_sync(server: Status, client_playing: bool, client_time: float, client_rate: float, diff_s: float) -> bool:
    """True when a CHECK_STATUS client is out of tolerance (upstream `needsSync`)."""
    if client_playing != server.is_playing or client_rate != server.playback_rate:
        return True
    client_pos = client_time + diff_s
    return server.current_time + CHECK_TOLERANCE_S < client_pos or server.current_time - CHECK_TOLERANCE_S > client_pos


# --- JSON shape persisted in `rooms.current` and returned by the API (upstream keys, RFC3339 time) ---

ZERO_TIME = "0001-01-01T00:00:00Z"


def ms_to_rfc3339(ms: int) -> str:
    if ms <= 0:
        return ZERO_TIME
    dt = datetime.fromtimestamp(ms / 1000.0, tz=UTC)
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rfc3339_to_ms(text: str) -> int:
    if not text or text.startswith("0001-01-01"):
        return 0
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return round(dt.timestamp() * 1000)


def status_to_json(status: Status) -> dict[str, Any]:
    # Explicit fields (not omitempty): clients must not have to guess defaults.
    return {
        "lastUpdate": ms_to_rfc3339(status.last_update_ms),
        "currentTime": status.current_time,
        "playbackRate": status.playback_rate,
        "isPlaying": status.is_playing,
    }


def current_to_json(current: Current) -> dict[str, Any]:
    return {
        "movie": {"id": current.movie.id, "isLive": current.movie.is_live, "subPath": current.movie.sub_path,
                  "duration": current.movie.duration},
        "status": status_to_json(current.status),
    }


def current_from_json(data: Any) -> Current:
    """Tolerant reader: missing keys take their zero values, as upstream's omitempty JSON implies."""
    if not isinstance(data, dict):
        return Current()
    movie = data.get("movie") or {}
    status = data.get("status") or {}
    try:
        last = rfc3339_to_ms(str(status.get("lastUpdate", "")))
    except ValueError:
        last = 0
    rate = status.get("playbackRate")
    duration = movie.get("duration")
    return Current(
        movie=CurrentMovie(
            id=str(movie.get("id", "") or ""),
            is_live=bool(movie.get("isLive", False)),
            sub_path=str(movie.get("subPath", "") or ""),
            duration=float(duration) if isinstance(duration, (int, float)) and math.isfinite(duration)
            and duration > 0 else 0.0,
        ),
        status=Status(
            is_playing=bool(status.get("isPlaying", False)),
            current_time=float(status.get("currentTime", 0.0) or 0.0),
            playback_rate=float(rate) if isinstance(rate, (int, float)) and rate > 0 else 1.0,
            last_update_ms=last,
        ),
    )
