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


# --- the claim: everything below runs inside the caller's `immediate(db)` transaction ----------------------

CANDIDATE_COLUMNS = """o.id, o.phone, o.body, o.class, o.priority, o.attempts, o.parts_total, o.campaign_id,
    o.pinned_modem_id, o.expires_at, o.contact_id, o.concat_ref,
    c.timezone AS contact_zone, c.opted_out_at, c.consent_advertising, c.consent_service, c.bulk_paused_at,
    c.id AS cid"""


def candidates(db: Database, modem_id: int, now: float, *, bulk_allowed: bool, limit: int) -> list[dict[str, Any]]:
    """Queued messages this modem may take, in claim order: transactional first, then oldest due first.

    The contact is joined by phone, so consent and opt-out are read in the claiming transaction itself.
    """
    # Without bulk (clock not synchronised) only transactional service messages may go.
    only_service = "" if bulk_allowed else "AND o.priority = 0 AND o.class = 'service'"
    rows = db.execute(
        f"""SELECT {CANDIDATE_COLUMNS}
            FROM outbox o LEFT JOIN contacts c ON c.phone = o.phone
            WHERE o.state = 'queued' AND o.next_attempt_at <= ? {only_service}
              AND (o.pinned_modem_id IS NULL OR o.pinned_modem_id = ?)
            ORDER BY o.priority, o.next_attempt_at, o.id
            LIMIT ?""",
        [now, modem_id, limit],
    )
    return [dict(r) for r in rows]


def next_due(db: Database, modem_id: int, *, bulk_allowed: bool) -> float | None:
    """The earliest next_attempt_at among messages this modem could take (to size the worker's sleep)."""
    only_service = "" if bulk_allowed else "AND priority = 0 AND class = 'service'"
    row = db.execute(
        f"""SELECT min(next_attempt_at) FROM outbox
            WHERE state = 'queued' {only_service} AND (pinned_modem_id IS NULL OR pinned_modem_id = ?)""",
        [modem_id],
    ).fetchone()
    return row[0]


def mark_sending(db: Database, message_id: int, modem_id: int, now: float) -> None:
    """The claim itself: committed before the first AT+CMGS, so a crash after it is seen as uncertain."""
    db.execute(
        """UPDATE outbox SET state = 'sending', modem_id = ?, attempts = attempts + 1, sending_at = ?,
               updated_at = ? WHERE id = ? AND state = 'queued'""",
        [modem_id, now, now, message_id],
    )


def defer(db: Database, message_id: int, until: float, now: float, reason: str | None = None) -> None:
    """Leave a queued message for later (quiet hours, pacing) without counting an attempt."""
    db.execute("UPDATE outbox SET next_attempt_at = ?, last_error = coalesce(?, last_error), updated_at = ?"
               " WHERE id = ? AND state = 'queued'", [until, reason, now, message_id])


def finish(db: Database, message_id: int, state: OutState, now: float, reason: str | None = None) -> None:
    """Move a message to a final or waiting state with the reason (cancelled, failed, held, uncertain)."""
    db.execute("UPDATE outbox SET state = ?, last_error = coalesce(?, last_error), done_at = ?, updated_at = ?"
               " WHERE id = ?", [str(state), reason, now, now, message_id])


def recent_parts(db: Database, modem_id: int, now: float, day_start: float) -> tuple[int, float | None, int,
                                                                                         float | None, int]:
    """Parts this modem submitted: (last minute, oldest of them, last hour, oldest of them, since day_start)."""
    row = db.execute(
        """SELECT
             sum(sent_at > ?1 - 60), min(CASE WHEN sent_at > ?1 - 60 THEN sent_at END),
             sum(sent_at > ?1 - 3600), min(CASE WHEN sent_at > ?1 - 3600 THEN sent_at END),
             sum(sent_at >= ?2)
           FROM outbox_parts WHERE modem_id = ?3 AND sent_at >= min(?1 - 3600, ?2)""",
        [now, day_start, modem_id],
    ).fetchone()
    return int(row[0] or 0), row[1], int(row[2] or 0), row[3], int(row[4] or 0)


def sent_since(db: Database, modem_id: int, since: float) -> int:
    """Parts a modem submitted since a time (for `status`: sent today)."""
    return int(db.execute("SELECT count(*) FROM outbox_parts WHERE modem_id = ? AND sent_at >= ?",
                          [modem_id, since]).fetchone()[0])


# --- after the claim --------------------------------------------------------------------------------------


def record_part(db: Database, message_id: int, seq: int, modem_id: int, mr: int | None, now: float,
                series: int = 1) -> None:
    """One part accepted by the network (+CMGS: <mr>); committed at once, before the next part is sent."""
    db.execute("INSERT INTO outbox_parts (outbox_id, series, seq, modem_id, mr, state, sent_at)"
               " VALUES (?, ?, ?, ?, ?, 'sent', ?)", [message_id, series, seq, modem_id, mr, now])


def active_parts(db: Database, message_id: int) -> list[dict[str, Any]]:
    """The parts of the message's current series (one concatenated set sent from one SIM)."""
    return [dict(r) for r in db.execute(
        "SELECT * FROM outbox_parts WHERE outbox_id = ? AND state != 'superseded' ORDER BY seq", [message_id])]


