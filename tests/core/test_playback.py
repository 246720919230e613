"""Property tests of the playback clock (invariant 4): one formula, time as a parameter."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synctv.core import playback
from synctv.core.playback import Current, CurrentMovie, PlaybackError, Status

T0 = 1_700_000_000_000

rates = st.floats(min_value=playback.MIN_RATE, max_value=playback.MAX_RATE, allow_nan=False)
positions = st.floats(min_value=0, max_value=1e6, allow_nan=False)
deltas = st.integers(min_value=0, max_value=10**9)


def movie_state(playing: bool, pos: float, rate: float, live: bool = False) -> Current:
    return Current(movie=CurrentMovie(id="a" * 32, is_live=live),
                   status=Status(is_playing=playing, current_time=pos, playback_rate=rate, last_update_ms=T0))


@given(playing=st.booleans(), pos=positions, rate=rates, d1=deltas, d2=deltas)
def test_extrapolating_twice_equals_once(playing: bool, pos: float, rate: float, d1: int, d2: int) -> None:
    cur = movie_state(playing, pos, rate)
    twice = playback.extrapolate(playback.extrapolate(cur, T0 + d1), T0 + d1 + d2)
    once = playback.extrapolate(cur, T0 + d1 + d2)
    assert twice.status.last_update_ms == once.status.last_update_ms == T0 + d1 + d2
    assert math.isclose(twice.status.current_time, once.status.current_time, rel_tol=1e-9, abs_tol=1e-6)
    assert twice.status.is_playing == once.status.is_playing == playing
    assert twice.status.playback_rate == once.status.playback_rate == rate


@given(playing=st.booleans(), pos=positions, rate=rates, d=deltas)
def test_formula(playing: bool, pos: float, rate: float, d: int) -> None:
    out = playback.extrapolate(movie_state(playing, pos, rate), T0 + d).status
    expected = pos + d / 1000.0 * rate if playing else pos
    assert math.isclose(out.current_time, expected, rel_tol=1e-9, abs_tol=1e-6)


@given(pos=positions, rate=rates, d=deltas)
def test_paused_never_moves(pos: float, rate: float, d: int) -> None:
    out = playback.extrapolate(movie_state(False, pos, rate), T0 + d).status
    assert out.current_time == pos and not out.is_playing


@given(pos=positions, rate=rates, d=deltas, playing=st.booleans(), seek=positions, diff=st.floats(0, 1.5))
def test_live_is_pinned(pos: float, rate: float, d: int, playing: bool, seek: float, diff: float) -> None:
    cur = Current(movie=CurrentMovie(id="b" * 32, is_live=True), status=playback.live_status(T0))
    out = playback.extrapolate(cur, T0 + d).status
    assert (out.is_playing, out.current_time, out.playback_rate) == (True, 0.0, 1.0)
    after = playback.set_status(cur, playing=playing, seek=seek, rate=rate, diff_s=diff, now_ms=T0 + d).status
    assert (after.is_playing, after.current_time, after.playback_rate) == (True, 0.0, 1.0)
    moved = playback.set_movie(movie_state(True, pos, rate), CurrentMovie(id="c" * 32, is_live=True), now_ms=T0)
    assert (moved.status.is_playing, moved.status.current_time, moved.status.playback_rate) == (True, 0.0, 1.0)


@given(now_off=st.integers(-10**7, 10**7))
def test_time_diff_clamped(now_off: int) -> None:
    diff = playback.time_diff(T0 + now_off, T0)
    assert 0.0 <= diff <= playback.MAX_TIME_DIFF_S
    assert math.isclose(diff, min(max(now_off / 1000.0, 0.0), 1.5))
    assert playback.time_diff(T0, 0) == 0.0


@given(seek=positions, rate=rates, lag=st.integers(-5000, 60_000), playing=st.booleans())
def test_set_status_compensation(seek: float, rate: float, lag: int, playing: bool) -> None:
    diff = playback.time_diff(T0, T0 - lag)
    out = playback.set_status(movie_state(False, 5.0, 1.0), playing=playing, seek=seek, rate=rate, diff_s=diff,
                              now_ms=T0).status
    if playing:
        assert seek <= out.current_time <= seek + 1.5 * rate + 1e-9
        assert math.isclose(out.current_time, seek + min(max(lag / 1000, 0), 1.5) * rate, rel_tol=1e-9,
                            abs_tol=1e-9)
    else:
        assert out.current_time == seek
    assert out.is_playing == playing and out.playback_rate == rate and out.last_update_ms == T0


@pytest.mark.parametrize("rate", [0.0, -1.0, -0.5, float("nan"), float("inf"), float("-inf"), 1e9, 17.0, 0.01])
def test_invalid_rates_rejected(rate: float) -> None:
    cur = movie_state(True, 10.0, 1.0)
    with pytest.raises(PlaybackError):
        playback.set_status(cur, playing=True, seek=1.0, rate=rate, diff_s=0.0, now_ms=T0)


@pytest.mark.parametrize("seek", [-1.0, float("nan"), float("inf"), 1e12])
def test_invalid_positions_rejected(seek: float) -> None:
    with pytest.raises(PlaybackError):
        playback.set_status(movie_state(True, 10.0, 1.0), playing=False, seek=seek, rate=1.0, diff_s=0.0, now_ms=T0)


@given(pos=positions, rate=rates, d=deltas)
def test_set_movie_resets_clock_and_keeps_rate(pos: float, rate: float, d: int) -> None:
    out = playback.set_movie(movie_state(False, pos, rate), CurrentMovie(id="d" * 32), now_ms=T0 + d)
    assert (out.status.is_playing, out.status.current_time, out.status.playback_rate) == (True, 0.0, rate)
    assert out.status.last_update_ms == T0 + d
    cleared = playback.set_movie(out, CurrentMovie(), now_ms=T0 + d)
    assert cleared.movie.id == "" and not cleared.status.is_playing and cleared.status.current_time == 0.0


@given(playing=st.booleans(), pos=positions, rate=rates, d=st.integers(0, 10**9), live=st.booleans())
def test_json_round_trip(playing: bool, pos: float, rate: float, d: int, live: bool) -> None:
    cur = Current(movie=CurrentMovie(id="e" * 32, is_live=live, sub_path="x/y"),
                  status=Status(is_playing=playing, current_time=pos, playback_rate=rate, last_update_ms=T0 + d))
    back = playback.current_from_json(playback.current_to_json(cur))
    assert back == cur


def test_json_reader_is_tolerant() -> None:
    assert playback.current_from_json(None) == Current()
    assert playback.current_from_json({"status": {"lastUpdate": "garbage"}}).status.last_update_ms == 0
    assert playback.current_from_json({"status": {"playbackRate": 0}}).status.playback_rate == 1.0
    upstream = {"movie": {"id": "f" * 32}, "status": {"lastUpdate": "2024-01-01T00:00:00Z", "isPlaying": True,
                                                      "currentTime": 12.5, "playbackRate": 1}}
    cur = playback.current_from_json(upstream)
    assert cur.status.is_playing and cur.status.current_time == 12.5 and cur.status.last_update_ms > 0


@given(server_pos=positions, delta=st.floats(-30, 30), diff=st.floats(0, 1.5), rate=rates)
def test_needs_sync_tolerance(server_pos: float, delta: float, diff: float, rate: float) -> None:
    server = Status(is_playing=True, current_time=server_pos, playback_rate=rate)
    client_time = server_pos + delta
    out = playback.needs_sync(server, True, client_time, rate, diff)
    off = client_time + diff - server_pos
    if abs(off) < 9.999:
        assert not out
    elif abs(off) > 10.001:
        assert out
    assert playback.needs_sync(server, False, server_pos, rate, 0.0)
    assert playback.needs_sync(server, True, server_pos, rate * 2 if rate < 8 else rate / 2, 0.0)
