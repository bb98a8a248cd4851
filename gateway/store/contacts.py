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
            user_id: int | None = None, evidence: str | None = None, text_version: str | None = None) -> int:
    """Record an opt-out: advertising consent withdrawn, bulk stopped (the claim re-reads opted_out_at)."""
    event = record_consent(db, phone, MessageClass.ADVERTISING, False, source, now, inbox_id=inbox_id,
                           user_id=user_id, evidence=evidence, text_version=text_version)
    db.execute("UPDATE contacts SET opted_out_at = ?, updated_at = ? WHERE phone = ?", [now, now, phone])
    return event


def opt_in(db: Database, phone: str, source: str, now: float, *, inbox_id: int | None = None,
           user_id: int | None = None, evidence: str | None = None, text_version: str | None = None) -> int:
    """Record a fresh subscription: advertising consent granted, opt-out and any pause lifted."""
    event = record_consent(db, phone, MessageClass.ADVERTISING, True, source, now, inbox_id=inbox_id,
                           user_id=user_id, evidence=evidence, text_version=text_version)
    db.execute("UPDATE contacts SET opted_out_at = NULL, bulk_paused_at = NULL, updated_at = ? WHERE phone = ?",
               [now, phone])
    return event


def consent_history(db: Database, phone: str) -> list[dict[str, Any]]:
    """Every consent event of a number, oldest first (the sender's proof)."""
    return [dict(r) for r in db.execute("SELECT * FROM consent_events WHERE phone = ? ORDER BY at, id", [phone])]


def consent_history_with_users(db: Database, phone: str) -> list[dict[str, Any]]:
    """Every consent event of a number, oldest first, with the staff user's name (`username`, None if none)."""
    rows = db.execute("""SELECT e.*, u.username AS username FROM consent_events e LEFT JOIN users u ON u.id = e.user_id
                         WHERE e.phone = ? ORDER BY e.at, e.id""", [phone])
    return [dict(r) for r in rows]


# --- the contact base (issue 6): CRUD, hierarchy, conflicts, reminders, erasure, retention ---------------

CONTACT_FIELDS = ("phone", "name", "role", "agent_id", "upline_id", "agent_code", "tags", "attributes", "timezone",
                  "lang", "notes")


def get(db: Database, contact_id: int) -> dict[str, Any] | None:
    """The contact row by id, or None."""
    row = db.execute("SELECT * FROM contacts WHERE id = ?", [contact_id]).fetchone()
    return dict(row) if row else None


def get_by_code(db: Database, agent_code: str) -> dict[str, Any] | None:
    """The contact holding an agent code (case-insensitive), or None."""
    row = db.execute("SELECT * FROM contacts WHERE upper(agent_code) = upper(?)", [agent_code]).fetchone()
    return dict(row) if row else None


def index(db: Database) -> dict[str, dict[str, Any]]:
    """Every contact keyed by phone (the importer plans a whole file against it in memory)."""
    return {r["phone"]: dict(r) for r in db.execute("SELECT * FROM contacts")}


def insert(db: Database, fields: dict[str, Any], now: float) -> int:
    """Create a contact from allow-listed fields; returns its id."""
    cols = [c for c in fields if c in CONTACT_FIELDS]
    cur = db.execute(
        f"INSERT INTO contacts ({', '.join([*cols, 'created_at', 'updated_at'])})"
        f" VALUES ({', '.join('?' * (len(cols) + 2))})",
        [*(fields[c] for c in cols), now, now],
    )
    return int(cur.lastrowid)


def update(db: Database, contact_id: int, fields: dict[str, Any], now: float) -> None:
    """Change allow-listed fields of a contact."""
    cols = [c for c in fields if c in CONTACT_FIELDS]
    if not cols:
        return
    db.execute(f"UPDATE contacts SET {', '.join(f'{c} = ?' for c in cols)}, updated_at = ? WHERE id = ?",
               [*(fields[c] for c in cols), now, contact_id])


def delete(db: Database, contact_id: int) -> None:
    """Remove a contact row (consent events keep the number; their contact link becomes NULL)."""
    db.execute("DELETE FROM contacts WHERE id = ?", [contact_id])


