"""Inbound SMS: raw parts under a unique dedupe key, joined into inbox messages."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database


def add_part(db: Database, *, dedupe_key: str, modem_id: int | None, sender: str | None, concat_ref: int | None,
             total: int, seq: int, pdu: str, text: str | None, sent_at: float | None, now: float) -> int | None:
    """Store one received part; None when the same part was stored before (re-read after a crash)."""
    cur = db.execute(
        """INSERT INTO inbox_parts (dedupe_key, modem_id, sender, concat_ref, total, seq, pdu, text, sent_at,
               stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING""",
        [dedupe_key, modem_id, sender, concat_ref, total, seq, pdu, text, sent_at, now],
    )
    return int(cur.lastrowid) if cur.rowcount else None


def loose_parts(db: Database, sender: str, concat_ref: int, total: int) -> list[dict[str, Any]]:
    """Parts of one concatenated message not yet joined into the inbox (one per sequence number)."""
    rows = db.execute(
        """SELECT * FROM inbox_parts WHERE inbox_id IS NULL AND sender = ? AND concat_ref = ? AND total = ?
           ORDER BY seq, id""",
        [sender, concat_ref, total],
    )
    seen: dict[int, dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(row["seq"], dict(row))
    return list(seen.values())


def stale_groups(db: Database, older_than: float) -> list[tuple[str, int, int]]:
    """(sender, reference, total) of incomplete messages whose newest part is older than a time."""
    rows = db.execute(
        """SELECT sender, concat_ref, total FROM inbox_parts WHERE inbox_id IS NULL AND concat_ref IS NOT NULL
           GROUP BY sender, concat_ref, total HAVING max(stored_at) < ?""",
        [older_than],
    )
    return [(r[0], r[1], r[2]) for r in rows]


def add_message(db: Database, *, phone: str, sender_kind: str, modem_id: int | None, body: str | None,
                encoding: str | None, sent_at: float | None, now: float, parts_total: int, parts_received: int,
                partial: bool, undecodable: bool, part_ids: list[int], state: str = "new") -> int:
    """Create an inbox message from its parts and link the parts to it."""
    cur = db.execute(
        """INSERT INTO inbox (phone, sender_kind, modem_id, body, encoding, sent_at, received_at, parts_total,
               parts_received, partial, undecodable, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [phone, sender_kind, modem_id, body, encoding, sent_at, now, parts_total, parts_received, int(partial),
         int(undecodable), state],
    )
    inbox_id = int(cur.lastrowid)
    db.execute(f"UPDATE inbox_parts SET inbox_id = ? WHERE id IN ({','.join('?' * len(part_ids))})",
               [inbox_id, *part_ids])
    return inbox_id


def get(db: Database, inbox_id: int) -> dict[str, Any] | None:
    """One inbox message, or None."""
    row = db.execute("SELECT * FROM inbox WHERE id = ?", [inbox_id]).fetchone()
    return dict(row) if row else None


def by_state(db: Database, state: str, limit: int = 100) -> list[dict[str, Any]]:
    """Inbox messages in a state, oldest first."""
    return [dict(r) for r in db.execute("SELECT * FROM inbox WHERE state = ? ORDER BY id LIMIT ?", [state, limit])]


def unhandled(db: Database, modem_id: int | None, received_before: float, limit: int = 50) -> list[int]:
    """Ids of a modem's messages still `new` (stored, never handled) that arrived before a time."""
    return [r[0] for r in db.execute(
        "SELECT id FROM inbox WHERE state = 'new' AND modem_id IS ? AND received_at < ? ORDER BY id LIMIT ?",
        [modem_id, received_before, limit])]


def set_state(db: Database, inbox_id: int, state: str, now: float, command: str | None = None) -> None:
    """Record how an inbound message was handled."""
    db.execute("UPDATE inbox SET state = ?, command = coalesce(?, command), handled_at = ? WHERE id = ?",
               [state, command, now, inbox_id])
