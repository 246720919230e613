"""One room's ownership lifecycle on one instance: a pure state machine with a transition table.

Rules of this module (as `core.room`): every decision about whether this instance may act as a room's owner,
must redirect its commands, or must leave it alone lives here; the router feeds in typed inputs and carries
out the typed effects it gets back. Time is an argument (monotonic seconds); nothing here reads a clock.

    absent --LoadStarted--> loading --LoadDone--> owned --ReleaseStarted--> moving_out --ReleaseDone--> handed_off
    absent --AdoptStarted--> moving_in --LoadDone--> owned
    loading|moving_in --LoadFailed--> absent
    any --FenceRejected--> fenced (held, so two instances do not take the room from each other in turn)
    owned --Stopped--> absent (idle unload, lease lost, room closed)
    handed_off|fenced --Expired--> absent (after their hold time)

A single node is the same machine with a ring of one: it never leaves absent/loading/owned.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

# How long a handed-off room's commands are redirected to its new owner, and a fenced room is left alone.
HANDED_OFF_TTL_S = 15.0
FENCE_HOLD_S = 10.0


class Phase(Enum):
    ABSENT = "absent"
    LOADING = "loading"
    MOVING_IN = "moving_in"
    OWNED = "owned"
    MOVING_OUT = "moving_out"
    HANDED_OFF = "handed_off"
    FENCED = "fenced"


class Effect(Enum):
    LOAD = "load"  # start an actor (from the database, a pulled snapshot or a pushed one)
    STOP_ACTOR = "stop_actor"  # stop the room's actor, answering what it already queued
    SNAPSHOT = "snapshot"  # snapshot the stopped actor for the new owner
    ANNOUNCE = "announce"  # re-announce this instance's viewers to whoever owns the room now


# --- inputs ---


@dataclass(frozen=True, slots=True)
class LoadStarted:
    """A command needs the room and the ring names this instance."""


@dataclass(frozen=True, slots=True)
class AdoptStarted:
    """The previous owner pushed the room's snapshot here."""


@dataclass(frozen=True, slots=True)
class LoadDone:
    pass


@dataclass(frozen=True, slots=True)
class LoadFailed:
    pass


@dataclass(frozen=True, slots=True)
class ReleaseStarted:
    """The ring moved the room to `target` (or `target` pulled it): stop accepting, then snapshot."""

    target: str


@dataclass(frozen=True, slots=True)
class ReleaseDone:
    target: str


@dataclass(frozen=True, slots=True)
class FenceRejected:
    """A write was refused by the ownership epoch: another instance took the room over."""


@dataclass(frozen=True, slots=True)
class Stopped:
    pass


@dataclass(frozen=True, slots=True)
class Expired:
    pass


Input = (LoadStarted | AdoptStarted | LoadDone | LoadFailed | ReleaseStarted | ReleaseDone | FenceRejected | Stopped
         | Expired)


@dataclass(frozen=True, slots=True)
class RoomOwnership:
    phase: Phase = Phase.ABSENT
    target: str = ""  # moving_out / handed_off: the new owner
    until: float = 0.0  # handed_off / fenced: monotonic time the hold ends


class InvalidTransition(ValueError):
    pass


P = Phase
E = Effect
# (phase, input type) -> (next phase, effects). Pairs not listed are invalid.
TRANSITIONS: dict[tuple[Phase, type], tuple[Phase, tuple[Effect, ...]]] = {
    (P.ABSENT, LoadStarted): (P.LOADING, (E.LOAD,)),
    (P.ABSENT, AdoptStarted): (P.MOVING_IN, (E.LOAD,)),
    (P.LOADING, LoadDone): (P.OWNED, (E.ANNOUNCE,)),
    (P.MOVING_IN, LoadDone): (P.OWNED, (E.ANNOUNCE,)),
    (P.LOADING, LoadFailed): (P.ABSENT, ()),
    (P.MOVING_IN, LoadFailed): (P.ABSENT, ()),
    (P.OWNED, ReleaseStarted): (P.MOVING_OUT, (E.STOP_ACTOR, E.SNAPSHOT)),
    (P.MOVING_OUT, ReleaseDone): (P.HANDED_OFF, ()),
    (P.OWNED, Stopped): (P.ABSENT, (E.STOP_ACTOR,)),
    (P.HANDED_OFF, Expired): (P.ABSENT, ()),
    (P.FENCED, Expired): (P.ABSENT, ()),
    # A redirected room can come back (the ring changed again) before its redirect expired.
    (P.HANDED_OFF, LoadStarted): (P.LOADING, (E.LOAD,)),
    (P.HANDED_OFF, AdoptStarted): (P.MOVING_IN, (E.LOAD,)),
}
for _phase in Phase:
    TRANSITIONS[(_phase, FenceRejected)] = (P.FENCED, (E.STOP_ACTOR,) if _phase in (P.OWNED, P.LOADING,
                                                                                      P.MOVING_IN) else ())


def step(state: RoomOwnership, event: Input, now: float) -> tuple[RoomOwnership, tuple[Effect, ...]]:
    entry = TRANSITIONS.get((state.phase, type(event)))
    if entry is None:
        raise InvalidTransition(f"{type(event).__name__} in phase {state.phase.value}")
    phase, effects = entry
    target, until = "", 0.0
    if isinstance(event, ReleaseStarted | ReleaseDone):
        target = event.target
    if phase is P.HANDED_OFF:
        until = now + HANDED_OFF_TTL_S
    elif phase is P.FENCED:
        until = now + FENCE_HOLD_S
    return RoomOwnership(phase, target, until), effects


def expire(state: RoomOwnership, now: float) -> RoomOwnership:
    """The state after its hold time, if it has one and it ended."""
    if state.phase in (P.HANDED_OFF, P.FENCED) and now >= state.until:
        return step(state, Expired(), now)[0]
    return state


class Route(Enum):
    """Where a command for the room goes from this instance."""

    LOCAL = "local"  # this instance's actor (running, or being started)
    REDIRECT = "redirect"  # to `target`, the instance the room was handed to
    HOLD = "hold"  # nowhere yet: another instance took it over (fenced); answer "try again"
    RING = "ring"  # not ours in any way: the ring decides


def route(state: RoomOwnership, now: float) -> tuple[Route, str]:
    state = expire(state, now)
    match state.phase:
        case P.LOADING | P.MOVING_IN | P.OWNED:
            return Route.LOCAL, ""
        case P.MOVING_OUT | P.HANDED_OFF:
            return Route.REDIRECT, state.target
        case P.FENCED:
            return Route.HOLD, ""
    return Route.RING, ""
