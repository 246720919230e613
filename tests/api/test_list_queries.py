"""List parameters as the upstream web client sends them (§2.1): empty vs missing filters, unknown modes, paging.

The query strings below are copied from what the upstream Vue client requests, empty keys included.
"""

from __future__ import annotations

from typing import Any

from synctv.core.permissions import MemberStatus, Role, RoomStatus
from tests.support.asserts import assert_error
from tests.support.servers import Server

# the room admin's member list and "my rooms" with the "all" status filter
ADMIN_MEMBERS_ALL = "/api/room/admin/members?page=1&max=10&sort=name&order=asc&role=&status=&search=all&keyword="
MY_ROOMS_ALL = "/api/user/rooms?page=1&max=10&sort=name&order=asc&search=all&keyword=&status="
# the site admin's user and room managers with their "ID" search option
ADMIN_USERS_BY_ID = "/api/admin/user/list?page=1&max=10&sort=name&order=asc&role=&search=roomId&keyword="
ADMIN_ROOMS_BY_ID = "/api/admin/room/list?page=1&max=10&sort=name&order=asc&status=&search=roomId&keyword="


def _names(page: dict[str, Any], key: str = "username") -> list[str]:
    return [item[key] for item in page["list"]]


async def _room_with_every_status(server: Server) -> tuple[str, str, dict[str, str]]:
    """alice's room with carol active, bob pending and dave banned; returns (alice's token, room, user ids)."""
    api = server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "movie night")
    ids = {"alice": (await api.me(alice))["id"]}
    for name, status in (("bob", MemberStatus.PENDING), ("carol", MemberStatus.ACTIVE),
                         ("dave", MemberStatus.BANNED)):
        ids[name] = (await api.me(await api.signup(name)))["id"]
        await server.store.members.get_or_create(rid, ids[name], status=status, permissions=0)
    return alice, rid, ids


async def test_room_admin_members_empty_status_lists_every_status(server: Server) -> None:
    api = server.api
    alice, rid, ids = await _room_with_every_status(server)
    everyone = await api.ok("GET", ADMIN_MEMBERS_ALL, token=alice, room=rid)
    assert everyone["total"] == 4 and _names(everyone) == ["alice", "bob", "carol", "dave"]
    statuses = {m["username"]: m["status"] for m in everyone["list"]}
    assert statuses == {"alice": MemberStatus.ACTIVE, "bob": MemberStatus.PENDING, "carol": MemberStatus.ACTIVE,
                        "dave": MemberStatus.BANNED}
    # a missing key still means active; the named filters still filter
    default = await api.ok("GET", "/api/room/admin/members?page=1&max=10&sort=name&order=asc", token=alice, room=rid)
    assert _names(default) == ["alice", "carol"]
    for status, want in (("pending", ["bob"]), ("banned", ["dave"]), ("active", ["alice", "carol"])):
        page = await api.ok("GET", ADMIN_MEMBERS_ALL.replace("status=", f"status={status}"), token=alice, room=rid)
        assert _names(page) == want, status
    # the pending member shown in the "all" list can be approved, the banned one unbanned
    await api.ok("POST", "/api/room/admin/members/approve", expect=204, token=alice, room=rid, json={"id": ids["bob"]})
    await api.ok("POST", "/api/room/admin/members/unban", expect=204, token=alice, room=rid, json={"id": ids["dave"]})
    after = await api.ok("GET", ADMIN_MEMBERS_ALL, token=alice, room=rid)
    assert {m["status"] for m in after["list"]} == {MemberStatus.ACTIVE}


async def test_site_admin_room_members_empty_status(server: Server) -> None:
    api = server.api
    _, rid, _ = await _room_with_every_status(server)
    root = await server.make_user("root1", Role.ROOT)
    base = f"/api/admin/room/members?roomId={rid}&page=1&max=10&sort=name&order=asc&role="
    assert _names(await api.ok("GET", base + "&status=&search=all&keyword=", token=root)) == [
        "alice", "bob", "carol", "dave"]
    assert _names(await api.ok("GET", base, token=root)) == ["alice", "carol"]
    assert _names(await api.ok("GET", base + "&status=banned", token=root)) == ["dave"]


async def test_my_rooms_empty_status_shows_a_pending_room(server: Server) -> None:
    api = server.api
    await server.store.settings.set_many({"create_room_need_review": True})
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "awaiting review")
    mine = await api.ok("GET", MY_ROOMS_ALL, token=alice)
    assert mine["total"] == 1 and mine["list"][0]["roomId"] == rid
    assert mine["list"][0]["status"] == RoomStatus.PENDING
    # without the key only active rooms, as upstream
    assert (await api.ok("GET", "/api/user/rooms?page=1&max=10&sort=name&order=asc", token=alice))["total"] == 0
    assert (await api.ok("GET", MY_ROOMS_ALL.replace("status=", "status=pending"), token=alice))["total"] == 1


