"""After a discovery outage longer than the lease every record is gone and instances write theirs again one by
one: members of the view from before the outage are kept for `rejoin_grace`, so nobody's ring shrinks for a
registration race; a member that does not come back within the grace leaves then."""

from __future__ import annotations

import asyncio

from synctv.discovery import Member
from synctv.discovery.base import MembershipState


async def test_members_from_before_an_outage_are_held_while_they_re_register() -> None:
    me, b, c = Member("a"), Member("b"), Member("c")
    state = MembershipState(me)
    state.rejoin_grace = 0.3
    views: list[list[str]] = []
    state.on_change(lambda ms: views.append([m.instance_id for m in ms]))
    state._publish([me, b, c])
    state._set_healthy(False)
    state._set_healthy(True)
    state._publish([me])  # the backend's first answer after the outage: only our own record so far
    state._publish([me, b])
    assert [m.instance_id for m in state.members()] == ["a", "b", "c"]
    assert views == [["a", "b", "c"]]
    await asyncio.sleep(0.45)
    # c never came back: it leaves once the grace is over.
    assert [m.instance_id for m in state.members()] == ["a", "b"]
    assert views == [["a", "b", "c"], ["a", "b"]]
    # Outside the grace a departure is seen at once.
    state._publish([me])
    assert views[-1] == ["a"]


async def test_no_hold_without_a_grace() -> None:
    state = MembershipState(Member("a"))
    state._publish([Member("a"), Member("b")])
    state._set_healthy(False)
    state._set_healthy(True)
    state._publish([Member("a")])
    assert [m.instance_id for m in state.members()] == ["a"]
