"""The `smsgw` command: argument parsing and dispatch only; the work lives in the modules it calls.

`main(argv) -> int` so tests call it directly. Exit codes: 0 success, 1 the operation failed, 2 bad usage or
configuration (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from gateway import __version__, logs
from gateway.config import Config, load
from gateway.errors import ConfigError, SmsgwError, StoreError, UserInputError

DEFAULT_CONFIG = Path("/etc/smsgw/config.toml")
log = logging.getLogger("gateway.cli")


def config_path(args: argparse.Namespace) -> Path:
    """The config file: --config, else $SMSGW_CONFIG, else /etc/smsgw/config.toml."""
    if args.config:
        return Path(args.config)
    return Path(os.environ.get("SMSGW_CONFIG") or DEFAULT_CONFIG)


def _config(args: argparse.Namespace) -> Config:
    config = load(config_path(args))
    logs.setup(config.logging.level, verbose=args.verbose, wire=args.wire or config.logging.wire)
    return config


@contextlib.contextmanager
def _opened(args: argparse.Namespace) -> Iterator[tuple[Config, Any]]:
    """The validated config and a database connection (closed afterwards); store imported lazily."""
    from gateway import store

    config = _config(args)
    db = store.connect(config.database.path)
    try:
        yield config, db
    finally:
        db.close()


# --- subcommands ---------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from gateway import daemon

    return daemon.run(_config(args))


def cmd_demo(args: argparse.Namespace) -> int:
    from gateway import demo

    logs.setup("INFO", verbose=args.verbose, wire=args.wire)
    return demo.run(port=args.port, modems=args.modems, sim_control=args.sim_control, data_dir=args.data_dir,
                    bind=args.bind)


def cmd_simulate(args: argparse.Namespace) -> int:
    logs.setup("INFO", verbose=args.verbose, wire=args.wire)
    try:
        from gateway.simulator.cli import run
    except ImportError:
        print("smsgw simulate: the simulator is not part of this build yet", file=sys.stderr)
        return 1
    return run(modems=args.modems, profile=args.profile, link_dir=Path(args.link_dir), control=args.control)


def cmd_send(args: argparse.Namespace) -> int:
    from gateway import outbox
    from gateway.states import MessageClass, Priority

    with _opened(args) as (config, db):
        message_id = outbox.submit(
            db, config, args.number, args.text, priority=Priority.parse(args.priority),
            message_class=MessageClass(args.message_class), created_by="cli", now=time.time(),
        )
    print(f"queued message {message_id}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from gateway import status

    with _opened(args) as (config, db):
        print(status.render_text(db, config, now=time.time()))
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from gateway import store

    target = Path(args.file)
    if target.exists() and not args.force:
        raise UserInputError(f"{target} exists; pass --force to overwrite it")
    with _opened(args) as (_config_, db):
        pages = store.backup(db, target)
    print(f"backup written to {args.file} ({pages} pages)")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from gateway import auth, store
    from gateway.states import Role
    from gateway.store import users

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {args.username}: ")
        if getpass.getpass("Repeat the password: ") != password:
            raise UserInputError("the two passwords differ; nothing was changed")
    problem = auth.password_problem(password, args.username)
    if problem:
        raise UserInputError(problem)
    with _opened(args) as (_config_, db):
        now = time.time()
        with store.immediate(db):
            try:
                users.add_user(db, args.username, auth.hash_password(password), Role(args.role), now)
            except ValueError as exc:
                raise UserInputError(str(exc)) from None
            users.audit(db, "cli", "user.add", now, target=args.username, role=args.role)
    print(f"user {args.username} ({args.role}) created")
    return 0


def _report(report: object) -> int:
    """Print an import report; exit 0 when it says ok, 1 otherwise."""
    print(report)
    return 0 if getattr(report, "ok", True) else 1


def cmd_import_catalogue(args: argparse.Namespace) -> int:
    from gateway import catalogue

    with _opened(args) as (_config_, db):
        return _report(catalogue.import_csv(db, Path(args.file), now=time.time()))


def cmd_import_contacts(args: argparse.Namespace) -> int:
    from gateway import contacts

    with _opened(args) as (config, db):
        return _report(contacts.import_csv(db, config, Path(args.file), dry_run=args.dry_run, now=time.time()))


def cmd_export_contacts(args: argparse.Namespace) -> int:
    from gateway import contacts

    with _opened(args) as (_config_, db):
        count = contacts.export_csv(db, Path(args.file))
    print(f"{count} contacts written to {args.file}")
    return 0


# --- parser --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The whole argument tree; every subcommand has its own --help."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: an option given before the subcommand is not reset by the subparser's default.
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                        help=f"config file (default: $SMSGW_CONFIG or {DEFAULT_CONFIG})")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log at DEBUG level")
    common.add_argument("--wire", action="store_true", default=argparse.SUPPRESS,
                        help="log raw AT traffic (logger gateway.wire)")

    parser = argparse.ArgumentParser(prog="smsgw", description="SMS gateway for USB GSM modems.",
                                     parents=[common])
    parser.add_argument("--version", action="version", version=f"smsgw {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("run", parents=[common], help="run the gateway daemon (modems, queue, web page)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", parents=[common],
                       help="run the gateway on simulated modems with sample data")
    p.add_argument("--port", type=int, default=8080, help="web port (default 8080)")
    p.add_argument("--bind", default="127.0.0.1", help="address for the web page (default 127.0.0.1)")
    p.add_argument("--modems", type=int, default=2, help="number of simulated modems (default 2)")
    p.add_argument("--sim-control", metavar="HOST:PORT", default="127.0.0.1:8765",
                   help="simulator control API address (default 127.0.0.1:8765)")
    p.add_argument("--data-dir", metavar="DIR", default="demo-data",
                   help="where the demo keeps its database (default ./demo-data)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("simulate", parents=[common], help="run simulated modems on ptys (test bed)")
    p.add_argument("--modems", type=int, default=1, help="number of modems (default 1)")
    p.add_argument("--profile", default="generic", help="modem profile name (default generic)")
    p.add_argument("--link-dir", default="sim-links", metavar="DIR",
                   help="directory for stable links modem0, modem1… (default ./sim-links)")
    p.add_argument("--control", metavar="HOST:PORT", default="127.0.0.1:8765",
                   help="JSON control API address (default 127.0.0.1:8765)")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("send", parents=[common], help="queue one SMS")
    p.add_argument("number", help="recipient, e.g. +79161234567 or 89161234567")
    p.add_argument("text", help="message text")
    p.add_argument("--priority", default="transactional", choices=["transactional", "bulk"])
    p.add_argument("--class", dest="message_class", default="service", choices=["service", "advertising"],
                   help="service (default) or advertising (needs the recipient's advertising consent)")
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("status", parents=[common], help="show modems and queue counts")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("backup", parents=[common], help="copy the live database to FILE (safe while running)")
    p.add_argument("file", help="backup file to write")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(func=cmd_backup)

    user = sub.add_parser("user", parents=[common], help="manage web users")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION")
    user_sub.required = True
    p = user_sub.add_parser("add", parents=[common], help="create a web user (the first one: --role admin)")
    p.add_argument("username")
    p.add_argument("--role", default="admin", choices=["admin", "operator", "agent"])
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=cmd_user_add)

    imp = sub.add_parser("import", parents=[common], help="import contacts or the product catalogue")
    imp_sub = imp.add_subparsers(dest="import_what", metavar="WHAT")
    imp_sub.required = True
    p = imp_sub.add_parser("contacts", parents=[common], help="import contacts from a CSV file")
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
    p.set_defaults(func=cmd_import_contacts)
    p = imp_sub.add_parser("catalogue", parents=[common], help="import the product catalogue from a CSV file")
    p.add_argument("file")
    p.set_defaults(func=cmd_import_catalogue)

    exp = sub.add_parser("export", parents=[common], help="export contacts")
    exp_sub = exp.add_subparsers(dest="export_what", metavar="WHAT")
    exp_sub.required = True
    p = exp_sub.add_parser("contacts", parents=[common], help="export contacts to a CSV file")
    p.add_argument("file")
    p.set_defaults(func=cmd_export_contacts)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `smsgw` console script."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # --help, --version or a usage error
        return int(exc.code or 0)
    for name, default in (("config", None), ("verbose", False), ("wire", False)):
        if not hasattr(args, name):
            setattr(args, name, default)
    try:
        return int(args.func(args) or 0)
    except (ConfigError, UserInputError) as exc:
        print(f"smsgw: {exc}", file=sys.stderr)
        return 2
    except (StoreError, SmsgwError) as exc:
        print(f"smsgw: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
