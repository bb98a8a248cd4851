"""The store: durable pragmas on every connection, idempotent migrations, online backup."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from gateway import store
from gateway.errors import StoreError
from gateway.store import modems, users


def test_every_connection_is_wal_full_sync_with_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    for _ in range(2):
        db = store.connect(path)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        db.close()


def test_migrations_apply_once(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    first = store.connect(path)
    names = store.schema_version(first)
    assert names and names[0] == "m001_initial"
    first.close()
    again = store.connect(path)
    assert store.schema_version(again) == names
    for table in ("modems", "outbox", "outbox_parts", "inbox", "inbox_parts", "contacts", "consent_events",
                  "users", "audit_log"):
        assert again[table].exists(), table


def test_a_statement_outside_a_transaction_is_committed_at_once(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    writer = store.connect(path)
    users.audit(writer, "test", "thing.done", 1.0)
    reader = sqlite3.connect(path)  # another connection sees it without any commit() call
    assert reader.execute("SELECT action FROM audit_log").fetchall() == [("thing.done",)]


def test_immediate_rolls_back_on_error(tmp_path: Path) -> None:
    db = store.connect(tmp_path / "a.db")
    with pytest.raises(RuntimeError):
        with store.immediate(db):
            users.audit(db, "test", "never", 1.0)
            raise RuntimeError("boom")
    assert users.audit_entries(db) == []
    with store.immediate(db):
        users.audit(db, "test", "kept", 1.0)
    assert [e["action"] for e in users.audit_entries(db)] == ["kept"]


def test_corrupt_file_is_a_clear_store_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="bad.db"):
        store.connect(path)


def test_concat_reference_persists_and_wraps(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    db = store.connect(path)
    mid = modems.upsert_identity(db, "861234567890123", 1.0, model="E173")
    refs = [modems.next_concat_ref(db, mid) for _ in range(3)]
    db.close()
    db = store.connect(path)
    assert modems.upsert_identity(db, "861234567890123", 2.0) == mid
    assert refs == [1, 2, 3] and modems.next_concat_ref(db, mid) == 4
    db.execute("UPDATE modems SET concat_ref = 255 WHERE id = ?", [mid])
    assert modems.next_concat_ref(db, mid) == 0


def test_backup_while_another_thread_writes(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    db = store.connect(path)
    stop, ready = threading.Event(), threading.Event()
    written = []

    def writer() -> None:
        conn = store.connect(path)
        i = 0
        while not stop.is_set():
            users.audit(conn, "writer", f"a{i}", float(i))
            written.append(i)
            i += 1
            if i == 200:
                ready.set()
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert ready.wait(10)
        pages = store.backup(db, tmp_path / "copy.db")
    finally:
        stop.set()
        thread.join()
    assert pages > 0
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    n = copy.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    assert 200 <= n <= len(written)
    assert not (tmp_path / "copy.db.partial").exists()