# Advertising consent states a list can be filtered by → the SQL that selects them (fixed text, never user input).
CONSENT_STATE_SQL = {
    "granted": "consent_advertising = 1 AND opted_out_at IS NULL",
    "not_granted": "consent_advertising = 0 AND opted_out_at IS NULL",
    "opted_out": "opted_out_at IS NOT NULL",
}


def search(db: Database, text: str = "", *, role: str | None = None, agent_id: int | None = None,
           limit: int = 50, offset: int = 0, tag: str | None = None, consent: str | None = None,
           unowned: bool = False) -> list[dict[str, Any]]:
    """Contacts whose phone, name or agent code contains `text`, by name; `consent` is a key of CONSENT_STATE_SQL."""
    where, params = ["erased_at IS NULL"], []
    if text:
        where.append("(phone LIKE ? OR name LIKE ? OR agent_code LIKE ?)")
        params += [f"%{text}%"] * 3
    if role:
        where.append("role = ?")
        params.append(role)
    if agent_id is not None:
        where.append("agent_id = ?")
        params.append(agent_id)
    if unowned:
        where.append("agent_id IS NULL")
    if tag:
        where.append("EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(tags) THEN tags ELSE '[]' END)"
                     " WHERE value = ?)")
        params.append(tag)
    if consent:
        where.append(f"({CONSENT_STATE_SQL[consent]})")  # KeyError for anything but the fixed keys
    rows = db.execute(f"SELECT * FROM contacts WHERE {' AND '.join(where)} ORDER BY name, id LIMIT ? OFFSET ?",
                      [*params, limit, offset])
    return [dict(r) for r in rows]


def known_tags(db: Database, agent_id: int | None = None) -> list[str]:
    """Every tag in use on contacts not erased (of one agent's customers when agent_id is given), sorted."""
    where, params = "c.erased_at IS NULL AND json_valid(c.tags)", []
    if agent_id is not None:
        where += " AND c.agent_id = ?"
        params.append(agent_id)
    rows = db.execute(f"SELECT DISTINCT t.value FROM contacts c, json_each(c.tags) t WHERE {where} ORDER BY 1", params)
    return [str(r[0]) for r in rows]


def downline(db: Database, agent_id: int) -> list[int]:
    """Ids of the agents below an agent in the hierarchy (upline links), not including the agent itself."""
    rows = db.execute(
        """WITH RECURSIVE down(id) AS (
               SELECT id FROM contacts WHERE upline_id = ? AND id != ?
               UNION SELECT c.id FROM contacts c JOIN down d ON c.upline_id = d.id)
           SELECT id FROM down""",
        [agent_id, agent_id],
    )
    return [int(r[0]) for r in rows]


def set_conflict(db: Database, contact_id: int, claimant_id: int | None, now: float) -> None:
    """Record (or clear, with None) a second agent's claim on a number; the owner stays until staff decide."""
    db.execute("UPDATE contacts SET conflict_agent_id = ?, updated_at = ? WHERE id = ?", [claimant_id, now, contact_id])


def conflicts(db: Database) -> list[dict[str, Any]]:
    """Contacts with an unresolved claim by a second agent."""
    return [dict(r) for r in db.execute("SELECT * FROM contacts WHERE conflict_agent_id IS NOT NULL ORDER BY id")]


def add_reminder(db: Database, contact_id: int, due_at: float, text: str, now: float,
                 created_by: str | None = None) -> int:
    """Add a reminder ("call back in a week") on a contact; returns its id."""
    cur = db.execute("INSERT INTO reminders (contact_id, due_at, text, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
                     [contact_id, due_at, text, created_by, now])
    return int(cur.lastrowid)


def reminders(db: Database, *, due_before: float | None = None, contact_id: int | None = None,
              include_done: bool = False) -> list[dict[str, Any]]:
    """Reminders, soonest first, with the contact's phone and name."""
    where, params = ["1"], []
    if not include_done:
        where.append("r.done_at IS NULL")
    if due_before is not None:
        where.append("r.due_at <= ?")
        params.append(due_before)
    if contact_id is not None:
        where.append("r.contact_id = ?")
        params.append(contact_id)
    rows = db.execute(f"""SELECT r.*, c.phone, c.name FROM reminders r JOIN contacts c ON c.id = r.contact_id
                          WHERE {' AND '.join(where)} ORDER BY r.due_at, r.id""", params)
    return [dict(r) for r in rows]


