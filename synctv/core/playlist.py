"""What plays after the current movie ends: the room's play mode and the choice of the next movie."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum

# The pause between the end of one movie and the start of the next (room setting `play_next_delay`, seconds).
DEFAULT_NEXT_DELAY_S = 3
MAX_NEXT_DELAY_S = 600


class PlayMode(IntEnum):
    """Room setting `play_mode`; the numbers are stored and sent as they are."""

    OFF = 0  # stop at the end
    NEXT = 1  # the next movie of the list, stop after the last
    REPEAT_ONE = 2
    REPEAT_ALL = 3  # the next movie, the first again after the last
    SHUFFLE = 4  # any other movie of the list


def parse_mode(value: object) -> PlayMode:
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return PlayMode(value)
        except ValueError:
            pass
    return PlayMode.OFF


def next_movie(mode: PlayMode, playlist: Sequence[str], current_id: str, pick: int = 0) -> str | None:
    """The id to play after `current_id` among `playlist` (in order), or None to stop.

    `pick` is the caller's random number for shuffle (the rules stay deterministic and testable).
    """
    if mode is PlayMode.OFF or not current_id:
        return None
    if mode is PlayMode.REPEAT_ONE:
        return current_id
    if not playlist:
        return None
    if current_id not in playlist:
        return playlist[0] if mode is not PlayMode.NEXT else None
    index = playlist.index(current_id)
    if mode is PlayMode.SHUFFLE:
        others = [m for m in playlist if m != current_id]
        return others[pick % len(others)] if others else current_id
    if index + 1 < len(playlist):
        return playlist[index + 1]
    return playlist[0] if mode is PlayMode.REPEAT_ALL else None
