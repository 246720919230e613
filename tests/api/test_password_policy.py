"""The password policy (`password_min_length`) on every API path that sets a user's password, and the username
rule (upstream's characters, no leading or trailing space)."""

from __future__ import annotations

from synctv.core.permissions import Role
from tests.support.asserts import assert_error
from tests.support.servers import Server

TOO_SHORT = "password is too short (at least 8 characters)"


async def test_minimum_length_everywhere(server: Server) -> None:
    api = server.api
    status, body = await api.call("POST", "/api/user/signup", json={"username": "amy", "password": "seven77"})
    assert_error(status, body, 400, TOO_SHORT)
    amy = await api.signup("amy", "eight888")
    status, body = await api.call("POST", "/api/user/password", token=amy, json={"password": "short"})
    assert_error(status, body, 400, TOO_SHORT)
    root = await server.make_user("boss", Role.ROOT)
    status, body = await api.call("POST", "/api/admin/user/add", token=root,
                                  json={"username": "ben", "password": "short", "role": 3})
    assert_error(status, body, 400, TOO_SHORT)
    amy_id = (await api.me(amy))["id"]
    status, body = await api.call("POST", "/api/admin/user/password", token=root,
                                  json={"id": amy_id, "password": "short"})
    assert_error(status, body, 400, TOO_SHORT)
    # room passwords are not user passwords
    await api.create_room(amy, "r", password="abc")

    # the setting moves the bound at once, and is itself bounded
    await api.ok("POST", "/api/admin/settings", expect=204, token=root, json={"password_min_length": 4})
    await api.signup("cal", "four")
    for bad in (0, 33, "x"):
        status, body = await api.call("POST", "/api/admin/settings", token=root, json={"password_min_length": bad})
        assert_error(status, body, 400)
    status, body = await api.call("POST", "/api/admin/settings", token=root, json={"user_max_room_count": -5})
    assert_error(status, body, 400, "user_max_room_count: must be at least 0")


async def test_username_rule(server: Server) -> None:
    api = server.api
    await api.signup("张三 li")  # printable ASCII (space included) and Han, as upstream
    for bad, message in ((" lead", "username starts or ends with a space"),
                         ("trail ", "username starts or ends with a space"),
                         ("Алиса", "username has invalid characters"),
                         ("tab\there", "username has invalid characters")):
        status, body = await api.call("POST", "/api/user/signup", json={"username": bad, "password": "password1"})
        assert_error(status, body, 400, message)