def complete_reminder(db: Database, reminder_id: int, now: float) -> bool:
    """Mark a reminder done; False when it does not exist or was already done."""
    cur = db.execute("UPDATE reminders SET done_at = ? WHERE id = ? AND done_at IS NULL", [now, reminder_id])
    return bool(cur.rowcount)


def personal_data(db: Database, contact_id: int) -> dict[str, Any]:
    """Everything stored about one contact: the row, consent events, reminders, coupons, messages both ways."""
    contact = get(db, contact_id) or {}
    phone = contact.get("phone", "")
    return {
        "contact": contact,
        "consent_events": consent_history(db, phone) if phone else [],
        "reminders": reminders(db, contact_id=contact_id, include_done=True),
        "coupons": [dict(r) for r in db.execute(
            "SELECT code, campaign_id, issued_at, redeemed_at, order_ref FROM coupons WHERE contact_id = ?",
            [contact_id])],
        "outbox": [dict(r) for r in db.execute(
            "SELECT id, body, class, state, campaign_id, created_at, sent_at FROM outbox WHERE phone = ? ORDER BY id",
            [phone])],
        "inbox": [dict(r) for r in db.execute(
            "SELECT id, body, received_at, state, command FROM inbox WHERE phone = ? ORDER BY id", [phone])],
    }


def erase(db: Database, contact_id: int, now: float) -> None:
    """Blank a contact's personal data and message bodies; the number, opt-out and consent log stay."""
    contact = get(db, contact_id)
    if contact is None:
        return
    phone = contact["phone"]
    db.execute(
        """UPDATE contacts SET name = '', agent_code = NULL, tags = '[]', attributes = '{}', notes = '', lang = NULL,
               timezone = NULL, agent_id = NULL, upline_id = NULL, conflict_agent_id = NULL, erased_at = ?,
               updated_at = ? WHERE id = ?""",
        [now, now, contact_id],
    )
    db.execute("DELETE FROM reminders WHERE contact_id = ?", [contact_id])
    db.execute("UPDATE coupons SET contact_id = NULL WHERE contact_id = ?", [contact_id])
    db.execute("UPDATE outbox SET body = '' WHERE phone = ? AND state NOT IN ('queued', 'sending', 'held')", [phone])
    db.execute("UPDATE outbox SET state = 'cancelled', body = '', last_error = 'contact data erased on request',"
               " done_at = ?, updated_at = ? WHERE phone = ? AND state IN ('queued', 'held')", [now, now, phone])
    db.execute("UPDATE inbox SET body = NULL WHERE phone = ?", [phone])
    db.execute("UPDATE inbox_parts SET pdu = '', text = NULL WHERE sender = ?", [phone])


def purge_before(db: Database, cutoff: float) -> tuple[int, int]:
    """Retention: blank inbound bodies and finished send logs older than cutoff; returns (inbound, outbound)."""
    inbound = db.execute("UPDATE inbox SET body = NULL WHERE received_at < ? AND body IS NOT NULL", [cutoff]).rowcount
    db.execute("UPDATE inbox_parts SET pdu = '', text = NULL WHERE stored_at < ? AND pdu != ''", [cutoff])
    outbound = db.execute(
        """UPDATE outbox SET body = '' WHERE created_at < ? AND body != ''
               AND state IN ('sent', 'delivered', 'undelivered', 'failed', 'cancelled')""", [cutoff]).rowcount
    return int(inbound), int(outbound)


def export_rows(db: Database) -> list[dict[str, Any]]:
    """Every contact not erased, with its agent's and upline's phone and code, by id."""
    rows = db.execute(
        """SELECT c.*, a.phone AS agent_phone, a.agent_code AS agent_ref_code, u.phone AS upline_phone
           FROM contacts c LEFT JOIN contacts a ON a.id = c.agent_id LEFT JOIN contacts u ON u.id = c.upline_id
           WHERE c.erased_at IS NULL ORDER BY c.id""")
    return [dict(r) for r in rows]
