"""Management commands run straight against the database: migrate, user, admin, root, setting, import-upstream.

They are meant for operators (e.g. to recover a lost root password). A running server sees user changes at once
in every request (each one reads its user from the database), and within a second it closes the WebSockets of a
user banned or given a new password here, and follows site settings changed here (it polls two version rows).
Users are named by username or by id. Passwords are asked for at a prompt or read from standard input
(`--password-stdin`), so they stay out of the shell history and `ps`.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

import yaml

from synctv import dependency_errors
from synctv.auth.passwords import hash_password
from synctv.config import Config
from synctv.core import validation
from synctv.core.permissions import GUEST_USER_ID, Role
from synctv.core.site_settings import SETTINGS, SettingError, SettingValue
from synctv.store import Store
from synctv.store.models import User
from synctv.store.users import Conflict


class CliError(Exception):
    """A command failed in an expected way; the message is printed as one line."""


def _role_name(role: int) -> str:
    try:
        return Role(role).name.lower()
    except ValueError:
        return str(role)


def _describe(user: User) -> str:
    created = user.created_at.strftime("%Y-%m-%d %H:%M:%S") if user.created_at else ""
    return f"id: {user.id}\tusername: {user.username}\trole: {_role_name(user.role)}\tcreated: {created}"


async def _user(store: Store, value: str) -> User:
    """A user by id (32 hex characters) or, failing that, by exact username; never the built-in guest."""
    text = value.strip()
    user = await store.users.get(text.lower()) if validation.is_id(text.lower()) else None
    if user is None:
        user = await store.users.get_by_username(text)
    if user is None or user.id == GUEST_USER_ID:
        raise CliError(f"user {text!r} not found (give a username or a 32-character user id; "
                       f"`synctv user search TEXT` lists users whose name contains TEXT)")
    return user


def read_password(args: argparse.Namespace, dest: str, stdin: TextIO = sys.stdin) -> str:
    """The password from --password-stdin, the (discouraged) argument, or a prompt asked twice."""
    given: str | None = getattr(args, dest, None)
    if args.password_stdin:
        if given is not None:
            raise CliError("give the password either as an argument or with --password-stdin, not both")
        line = stdin.readline()
        if not line:
            raise CliError("--password-stdin: standard input is empty")
        return line.rstrip("\r\n")
    if given is not None:
        return given
    if not stdin.isatty():
        raise CliError("no password given: pipe it with --password-stdin, or run the command in a terminal "
                       "to be asked for it")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise CliError("the passwords do not match")
    return first


def _user_password(store: Store, value: str) -> str:
    return str(_validated(lambda v: validation.password(
        v, min_length=store.settings.int(validation.PASSWORD_MIN_LENGTH)), value))


def _validated(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except validation.ValidationError as exc:
        raise CliError(str(exc)) from None


# --- user ---


async def user_add(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    username = _validated(validation.username, args.username)
    password = _user_password(store, args.resolved_password)
    role = Role[args.role.upper()]
    try:
        user = await store.users.create(username, await hash_password(password), role)
    except Conflict:
        raise CliError(f"username {username!r} is already taken") from None
    print(f"created {_describe(user)}", file=out)


async def user_search(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    users = [u for u in await store.users.find(args.query) if u.id != GUEST_USER_ID]
    if not users:
        print("no user found", file=out)
    for user in users:
        print(_describe(user), file=out)


def _refuse_root(user: User) -> None:
    if user.role >= Role.ROOT:
        raise CliError(f"user {user.username} ({user.id}) is a root user; "
                       f"run `synctv root remove {user.username}` first")


async def user_ban(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    user = await _user(store, args.user)
    _refuse_root(user)
    if user.role == Role.BANNED:
        print(f"user {user.username} ({user.id}) is already banned", file=out)
        return
    await store.users.set_role(user.id, Role.BANNED)
    print(f"banned user {user.username} ({user.id})", file=out)


async def user_unban(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    user = await _user(store, args.user)
    if user.role != Role.BANNED:
        raise CliError(f"user {user.id} is not banned (role {_role_name(user.role)})")
    await store.users.set_role(user.id, Role.USER)
    print(f"unbanned user {user.username} ({user.id})", file=out)


async def user_delete(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    user = await _user(store, args.user)
    _refuse_root(user)
    await store.users.delete(user.id)
    print(f"deleted user {user.username} ({user.id}) and their rooms", file=out)


async def user_password(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    user = await _user(store, args.user)
    password = _user_password(store, args.resolved_password)
    await store.users.set_password(user.id, await hash_password(password))
    print(f"changed the password of {user.username} ({user.id}); their existing sessions have ended", file=out)


# --- admin / root ---


async def _show_role(store: Store, role: Role, out: TextIO) -> None:
    users = await store.users.by_role(role)
    if not users:
        print(f"no {role.name.lower()} users", file=out)
    for user in users:
        print(_describe(user), file=out)


async def admin_add(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    user = await _user(store, args.user)
    _refuse_root(user)
    if user.role == Role.ADMIN:
        print(f"user {user.username} ({user.id}) is already an admin", file=out)
        return
    await store.users.set_role(user.id, Role.ADMIN)
    print(f"user {user.username} ({user.id}) is now an admin", file=out)


async def admin_remove(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    user = await _user(store, args.user)
    if user.role != Role.ADMIN:
        raise CliError(f"user {user.id} is not an admin (role {_role_name(user.role)})")
    await store.users.set_role(user.id, Role.USER)
    print(f"user {user.username} ({user.id}) is no longer an admin", file=out)


async def admin_show(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    await _show_role(store, Role.ADMIN, out)


async def root_add(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    user = await _user(store, args.user)
    if user.role == Role.ROOT:
        print(f"user {user.username} ({user.id}) is already a root user", file=out)
        return
    await store.users.set_role(user.id, Role.ROOT)
    print(f"user {user.username} ({user.id}) is now a root user", file=out)


async def root_remove(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    user = await _user(store, args.user)
    if user.role != Role.ROOT:
        raise CliError(f"user {user.id} is not a root user (role {_role_name(user.role)})")
    if await store.users.count_role(Role.ROOT) <= 1:
        raise CliError("cannot remove the last root user; make another user root first")
    await store.users.set_role(user.id, Role.USER)
    print(f"user {user.username} ({user.id}) is no longer a root user", file=out)


async def root_show(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    await _show_role(store, Role.ROOT, out)


# --- settings ---


def grouped_settings(values: dict[str, SettingValue], group: str | None = None) -> dict[str, dict[str, Any]]:
    """`{group: {name: value}}`; `oauth2` selects every oauth2_* group."""
    out: dict[str, dict[str, Any]] = {}
    for name, d in SETTINGS.items():
        if group is None or d.group == group or (group == "oauth2" and d.group.startswith("oauth2_")):
            out.setdefault(d.group, {})[name] = values[name]
    return {g: out[g] for g in sorted(out)}


async def setting_show(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    grouped = grouped_settings(store.settings.all(), args.group)
    if not grouped:
        groups = sorted({d.group for d in SETTINGS.values()})
        raise CliError(f"setting group {args.group!r} not found (groups: {', '.join(groups)}, oauth2)")
    out.write(yaml.safe_dump(grouped, sort_keys=False, allow_unicode=True, default_flow_style=False))


async def setting_set(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    try:
        changed = await store.settings.set_many({args.name: args.value})
    except SettingError as exc:
        raise CliError(str(exc)) from None
    value = changed[args.name]
    shown = ("true" if value else "false") if isinstance(value, bool) else value
    print(f"{args.name} = {shown}", file=out)


async def import_upstream(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    from synctv.importer.source import UpstreamError, UpstreamSource
    from synctv.importer.upstream import run_import

    try:
        source = await UpstreamSource.open(args.source, ignore_unknown=args.ignore_unknown_columns)
    except UpstreamError as exc:
        raise CliError(str(exc)) from None
    try:
        report = await run_import(source, store, dry_run=args.dry_run)
    finally:
        await source.close()
    print(f"{'would import' if args.dry_run else 'imported'} from {source.name}:", file=out)
    for line in report.lines():
        print(f"  {line}", file=out)
    if not report.changed:
        print("nothing new to import", file=out)


async def migrate(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    print(f"database schema is up to date ({store.dialect})", file=out)


Action = Callable[[Store, argparse.Namespace, TextIO], Awaitable[None]]


PASSWORD_ARGUMENT = {"user_add": "password", "user_password": "new_password"}


async def _run(action: Action, args: argparse.Namespace, cfg: Config, out: TextIO, read_only: bool) -> None:
    store = await Store.open(cfg, read_only=read_only)
    try:
        await action(store, args, out)
    finally:
        await store.close()


def run(action: Action, args: argparse.Namespace, cfg: Config, out: TextIO = sys.stdout,
        err: TextIO = sys.stderr, *, read_only: bool = False) -> int:
    """Run one management command; expected failures are one line on stderr and exit status 1."""
    try:
        dest = PASSWORD_ARGUMENT.get(action.__name__)
        if dest is not None:  # asked before connecting, so a prompt comes at once
            args.resolved_password = read_password(args, dest)
        asyncio.run(_run(action, args, cfg, out, read_only))
        if dest is not None and getattr(args, dest, None) is not None:
            print("synctv: warning: a password given as an argument stays in the shell history and shows in "
                  "`ps`; prefer the prompt or --password-stdin", file=err)
    except CliError as exc:
        print(f"synctv: {' '.join(str(exc).split())}", file=err)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # database unreachable, bad DSN, ...
        print(f"synctv: {dependency_errors.describe(cfg, exc)}", file=err)
        return 1
    return 0
