"""The key/value `settings` table: values staff change at run time (the config file holds the rest)."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database


def get(db: Database, key: str) -> str | None:
    """The stored text under key, or None when it was never set."""
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return None if row is None else str(row[0])


def put(db: Database, key: str, value: str, now: float) -> None:
    """Store text under key (insert or replace)."""
    db.execute("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)"
               " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
               [key, value, now])


def delete(db: Database, key: str) -> bool:
    """Remove the value under key (readers then fall back to their default); False when nothing was stored."""
    return bool(db.execute("DELETE FROM settings WHERE key = ?", [key]).rowcount)


def get_json(db: Database, key: str) -> Any:
    """The JSON value under key, or None when unset or unreadable."""
    text = get(db, key)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def put_json(db: Database, key: str, value: Any, now: float) -> None:
    """Store a JSON value under key."""
    put(db, key, json.dumps(value, ensure_ascii=False), now)