async def test_admin_lists_accept_the_clients_id_search_mode(server: Server) -> None:
    api = server.api
    root = await server.make_user("root1", Role.ROOT)
    alice = await api.signup("alice")
    await api.signup("bob")
    rid = await api.create_room(alice, "alpha")
    await api.create_room(alice, "beta")
    await server.store.rooms.set_status(rid, RoomStatus.PENDING)

    users = await api.ok("GET", ADMIN_USERS_BY_ID, token=root)
    assert users["total"] == 4 and _names(users) == ["alice", "bob", "root", "root1"]  # `root`: the first start's
    rooms = await api.ok("GET", ADMIN_ROOMS_BY_ID, token=root)
    assert rooms["total"] == 2 and _names(rooms, "roomName") == ["alpha", "beta"]  # `status=`: pending too

    # with a keyword, an unknown mode searches every field: an ID (or part of one) finds its user or room
    alice_id = (await api.me(alice))["id"]
    by_id = await api.ok("GET", ADMIN_USERS_BY_ID + alice_id[:12], token=root)
    assert _names(by_id) == ["alice"]
    assert _names(await api.ok("GET", ADMIN_USERS_BY_ID + "bo", token=root)) == ["bob"]
    assert _names(await api.ok("GET", ADMIN_ROOMS_BY_ID + rid, token=root), "roomName") == ["alpha"]
    # the modes the routes know keep their meaning: `id` matches ids (substrings, as upstream), not names
    assert (await api.ok("GET", "/api/admin/user/list", token=root,
                         params={"search": "id", "keyword": "alice"}))["total"] == 0
    assert _names(await api.ok("GET", "/api/admin/user/list", token=root,
                               params={"search": "id", "keyword": alice_id[4:20]})) == ["alice"]


async def test_unknown_filters_and_orders_are_ignored_as_upstream(server: Server) -> None:
    api = server.api
    alice, rid, _ = await _room_with_every_status(server)
    root = await server.make_user("root1", Role.ROOT)
    # an unknown role or status names no filter (upstream's switch has no default case)
    members = await api.ok("GET", "/api/room/members", token=alice, room=rid, params={"role": "king"})
    assert members["total"] == 4
    admin_members = await api.ok("GET", "/api/room/admin/members", token=alice, room=rid,
                                 params={"status": "everyone", "sort": "name", "order": "asc"})
    assert _names(admin_members) == ["alice", "bob", "carol", "dave"]
    assert (await api.ok("GET", "/api/admin/user/list", token=root, params={"role": "wizard"}))["total"] == 6
    assert (await api.ok("GET", "/api/admin/room/list", token=root, params={"status": "x"}))["total"] == 1
    # order: only `desc` (or no key) is descending
    for order, want in (("desc", ["dave", "carol", "bob", "alice"]), ("asc", ["alice", "bob", "carol", "dave"]),
                        ("", ["alice", "bob", "carol", "dave"]), ("sideways", ["alice", "bob", "carol", "dave"])):
        page = await api.ok("GET", f"/api/room/members?sort=name&order={order}", token=alice, room=rid)
        assert _names(page) == want, order
    assert _names(await api.ok("GET", "/api/room/members?sort=name", token=alice, room=rid))[0] == "dave"
    # an unknown sort is still refused, on every list that sorts
    for path, extra in (("/api/room/members", {"room": rid, "token": alice}),
                        ("/api/room/admin/members", {"room": rid, "token": alice}),
                        ("/api/user/rooms", {"token": alice}), ("/api/user/rooms/joined", {"token": alice}),
                        ("/api/room/list", {}), ("/api/admin/user/list", {"token": root}),
                        ("/api/admin/room/list", {"token": root})):
        status, body = await api.call("GET", path, params={"sort": "viewers"}, **extra)
        assert_error(status, body, 400, "not support sort")


async def test_lists_without_sort_ignore_sort_and_search(server: Server) -> None:
    """The playlist and the hot list only page (upstream reads no sort there): stray list keys are not errors."""
    api = server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "r")
    await api.push_movie(alice, rid, name="one")
    movies = await api.ok("GET", "/api/room/movie/movies?page=1&max=10&sort=bogus&order=x&search=y&keyword=",
                          token=alice, room=rid)
    assert [m["base"]["name"] for m in movies["movies"]] == ["one"]
    assert (await api.ok("GET", "/api/room/hot?page=1&max=10&sort=bogus"))["total"] == 0


async def test_paging_bounds(server: Server) -> None:
    api = server.api
    alice = await api.signup("alice")
    for i in range(3):
        await api.create_room(alice, f"room{i}")
    paths = ("/api/room/list", "/api/user/rooms", "/api/room/hot")
    for path in paths:
        # beyond 64 bits: a 400, as upstream's strconv.Atoi (it used to reach the database and answer 500)
        for bad in ("99999999999999999999", "1e3", "0x10", "1_0", "٣", " 1"):
            status, body = await api.call("GET", path, token=alice, params={"page": bad})
            assert_error(status, body, 400, "page must be an integer")
            status, body = await api.call("GET", path, token=alice, params={"max": bad})
            assert_error(status, body, 400, "max must be an integer")
        # the largest 64-bit page is just an empty page
        far = await api.ok("GET", path, token=alice, params={"page": str((1 << 63) - 1), "max": "100"})
        assert far["list"] == [], path
    listed = await api.ok("GET", "/api/room/list", params={"page": "-5", "max": "+2", "sort": "name", "order": "asc"})
    assert listed["total"] == 3 and _names(listed, "roomName") == ["room0", "room1"]
    assert len((await api.ok("GET", "/api/room/list", params={"page": "", "max": ""}))["list"]) == 3