def start_series(db: Database, message_id: int) -> int:
    """Set aside the parts sent so far (another SIM, or a lost reference) and return the next series number.

    A phone joins parts by sender and reference, so parts from another SIM can never complete the message:
    it is sent whole again. The old rows stay (they were submitted and count for that SIM's caps).
    """
    db.execute("UPDATE outbox_parts SET state = 'superseded' WHERE outbox_id = ? AND state != 'superseded'",
               [message_id])
    row = db.execute("SELECT coalesce(max(series), 0) + 1 FROM outbox_parts WHERE outbox_id = ?",
                     [message_id]).fetchone()
    return int(row[0])


def mark_sent(db: Database, message_id: int, now: float) -> None:
    """Every part accepted: sent (a status report may already have made it delivered — keep that)."""
    db.execute("UPDATE outbox SET state = 'sent', sent_at = ?, last_error = NULL, updated_at = ?"
               " WHERE id = ? AND state = 'sending'", [now, now, message_id])
    settle(db, message_id, now)


def set_concat(db: Database, message_id: int, reference: int | None, parts_total: int) -> None:
    """Remember the concatenation reference of a message so a retry reuses it for the missing parts."""
    db.execute("UPDATE outbox SET concat_ref = ?, parts_total = ? WHERE id = ?", [reference, parts_total, message_id])


def retry_later(db: Database, message_id: int, until: float, reason: str, now: float) -> None:
    """A transient failure: back to the queue for a later attempt, with the reason."""
    db.execute("UPDATE outbox SET state = 'queued', next_attempt_at = ?, last_error = ?, updated_at = ?"
               " WHERE id = ?", [until, reason, now, message_id])


REPORT_WINDOW_S = 7 * 86400  # an SMSC gives up long before; an older part cannot be what a report is about


def apply_report(db: Database, modem_id: int, mr: int, part_state: str, status: int, now: float,
                 recipient: str = "") -> int | None:
    """Apply a status report to the part it is about; returns the message id or None when none matches.

    TP-MR wraps at 256 and restarts when a modem reboots, so a part matches only on the same modem, with the same
    reference, to the same recipient (compared on the last 10 digits: a report may give the number nationally),
    sent within the report window, still waiting for a final report — the newest such part.
    """
    digits = "".join(ch for ch in recipient if ch.isdigit())[-10:]
    same_recipient = "AND substr(o.phone, -10) = ?" if len(digits) >= 7 else ""
    row = db.execute(
        f"""SELECT p.id, p.outbox_id FROM outbox_parts p JOIN outbox o ON o.id = p.outbox_id
            WHERE p.modem_id = ? AND p.mr = ? AND p.state IN ('sent', 'pending') AND p.sent_at >= ?
              {same_recipient}
            ORDER BY p.sent_at DESC, p.id DESC LIMIT 1""",
        [modem_id, mr, now - REPORT_WINDOW_S, *([digits] if same_recipient else [])],
    ).fetchone()
    if row is None:
        return None
    db.execute("UPDATE outbox_parts SET state = ?, status = ?, report_at = ? WHERE id = ?",
               [part_state, status, now, row[0]])
    settle(db, row[1], now)
    return int(row[1])


def settle(db: Database, message_id: int, now: float) -> None:
    """Derive a sent message's final state from its parts: delivered when all are, undelivered if one failed."""
    row = db.execute(
        """SELECT o.state, o.parts_total, count(p.id), sum(p.state = 'delivered'), sum(p.state = 'failed')
           FROM outbox o LEFT JOIN outbox_parts p ON p.outbox_id = o.id AND p.state != 'superseded'
           WHERE o.id = ? GROUP BY o.id""",
        [message_id],
    ).fetchone()
    if row is None or row[0] not in ("sent", "delivered", "undelivered"):
        return
    state, total, n, delivered, failed = row[0], row[1] or 1, row[2], row[3] or 0, row[4] or 0
    new = "undelivered" if failed else ("delivered" if n >= total and delivered >= total else "sent")
    if new != state:
        db.execute("UPDATE outbox SET state = ?, done_at = CASE WHEN ? = 'sent' THEN NULL ELSE ? END,"
                   " updated_at = ? WHERE id = ?", [new, new, now, now, message_id])


def interrupted(db: Database) -> list[dict[str, Any]]:
    """Messages left in 'sending' (the process died mid-send)."""
    return [dict(r) for r in db.execute("SELECT id, priority, modem_id FROM outbox WHERE state = 'sending'")]


def cancel_queued_for_phone(db: Database, phone: str, reason: str, now: float, *, bulk_only: bool = True) -> int:
    """Cancel a number's queued (and held) messages — all bulk ones, or everything; returns how many."""
    cur = db.execute(
        f"""UPDATE outbox SET state = 'cancelled', last_error = ?, done_at = ?, updated_at = ?
            WHERE phone = ? AND state IN ('queued', 'held') {"AND priority = 1" if bulk_only else ""}""",
        [reason, now, now, phone],
    )
    return cur.rowcount
