"""The room's clock at the end of a movie, reported durations, and STATUS from a connection that just joined."""

from __future__ import annotations

import pytest

from synctv.core import playback
from synctv.core import room as core
from synctv.core.commands import ReportDuration, SetCurrentMovie, UserRef
from synctv.core.errors import ErrorCode
from synctv.core.permissions import ALL_PERMISSIONS
from synctv.core.playback import Current, CurrentMovie, Status
from synctv.core.playlist import PlayMode, next_movie, parse_mode
from synctv.core.room import MsgType, WsMessage

T0 = 1_700_000_000_000
USER = UserRef("u1", "alice")


def playing_room(at: float = 20.0, duration: float = 0.0, since: int = T0) -> core.RoomState:
    movie = CurrentMovie(id="m1", duration=duration)
    return core.RoomState(current=Current(movie, Status(True, at, 1.0, since)))


def status_from(joined_ms: int, position: float, playing: bool = True, now: int = T0) -> core.ClientMessage:
    actor = core.Actor("u2", "bob", "c2", ALL_PERMISSIONS, joined_ms=joined_ms)
    return core.ClientMessage(actor, WsMessage(MsgType.STATUS, timestamp=now,
                                               status=Status(playing, position, 1.0)))


# --- a new connection cannot rewind the room ---


def test_a_just_joined_connection_that_rewinds_a_playing_room_gets_the_rooms_status_back() -> None:
    state = playing_room(21.5)
    result = core.apply(state, status_from(T0 - 200, 0.2), T0)
    assert result.state == state and not result.broadcast and not result.persist
    assert result.error is None  # nothing for the user to read: the player is just put back
    (back,) = result.direct
    assert back.type is MsgType.CHECK_STATUS and back.status is not None
    assert back.status.current_time == pytest.approx(21.5)


def test_the_same_rewind_from_a_connection_older_than_the_grace_is_a_real_seek() -> None:
    state = playing_room(21.5)
    result = core.apply(state, status_from(T0 - core.JOIN_GRACE_MS, 0.2), T0)
    assert result.persist and result.state.current.status.current_time == pytest.approx(0.2)
    assert result.broadcast[0].msg.type is MsgType.STATUS


def test_a_new_connection_may_seek_forward_pause_in_place_or_rewind_a_paused_room() -> None:
    forward = core.apply(playing_room(21.5), status_from(T0 - 100, 40.0), T0)
    assert forward.persist and forward.state.current.status.current_time == pytest.approx(40.0)
    pause = core.apply(playing_room(21.5), status_from(T0 - 100, 21.0, playing=False), T0)
    assert pause.persist and not pause.state.current.status.is_playing
    paused = core.RoomState(current=Current(CurrentMovie(id="m1"), Status(False, 21.5, 1.0, T0)))
    rewind = core.apply(paused, status_from(T0 - 100, 0.0), T0)
    assert rewind.persist and rewind.state.current.status.current_time == 0.0


def test_an_unknown_join_time_is_never_treated_as_new() -> None:
    result = core.apply(playing_room(21.5), status_from(0, 0.2), T0)
    assert result.persist


def test_a_late_joiner_cannot_restart_an_ended_movie() -> None:
    ended = core.RoomState(current=Current(CurrentMovie(id="m1", duration=30.0), Status(False, 30.0, 1.0, T0)))
    result = core.apply(ended, status_from(T0 - 100, 0.0), T0 + 200)
    assert not result.persist and result.direct[0].type is MsgType.CHECK_STATUS


# --- durations and the end of the movie ---


def test_the_clock_never_runs_past_a_known_end() -> None:
    current = playing_room(25.0, duration=30.0).current
    assert playback.extrapolate(current, T0 + 10_000).status.current_time == pytest.approx(30.0)
    assert playback.end_ms(current) == T0 + 5_000
    assert playback.stop_at_end(current, T0 + 4_999) is None
    stopped = playback.stop_at_end(current, T0 + 6_000)
    assert stopped is not None and playback.is_ended(stopped)
    assert stopped.status.last_update_ms == T0 + 5_000  # the moment it got there, not when it was noticed


def test_a_reported_duration_only_ends_the_movie_when_the_room_clock_reaches_it() -> None:
    state = playing_room(10.0)
    report = core.apply(state, ReportDuration(USER, "m1", 30.0), T0)
    assert report.persist and report.error is None and not report.broadcast
    assert report.state.current.movie.duration == 30.0 and report.state.current.status.is_playing
    assert core.wake_at(report.state) == T0 + 20_000
    early = core.apply(report.state, core.CheckEnd(), T0 + 19_000)
    assert early.state.current.status.is_playing and not early.broadcast
    end = core.apply(report.state, core.CheckEnd(), T0 + 20_050)
    assert not end.state.current.status.is_playing and end.persist
    (out,) = end.broadcast
    assert out.msg.type is MsgType.STATUS and out.msg.status is not None
    assert out.msg.status.current_time == 30.0 and not out.msg.status.is_playing


