"""The database: one SQLite file in WAL mode, the single source of truth and the queue.

Only this package imports `sqlite_utils` and writes SQL. Rules it keeps:
- every connection sets `journal_mode=WAL`, `synchronous=FULL` (not stored in the file, so per connection),
  `busy_timeout`, `foreign_keys=ON`; the driver runs in autocommit mode so a statement outside an explicit
  transaction is committed before the call returns — a state is durable before the action it records;
- each thread opens its own connection (`connect()`); sqlite-utils objects are thread-bound;
- writes that read-then-write (claims) run in `immediate(db)` — `BEGIN IMMEDIATE` takes the write lock up
  front, where a deferred `BEGIN` may fail to upgrade under contention;
- times are Unix seconds (REAL) from the caller's clock, so tests can inject time.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from gateway.errors import StoreError
from gateway.store import schema_campaigns, schema_commands, schema_web
from gateway.store.schema import MIGRATIONS

ALL_SETS = (MIGRATIONS, schema_commands.MIGRATIONS, schema_campaigns.MIGRATIONS, schema_web.MIGRATIONS)

Database = sqlite_utils.Database
BUSY_TIMEOUT_MS = 10_000


def connect(path: Path | str, *, migrate: bool = True, check: bool = False) -> Database:
    """Open (creating if needed) the database at path, configured for durability; ':memory:' for tests."""
    path_str = str(path)
    if path_str != ":memory:":
        Path(path_str).parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path_str, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.row_factory = sqlite3.Row
        db = Database(conn)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if path_str != ":memory:":
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{path_str}: cannot switch the database to WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        if check:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise StoreError(f"{path_str}: database integrity check failed: {verdict}")
        if migrate:
            for migrations in ALL_SETS:
                migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path_str}: cannot open the database: {exc}") from None
    return db


@contextlib.contextmanager
def immediate(db: Database) -> Iterator[Database]:
    """A write transaction that takes the lock at BEGIN (`BEGIN IMMEDIATE`); commits on success."""
    conn = db.conn
    if conn.in_transaction:
        raise StoreError("immediate() cannot nest inside another transaction")
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def backup(db: Database, target: Path | str) -> int:
    """Copy the live database to target with SQLite's online backup API; returns the page count.

    Safe while the daemon runs: the backup API copies a consistent snapshot. The copy is written beside the
    target and renamed into place, so an interrupted backup never leaves a half file under the target's name.
    """
    target = Path(target)
    tmp = target.with_name(target.name + ".partial")
    tmp.unlink(missing_ok=True)
    dest = sqlite3.connect(str(tmp))
    try:
        db.conn.backup(dest, pages=1024)
        pages = dest.execute("PRAGMA page_count").fetchone()[0]
        dest.execute("PRAGMA journal_mode = DELETE")
    finally:
        dest.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return int(pages)


def schema_version(db: Database) -> list[str]:
    """Names of the applied migrations, set by set, oldest first."""
    return [m.name for migrations in ALL_SETS for m in migrations.applied(db)]
