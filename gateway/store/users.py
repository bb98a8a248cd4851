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


def get_user_by_id(db: Database, user_id: int) -> dict[str, Any] | None:
    """The user row by id, or None."""
    row = db.execute("SELECT * FROM users WHERE id = ?", [user_id]).fetchone()
    return dict(row) if row else None


def list_users(db: Database) -> list[dict[str, Any]]:
    """Every user (without password hashes), by name."""
    return [dict(r) for r in db.execute(
        "SELECT u.id, u.username, u.role, u.contact_id, u.lang, u.disabled, u.created_at, u.updated_at,"
        " c.name AS contact_name, c.phone AS contact_phone"
        " FROM users u LEFT JOIN contacts c ON c.id = u.contact_id ORDER BY u.username")]


_EDITABLE = ("role", "contact_id", "lang", "disabled", "password_hash")


def update_user(db: Database, user_id: int, now: float, **fields: Any) -> None:
    """Change a user's role, linked contact, language, disabled flag or password hash."""
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise ValueError(f"unknown user fields: {sorted(unknown)}")
    if not fields:
        return
    sets = ", ".join(f"{k} = ?" for k in fields)
    db.execute(f"UPDATE users SET {sets}, updated_at = ? WHERE id = ?",
               [*(str(v) if k == "role" else v for k, v in fields.items()), now, user_id])


def count_admins(db: Database) -> int:
    """How many enabled admins exist (the last one may not be demoted or disabled)."""
    return int(db.execute("SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0").fetchone()[0])