def test_a_duration_only_grows_and_a_short_report_cannot_cut_the_movie() -> None:
    state = core.apply(playing_room(10.0), ReportDuration(USER, "m1", 60.0), T0).state
    shorter = core.apply(state, ReportDuration(USER, "m1", 11.0), T0)
    assert shorter.state.current.movie.duration == 60.0 and not shorter.persist


def test_a_report_below_the_clock_stops_it_at_once_at_the_reported_end() -> None:
    result = core.apply(playing_room(50.0), ReportDuration(USER, "m1", 30.0), T0)
    assert not result.state.current.status.is_playing
    assert result.state.current.status.current_time == 30.0


@pytest.mark.parametrize(("movie_id", "duration", "code"), [
    ("other", 30.0, ErrorCode.INVALID), ("m1", 0.0, ErrorCode.INVALID), ("m1", -1.0, ErrorCode.INVALID),
    ("m1", float("nan"), ErrorCode.INVALID), ("m1", float("inf"), ErrorCode.INVALID),
])
def test_bad_duration_reports_are_refused_and_change_nothing(movie_id: str, duration: float,
                                                             code: ErrorCode) -> None:
    state = playing_room(10.0)
    result = core.apply(state, ReportDuration(USER, movie_id, duration), T0)
    assert result.error is not None and result.error.code is code and result.state == state


def test_a_live_stream_has_no_duration() -> None:
    live = core.RoomState(current=Current(CurrentMovie(id="m1", is_live=True), playback.live_status(T0)))
    result = core.apply(live, ReportDuration(USER, "m1", 30.0), T0)
    assert result.error is not None and result.state == live


def test_a_new_movie_starts_at_zero_with_its_own_duration() -> None:
    state = core.apply(playing_room(10.0), ReportDuration(USER, "m1", 30.0), T0).state
    after = core.apply(state, SetCurrentMovie(USER, CurrentMovie(id="m2")), T0 + 1)
    assert after.state.current.movie.duration == 0.0 and after.state.current.status.current_time == 0.0
    assert after.broadcast[0].msg.type is MsgType.CURRENT


def test_the_duration_survives_the_persisted_json() -> None:
    current = playing_room(10.0, duration=30.5).current
    again = playback.current_from_json(playback.current_to_json(current))
    assert again.movie.duration == 30.5
    assert playback.current_from_json({"movie": {"id": "x", "duration": "junk"}}).movie.duration == 0.0


# --- what plays next ---

LIST = ["a", "b", "c"]


@pytest.mark.parametrize(("mode", "current", "expected"), [
    (PlayMode.OFF, "a", None),
    (PlayMode.NEXT, "a", "b"), (PlayMode.NEXT, "c", None), (PlayMode.NEXT, "gone", None),
    (PlayMode.REPEAT_ONE, "b", "b"),
    (PlayMode.REPEAT_ALL, "b", "c"), (PlayMode.REPEAT_ALL, "c", "a"), (PlayMode.REPEAT_ALL, "gone", "a"),
])
def test_next_movie(mode: PlayMode, current: str, expected: str | None) -> None:
    assert next_movie(mode, LIST, current) == expected


def test_shuffle_picks_another_movie_and_a_single_one_repeats() -> None:
    picks = {next_movie(PlayMode.SHUFFLE, LIST, "b", pick) for pick in range(10)}
    assert picks == {"a", "c"}
    assert next_movie(PlayMode.SHUFFLE, ["a"], "a", 7) == "a"
    assert next_movie(PlayMode.NEXT, [], "a") is None


def test_unknown_modes_mean_off() -> None:
    assert parse_mode(9) is PlayMode.OFF and parse_mode("1") is PlayMode.OFF and parse_mode(True) is PlayMode.OFF
    assert parse_mode(4) is PlayMode.SHUFFLE


def test_the_media_metadata_replaces_a_longer_client_report_and_stops_the_clock_at_its_end() -> None:
    state = core.apply(playing_room(10.0), ReportDuration(USER, "m1", 3600.0), T0).state
    known = core.apply(state, ReportDuration(USER, "m1", 30.0, from_metadata=True), T0)
    assert known.state.current.movie.duration == 30.0 and known.persist
    assert core.wake_at(known.state) == T0 + 20_000
    same = core.apply(known.state, ReportDuration(USER, "m1", 30.0, from_metadata=True), T0 + 5)
    assert same.state == known.state and not same.persist
    # the metadata's end, once the clock is already past it, stops the clock there at once
    late = core.apply(playing_room(50.0), ReportDuration(USER, "m1", 30.0, from_metadata=True), T0)
    assert not late.state.current.status.is_playing and late.state.current.status.current_time == 30.0
    refused = core.apply(state, ReportDuration(USER, "other", 30.0, from_metadata=True), T0)
    assert refused.error is not None and refused.state == state
