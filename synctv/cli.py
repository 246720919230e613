"""Command line: `synctv serve` and the management commands."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from synctv import __version__
from synctv.config import Config, ConfigError, load, placeholder_secrets

DEFAULT_DATA_DIR = "~/.synctv"
ROLE_CHOICES = ("user", "admin", "root", "pending", "banned")


def one_line(text: str) -> str:
    """Multi-line messages (e.g. YAML parser errors) joined into one line, without caret markers."""
    parts = [line.strip() for line in text.splitlines()]
    return "; ".join(p for p in parts if p and p != "^")


def _data_dir_parent() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--data-dir", default=argparse.SUPPRESS, help="directory with config.yaml and data "
                                                                 "(default $SYNCTV_DATA_DIR or ~/.synctv)")
    return p


def _user_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("user", metavar="USER", help="a username, or a user id (32 hex characters)")


def _password_arguments(parser: argparse.ArgumentParser, dest: str, what: str) -> None:
    parser.add_argument(dest, metavar=dest.upper(), nargs="?", default=None,
                        help=f"{what} (discouraged: it stays in the shell history and shows in `ps`; without it "
                             "the password is asked for, or read with --password-stdin)")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of standard input")


def _add_management_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser],
                             common: argparse.ArgumentParser) -> None:
    def action(parser: argparse.ArgumentParser, name: str) -> None:
        # The implementation (synctv.cli_manage) is imported only when a command runs, so `--help` stays fast.
        parser.set_defaults(action=name)

    mig = sub.add_parser("migrate", parents=[common], help="create or upgrade the database schema, then exit",
                         description="Create or upgrade the database schema (the server also does this on start).")
    action(mig, "migrate")

    note = ("Users are named by username or id. These commands work directly on the database; a running server "
            "sees the changes on its next request, site settings within a second (open WebSocket connections "
            "are not closed).")
    user = sub.add_parser("user", parents=[common], help="manage users", description="Manage users. " + note)
    us = user.add_subparsers(dest="action_name", required=True, metavar="{add,search,ban,unban,delete,password}")
    p = us.add_parser("add", parents=[common], help="create a user",
                      description="Create a user with a username and a password.")
    p.add_argument("username", help="the new user's name (at most 32 bytes)")
    _password_arguments(p, "password", "the new user's password")
    p.add_argument("--role", choices=ROLE_CHOICES, default="user", help="site role (default user)")
    action(p, "user_add")
    p = us.add_parser("search", parents=[common], help="find users by id or by part of the username",
                      description="List users whose id equals, or whose username contains, the query.")
    p.add_argument("query", metavar="ID_OR_NAME", help="a user id, or part of a username")
    action(p, "user_search")
    p = us.add_parser("ban", parents=[common], help="ban a user (their tokens stop working)",
                      description="Ban a user: they can no longer log in and their rooms cannot be entered.")
    _user_argument(p)
    action(p, "user_ban")
    p = us.add_parser("unban", parents=[common], help="unban a user", description="Make a banned user a user.")
    _user_argument(p)
    action(p, "user_unban")
    p = us.add_parser("delete", parents=[common], help="delete a user and their rooms",
                      description="Delete a user together with their rooms, memberships and movies.")
    _user_argument(p)
    action(p, "user_delete")
    p = us.add_parser("password", parents=[common], help="set a user's password",
                      description="Set a user's password; their existing sessions end.")
    _user_argument(p)
    _password_arguments(p, "new_password", "the new password")
    action(p, "user_password")

    for role, add_fn, remove_fn, show_fn in (("admin", "admin_add", "admin_remove", "admin_show"),
                                             ("root", "root_add", "root_remove", "root_show")):
        cmd = sub.add_parser(role, parents=[common], help=f"grant, revoke or list the {role} role",
                             description=f"Grant, revoke or list the site {role} role. " + note)
        rs = cmd.add_subparsers(dest="action_name", required=True, metavar="{add,remove,show}")
        p = rs.add_parser("add", parents=[common], help=f"make a user {role}",
                          description=f"Give a user the {role} role.")
        _user_argument(p)
        action(p, add_fn)
        p = rs.add_parser("remove", parents=[common], help=f"make a {role} a normal user",
                          description=f"Take the {role} role away (the user becomes a normal user).")
        _user_argument(p)
        action(p, remove_fn)
        p = rs.add_parser("show", parents=[common], help=f"list {role} users", description=f"List {role} users.")
        action(p, show_fn)

    setting = sub.add_parser("setting", parents=[common], help="show or change site settings",
                             description="Show or change the site settings (those of /api/admin/settings).")
    ss = setting.add_subparsers(dest="action_name", required=True, metavar="{show,set}")
    p = ss.add_parser("show", parents=[common], help="print settings as YAML, grouped",
                      description="Print the settings as YAML grouped by group (`oauth2`: every oauth2_* group).")
    p.add_argument("group", nargs="?", metavar="GROUP", help="only this group (e.g. room, user, email, oauth2)")
    action(p, "setting_show")
    p = ss.add_parser("set", parents=[common], help="change one setting",
                      description="Change one setting; the value is converted to the setting's type.")
    p.add_argument("name", metavar="NAME", help="setting name, e.g. enable_guest")
    p.add_argument("value", metavar="VALUE", help="new value, e.g. true, 48 or text")
    action(p, "setting_set")

    p = sub.add_parser("import-upstream", parents=[common], help="import an upstream SyncTV (Go) database",
                       description="Import users (their passwords keep working), rooms with their passwords and "
                                   "settings, members, movies and folders, and site settings from an upstream "
                                   "SyncTV database. Rows already present are left alone, so running it again "
                                   "imports nothing; what cannot be imported is listed with the reason.")
    p.add_argument("source", metavar="SOURCE",
                   help="the upstream SQLite file (e.g. synctv.db), or postgres://USER:PASS@HOST:PORT/DB or "
                        "mysql://USER:PASS@HOST:PORT/DB")
    p.add_argument("--dry-run", action="store_true", help="report what would be imported, write nothing")
    p.add_argument("--ignore-unknown-columns", action="store_true",
                   help="import even if upstream tables have columns this importer does not know")
    action(p, "import_upstream")


# Commands that may create the data directory, config.yaml and the database; every other one needs them to exist.
INITIALISING = ("serve", "migrate")
# Commands that only read: they never write config.yaml, migrate or insert anything.
READ_ONLY_ACTIONS = ("user_search", "admin_show", "root_show", "setting_show")


def version_text() -> str:
    return f"synctv {__version__} (python {sys.version.split()[0]})"


def build_parser() -> argparse.ArgumentParser:
    common = _data_dir_parent()
    parser = argparse.ArgumentParser(prog="synctv", description="SyncTV watch-together server", parents=[common])
    parser.add_argument("--version", action="version", version=version_text())
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", parents=[common], help="start the server (creates the data dir on first start)")
    serve.add_argument("--listen", help="HTTP listen address (default 0.0.0.0)")
    serve.add_argument("--port", type=int, help="HTTP port (default 8080)")
    serve.add_argument("--web-path", help="serve this directory (a built web client) under /web/")
    sub.add_parser("version", parents=[common], help="print the version")
    p = sub.add_parser("backup", parents=[common], help="copy the SQLite database to one file, safely while "
                                                        "the server runs",
                       description="Write a consistent copy of the SQLite database (SQLite's online backup "
                                   "API: safe while the server writes, unlike copying synctv.db, whose recent "
                                   "writes live in synctv.db-wal). For PostgreSQL or MySQL use pg_dump or "
                                   "mysqldump.")
    p.add_argument("dest", metavar="FILE", help="the backup file to write (e.g. synctv-2026-01-31.db)")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p = sub.add_parser("restore", parents=[common], help="replace the SQLite database with a backup",
                       description="Replace the SQLite database with a backup made by `synctv backup`, after "
                                   "checking it. Stop every server using the database first. The schema is "
                                   "upgraded on the next start if the backup is older.")
    p.add_argument("source", metavar="FILE", help="a backup file made by `synctv backup`")
    p.add_argument("--force", action="store_true", help="replace the existing database")
    _add_management_commands(sub, common)
    try:
        cluster = importlib.import_module("synctv.cli_cluster")
    except ImportError:
        pass
    else:
        cluster.add_cluster_commands(sub, common)
    from synctv.cli_vendor import add_vendor_commands

    add_vendor_commands(sub)
    return parser


def _fail(message: str, code: int = 2) -> int:
    print(f"synctv: {message}", file=sys.stderr)
    return code


def _backup_or_restore(args: argparse.Namespace, cfg: Config) -> int:
    from synctv.maintenance.backup import BackupError, backup, restore

    try:
        if args.command == "backup":
            result = backup(cfg, Path(args.dest).expanduser(), force=args.force)
            print(f"backup written to {result.path} ({result.size} bytes, {result.users} users, integrity ok)")
        else:
            result = restore(cfg, Path(args.source).expanduser(), force=args.force)
            print(f"restored {args.source} into {result.path} ({result.users} users, integrity ok)")
    except BackupError as exc:
        return _fail(str(exc), 1)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "version":
        print(version_text())
        return 0
    if args.command == "vendor":
        from synctv.cli_vendor import run

        return run(args)
    data_dir = getattr(args, "data_dir", None) or os.environ.get("SYNCTV_DATA_DIR") or DEFAULT_DATA_DIR
    root = Path(data_dir).expanduser()
    initialising = args.command in INITIALISING
    if not root.exists():
        if not initialising:
            return _fail(f"data directory {root} does not exist (check --data-dir or $SYNCTV_DATA_DIR; "
                         f"`synctv serve` or `synctv migrate` creates a new one)")
        print(f"synctv: initialising a new data directory at {root}", file=sys.stderr)
    try:
        cfg = load(data_dir, write_back=initialising)
    except ConfigError as exc:
        return _fail(f"invalid configuration: {one_line(str(exc))}")
    except OSError as exc:
        return _fail(f"cannot use data directory {data_dir}: {exc.strerror or exc}")
    if not initialising and args.command not in ("cluster", "restore"):
        from synctv.store.database import sqlite_path

        db_file = sqlite_path(cfg)
        if db_file is not None and not db_file.exists():
            return _fail(f"no database at {db_file} (check --data-dir; `synctv migrate --data-dir {root}` "
                         f"creates an empty one)")
    if args.command == "serve":
        from synctv.app import serve
        from synctv.dependency_errors import mesh_port_problem

        if args.listen:
            cfg.server.http.listen = args.listen
        if args.port is not None:
            if not 0 <= args.port <= 65535:
                return _fail("--port must be 0..65535")
            cfg.server.http.port = args.port
        for key in placeholder_secrets(cfg):
            print(f"synctv: WARNING: {key} still holds the public placeholder of the example deploy files; anyone "
                  f"who read them can use it. Set a random value (see docker-compose.yml)", file=sys.stderr)
        problem = mesh_port_problem(cfg)
        if problem:
            return _fail(f"cannot start: {problem}", 1)
        serve(cfg, web_path=args.web_path)
        return 0
    if args.command in ("backup", "restore"):
        return _backup_or_restore(args, cfg)
    if args.command == "cluster":
        return int(args.cluster_handler(args, cfg))
    action = getattr(args, "action", None)
    if isinstance(action, str):
        from synctv import cli_manage

        return cli_manage.run(getattr(cli_manage, action), args, cfg, read_only=action in READ_ONLY_ACTIONS)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
