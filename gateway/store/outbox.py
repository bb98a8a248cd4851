"""The outbound queue: enqueue, claim (in BEGIN IMMEDIATE), per-part records, delivery reports, recovery."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from gateway.states import OutState


def enqueue(db: Database, *, phone: str, body: str, message_class: str, priority: int, now: float,
            parts_total: int, encoding: str, contact_id: int | None = None, campaign_id: int | None = None,
            reply_to: int | None = None, pinned_modem_id: int | None = None,
            idempotency_key: str | None = None, not_before: float | None = None,
            expires_at: float | None = None, created_by: str | None = None,
            state: OutState = OutState.QUEUED) -> int:
    """Insert one outbound message; with an idempotency key already used, return the existing id instead."""
    cur = db.execute(
        """INSERT INTO outbox (phone, contact_id, body, class, priority, state, campaign_id, reply_to,
               pinned_modem_id, idempotency_key, next_attempt_at, expires_at, parts_total, encoding,
               created_by, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (idempotency_key) DO NOTHING""",
        [phone, contact_id, body, str(message_class), int(priority), str(state), campaign_id, reply_to,
         pinned_modem_id, idempotency_key, not_before or 0, expires_at, parts_total, encoding, created_by,
         now, now],
    )
    if cur.rowcount:
        return int(cur.lastrowid)
    row = db.execute("SELECT id FROM outbox WHERE idempotency_key = ?", [idempotency_key]).fetchone()
    return int(row[0])


def get(db: Database, message_id: int) -> dict[str, Any] | None:
    """One outbound message row, or None."""
    row = db.execute("SELECT * FROM outbox WHERE id = ?", [message_id]).fetchone()
    return dict(row) if row else None


def parts(db: Database, message_id: int) -> list[dict[str, Any]]:
    """The submitted parts of a message, by sequence."""
    return [dict(r) for r in db.execute("SELECT * FROM outbox_parts WHERE outbox_id = ? ORDER BY seq",
                                        [message_id])]


def counts(db: Database) -> dict[str, int]:
    """Number of messages in each state (states with none are 0)."""
    result = {str(s): 0 for s in OutState}
    for state, n in db.execute("SELECT state, count(*) FROM outbox GROUP BY state"):
        result[state] = n
    return result
