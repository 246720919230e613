"""Provider bindings in the store: a new user and its binding are written together or not at all."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from synctv.core.permissions import Role
from synctv.store.models import User, UserProvider
from synctv.store.oauth2 import BindingConflict, LastWayIn
from tests.support.servers import Server


async def _counts(server: Server) -> tuple[int, int]:
    async with server.store.engine.connect() as conn:
        return (int(await conn.scalar(select(func.count()).select_from(User)) or 0),
                int(await conn.scalar(select(func.count()).select_from(UserProvider)) or 0))


async def test_a_conflicting_binding_leaves_no_user_behind(server: Server) -> None:
    providers = server.store.providers
    first = await providers.create_user_with_binding("ann", b"x", Role.USER, "idp", "sub-1")
    before = await _counts(server)
    with pytest.raises(BindingConflict):
        await providers.create_user_with_binding("ann-again", b"x", Role.USER, "idp", "sub-1")
    assert await _counts(server) == before
    assert await server.store.users.get_by_username("ann-again") is None
    binding = await providers.find("idp", "sub-1")
    assert binding is not None and binding.user_id == first.id


async def test_concurrent_signups_of_one_account_make_one_user(server: Server) -> None:
    providers = server.store.providers
    results = await asyncio.gather(*(providers.create_user_with_binding("bea", b"x", Role.USER, "idp", "sub-2")
                                     for _ in range(4)), return_exceptions=True)
    made = [r for r in results if isinstance(r, User)]
    assert len(made) == 1 and all(isinstance(r, BindingConflict) for r in results if r not in made)
    assert len(await providers.for_user(made[0].id)) == 1


async def test_deleting_a_user_deletes_its_bindings_and_unbind_rules(server: Server) -> None:
    providers = server.store.providers
    user = await providers.create_user_with_binding("cid", b"x", Role.USER, "idp", "sub-3")
    await providers.bind(user.id, "github", "42")
    with pytest.raises(BindingConflict):
        await providers.bind(user.id, "github", "43")  # one binding per provider and user
    assert await providers.unbind(user.id, "github")
    with pytest.raises(LastWayIn):
        await providers.unbind(user.id, "idp")
    assert await server.store.users.delete(user.id)
    assert await providers.find("idp", "sub-3") is None
