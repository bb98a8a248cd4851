"""Users and the audit log."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from gateway.states import Role


def add_user(db: Database, username: str, password_hash: str, role: Role, now: float,
             contact_id: int | None = None, lang: str | None = None) -> int:
    """Create a user; raises ValueError if the name is taken."""
    if db.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
        raise ValueError(f"user {username!r} already exists")
    cur = db.execute(
        "INSERT INTO users (username, password_hash, role, contact_id, lang, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [username, password_hash, str(role), contact_id, lang, now, now],
    )
    return int(cur.lastrowid)


def get_user(db: Database, username: str) -> dict[str, Any] | None:
    """The user row by name (case-insensitive), or None."""
    row = db.execute("SELECT * FROM users WHERE username = ?", [username]).fetchone()
    return dict(row) if row else None


def count_users(db: Database) -> int:
    """How many users exist."""
    return int(db.execute("SELECT count(*) FROM users").fetchone()[0])


def audit(db: Database, actor: str, action: str, now: float, target: str | None = None,
          **detail: Any) -> None:
    """Append one line to the audit log (never bodies of messages, only ids and counts)."""
    db.execute(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        [now, actor, action, target, json.dumps(detail, ensure_ascii=False, default=str) if detail else None],
    )


def audit_entries(db: Database, limit: int = 100) -> list[dict[str, Any]]:
    """The newest audit log lines first."""
    return [dict(r) for r in db.execute("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", [limit])]
