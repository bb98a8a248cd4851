"""Contacts and the append-only consent log; the contact row carries the current consent state for claims."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from gateway.states import MessageClass


def get_by_phone(db: Database, phone: str) -> dict[str, Any] | None:
    """The contact with this E.164 number, or None."""
    row = db.execute("SELECT * FROM contacts WHERE phone = ?", [phone]).fetchone()
    return dict(row) if row else None


def ensure(db: Database, phone: str, now: float, **fields: Any) -> int:
    """The id of the contact with this number, created with `fields` when new (existing fields are kept)."""
    row = db.execute("SELECT id FROM contacts WHERE phone = ?", [phone]).fetchone()
    if row:
        return int(row[0])
    cols = ["phone", "created_at", "updated_at", *fields]
    cur = db.execute(f"INSERT INTO contacts ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                     [phone, now, now, *fields.values()])
    return int(cur.lastrowid)


def record_consent(db: Database, phone: str, message_class: MessageClass, granted: bool, source: str, now: float,
                   *, user_id: int | None = None, inbox_id: int | None = None, evidence: str | None = None,
                   text_version: str | None = None) -> int:
    """Append a consent event and update the contact's current state; returns the event id."""
    contact_id = ensure(db, phone, now)
    cur = db.execute(
        """INSERT INTO consent_events (contact_id, phone, class, action, source, text_version, user_id, evidence,
               inbox_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [contact_id, phone, str(message_class), "granted" if granted else "withdrawn", source, text_version,
         user_id, evidence, inbox_id, now],
    )
    column = "consent_advertising" if message_class == MessageClass.ADVERTISING else "consent_service"
    db.execute(f"UPDATE contacts SET {column} = ?, updated_at = ? WHERE id = ?", [int(granted), now, contact_id])
    return int(cur.lastrowid)


def opt_out(db: Database, phone: str, source: str, now: float, *, inbox_id: int | None = None,
            user_id: int | None = None) -> int:
    """Record an opt-out: advertising consent withdrawn, bulk stopped (the claim re-reads opted_out_at)."""
    event = record_consent(db, phone, MessageClass.ADVERTISING, False, source, now, inbox_id=inbox_id,
                           user_id=user_id)
    db.execute("UPDATE contacts SET opted_out_at = ?, updated_at = ? WHERE phone = ?", [now, now, phone])
    return event


def opt_in(db: Database, phone: str, source: str, now: float, *, inbox_id: int | None = None,
           user_id: int | None = None) -> int:
    """Record a fresh subscription: advertising consent granted, opt-out and any pause lifted."""
    event = record_consent(db, phone, MessageClass.ADVERTISING, True, source, now, inbox_id=inbox_id,
                           user_id=user_id)
    db.execute("UPDATE contacts SET opted_out_at = NULL, bulk_paused_at = NULL, updated_at = ? WHERE phone = ?",
               [now, phone])
    return event


def consent_history(db: Database, phone: str) -> list[dict[str, Any]]:
    """Every consent event of a number, oldest first (the sender's proof)."""
    return [dict(r) for r in db.execute("SELECT * FROM consent_events WHERE phone = ? ORDER BY at, id", [phone])]
