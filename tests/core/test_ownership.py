"""The ownership state machine, exhaustively: every (phase, input) pair, and random sequences."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from synctv.core import ownership as own

INPUTS: list[own.Input] = [own.LoadStarted(), own.AdoptStarted(), own.LoadDone(), own.LoadFailed(),
                           own.ReleaseStarted("n2"), own.ReleaseDone("n2"), own.FenceRejected(), own.Stopped(),
                           own.Expired()]
LOCAL = {own.Phase.LOADING, own.Phase.MOVING_IN, own.Phase.OWNED}


def test_every_pair_is_a_listed_transition_or_refused() -> None:
    for phase in own.Phase:
        for event in INPUTS:
            state = own.RoomOwnership(phase, target="n2", until=5.0)
            entry = own.TRANSITIONS.get((phase, type(event)))
            try:
                new, effects = own.step(state, event, now=1.0)
            except own.InvalidTransition:
                assert entry is None, (phase, event)
                continue
            assert entry is not None and (new.phase, effects) == entry, (phase, event)


def test_routes() -> None:
    now = 100.0
    for phase in LOCAL:
        assert own.route(own.RoomOwnership(phase), now) == (own.Route.LOCAL, "")
    assert own.route(own.RoomOwnership(own.Phase.MOVING_OUT, "n2"), now) == (own.Route.REDIRECT, "n2")
    assert own.route(own.RoomOwnership(own.Phase.HANDED_OFF, "n2", until=now + 1), now) == (own.Route.REDIRECT, "n2")
    assert own.route(own.RoomOwnership(own.Phase.HANDED_OFF, "n2", until=now), now) == (own.Route.RING, "")
    assert own.route(own.RoomOwnership(own.Phase.FENCED, until=now + 1), now) == (own.Route.HOLD, "")
    assert own.route(own.RoomOwnership(own.Phase.FENCED, until=now - 1), now) == (own.Route.RING, "")
    assert own.route(own.RoomOwnership(), now) == (own.Route.RING, "")


def test_a_fenced_room_is_held_then_released() -> None:
    state, effects = own.step(own.RoomOwnership(own.Phase.OWNED), own.FenceRejected(), now=10.0)
    assert state.phase is own.Phase.FENCED and own.Effect.STOP_ACTOR in effects
    assert state.until == 10.0 + own.FENCE_HOLD_S
    assert own.expire(state, 10.0 + own.FENCE_HOLD_S - 0.1) is state
    assert own.expire(state, 10.0 + own.FENCE_HOLD_S).phase is own.Phase.ABSENT


def test_release_redirects_before_the_actor_stops() -> None:
    state, effects = own.step(own.RoomOwnership(own.Phase.OWNED), own.ReleaseStarted("n3"), now=0.0)
    assert effects == (own.Effect.STOP_ACTOR, own.Effect.SNAPSHOT)
    assert own.route(state, 0.0) == (own.Route.REDIRECT, "n3")
    state, _ = own.step(state, own.ReleaseDone("n3"), now=1.0)
    assert state.phase is own.Phase.HANDED_OFF and state.until == 1.0 + own.HANDED_OFF_TTL_S


@given(st.lists(st.tuples(st.sampled_from(INPUTS), st.floats(0, 30)), max_size=40))
def test_random_sequences_keep_the_invariants(steps: list[tuple[own.Input, float]]) -> None:
    state, now = own.RoomOwnership(), 0.0
    for event, dt in steps:
        now += dt
        state = own.expire(state, now)
        try:
            new, effects = own.step(state, event, now)
        except own.InvalidTransition:
            continue
        # Only an instance that was taking the room stops an actor; LOAD only from a non-local phase.
        if own.Effect.STOP_ACTOR in effects:
            assert state.phase in LOCAL
        if own.Effect.LOAD in effects:
            assert state.phase not in LOCAL and new.phase in (own.Phase.LOADING, own.Phase.MOVING_IN)
        # Redirects always name a target; holds always end.
        route, target = own.route(new, now)
        assert (route is own.Route.REDIRECT) == bool(target)
        if new.phase in (own.Phase.HANDED_OFF, own.Phase.FENCED):
            assert own.route(new, new.until)[0] is own.Route.RING
        state = new
