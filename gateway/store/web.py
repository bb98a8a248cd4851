"""SQL of the web domain: sessions, login throttling, API keys, webhooks, and the read queries of the pages.

Every user-chosen filter or sort arrives here already mapped through an allow-list (see `gateway.web.lists`);
values always travel as `?` parameters, never pasted into SQL.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from sqlite_utils import Database

from gateway.store import settings

OPEN_OUT_STATES = ("queued", "sending", "uncertain", "held")


def digest(token: str) -> str:
    """The SHA-256 hex digest under which a session or API token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- sessions ----------------------------------------------------------------------------------------------


def create_session(db: Database, token: str, user_id: int, csrf: str, now: float, ip: str | None) -> None:
    """Store a new session under the digest of its token."""
    db.execute("INSERT INTO web_sessions (token_hash, user_id, csrf, created_at, last_seen, ip) VALUES (?, ?, ?, ?, ?, ?)",
               [digest(token), user_id, csrf, now, now, ip])


def get_session(db: Database, token: str) -> dict[str, Any] | None:
    """The session with its user's row (prefixed `u_`), or None."""
    row = db.execute(
        """SELECT s.*, u.username AS u_username, u.role AS u_role, u.lang AS u_lang, u.contact_id AS u_contact_id,
                  u.disabled AS u_disabled
           FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?""",
        [digest(token)],
    ).fetchone()
    return dict(row) if row else None


def touch_session(db: Database, token: str, now: float) -> None:
    """Record activity on a session (the idle timeout counts from here)."""
    db.execute("UPDATE web_sessions SET last_seen = ? WHERE token_hash = ?", [now, digest(token)])


def delete_session(db: Database, token: str) -> None:
    """End one session."""
    db.execute("DELETE FROM web_sessions WHERE token_hash = ?", [digest(token)])


def delete_user_sessions(db: Database, user_id: int) -> int:
    """End every session of a user (password change, disabled account); returns how many."""
    return db.execute("DELETE FROM web_sessions WHERE user_id = ?", [user_id]).rowcount


def purge_sessions(db: Database, idle_before: float, created_before: float) -> int:
    """Delete sessions idle or old beyond the limits; returns how many."""
    return db.execute("DELETE FROM web_sessions WHERE last_seen < ? OR created_at < ?",
                      [idle_before, created_before]).rowcount


# --- login throttling (per account name, also for names that do not exist) ---------------------------------


def throttle_state(db: Database, username: str) -> tuple[int, float | None]:
    """(consecutive failures, locked until) of an account name."""
    row = db.execute("SELECT failures, locked_until FROM login_throttle WHERE username = ?", [username]).fetchone()
    return (int(row[0]), row[1]) if row else (0, None)


def record_failure(db: Database, username: str, locked_until: float | None, now: float) -> int:
    """Count one failed login and set the lock; returns the failures so far."""
    row = db.execute(
        """INSERT INTO login_throttle (username, failures, locked_until, last_failure_at) VALUES (?, 1, ?, ?)
           ON CONFLICT (username) DO UPDATE SET failures = failures + 1, locked_until = excluded.locked_until,
               last_failure_at = excluded.last_failure_at
           RETURNING failures""",
        [username, locked_until, now],
    ).fetchone()
    return int(row[0])


def set_lock(db: Database, username: str, locked_until: float | None) -> None:
    """Set the lock time of an account name."""
    db.execute("UPDATE login_throttle SET locked_until = ? WHERE username = ?", [locked_until, username])


def clear_failures(db: Database, username: str) -> None:
    """Forget failed logins of a name (a successful login, or an admin unlocking it)."""
    db.execute("DELETE FROM login_throttle WHERE username = ?", [username])


# --- API keys ----------------------------------------------------------------------------------------------


def add_api_key(db: Database, name: str, token: str, created_by: str, now: float) -> int:
    """Store a new API key by digest (the token itself is shown once and never stored)."""
    cur = db.execute("INSERT INTO api_keys (name, prefix, key_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
                     [name, token[:8], digest(token), created_by, now])
    return int(cur.lastrowid)


def api_key_by_token(db: Database, token: str) -> dict[str, Any] | None:
    """The live (not revoked) key with this token, or None."""
    row = db.execute("SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", [digest(token)]).fetchone()
    return dict(row) if row else None


def touch_api_key(db: Database, key_id: int, now: float) -> None:
    """Record a key's use."""
    db.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", [now, key_id])


def list_api_keys(db: Database) -> list[dict[str, Any]]:
    """Every key (without digests), newest first."""
    return [dict(r) for r in db.execute(
        "SELECT id, name, prefix, created_by, created_at, last_used_at, revoked_at FROM api_keys ORDER BY id DESC")]


def revoke_api_key(db: Database, key_id: int, now: float) -> bool:
    """Revoke a key; False when there was no live key with that id."""
    return db.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                      [now, key_id]).rowcount > 0


# --- webhooks ----------------------------------------------------------------------------------------------


def add_webhook(db: Database, url: str, secret: str, events: str, created_by: str, now: float) -> int:
    """Register a webhook receiver."""
    cur = db.execute("INSERT INTO webhooks (url, secret, events, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
                     [url, secret, events, created_by, now])
    return int(cur.lastrowid)


def list_webhooks(db: Database) -> list[dict[str, Any]]:
    """Every webhook with its delivery counts."""
    return [dict(r) for r in db.execute(
        """SELECT w.*, (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'pending')
                  AS pending,
                  (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'failed')
                  AS failed
           FROM webhooks w ORDER BY w.id""")]


def delete_webhook(db: Database, webhook_id: int) -> bool:
    """Remove a webhook and its deliveries."""
    return db.execute("DELETE FROM webhooks WHERE id = ?", [webhook_id]).rowcount > 0


def wanted_kinds(db: Database) -> set[str]:
    """Event kinds some active webhook subscribes to."""
    kinds: set[str] = set()
    for (events,) in db.execute("SELECT events FROM webhooks WHERE active = 1"):
        kinds.update(e.strip() for e in str(events).split(",") if e.strip())
    return kinds


def get_cursor(db: Database, name: str, default: float) -> float:
    """A stored scan position (created with `default` on first use)."""
    row = db.execute("SELECT value FROM web_cursors WHERE name = ?", [name]).fetchone()
    if row is None:
        db.execute("INSERT INTO web_cursors (name, value) VALUES (?, ?)", [name, default])
        return default
    return float(row[0])


def set_cursor(db: Database, name: str, value: float) -> None:
    """Move a scan position."""
    db.execute("INSERT INTO web_cursors (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = ?",
               [name, value, value])


def inbox_after(db: Database, after_id: int, limit: int) -> list[dict[str, Any]]:
    """Complete inbox messages with an id above after_id, oldest first."""
    return [dict(r) for r in db.execute(
        "SELECT id, phone, sender_kind, body, received_at, sent_at, partial, state, modem_id FROM inbox"
        " WHERE id > ? ORDER BY id LIMIT ?", [after_id, limit])]


def api_status_changes(db: Database, since: float, limit: int) -> list[dict[str, Any]]:
    """Messages queued through the API whose row changed at or after `since`, oldest change first."""
    return [dict(r) for r in db.execute(
        """SELECT id, phone, state, idempotency_key, last_error, parts_total, updated_at FROM outbox
           WHERE updated_at >= ? AND created_by LIKE 'api:%' ORDER BY updated_at, id LIMIT ?""",
        [since, limit])]


def add_event(db: Database, kind: str, ref_id: int, state: str, payload: dict[str, Any], now: float) -> int | None:
    """Record an event and a pending delivery for each active webhook wanting it; None if already recorded."""
    cur = db.execute(
        "INSERT INTO webhook_events (kind, ref_id, state, payload, created_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (kind, ref_id, state) DO NOTHING",
        [kind, ref_id, state, json.dumps(payload, ensure_ascii=False), now])
    if not cur.rowcount:
        return None
    event_id = int(cur.lastrowid)
    for hook_id, events in db.execute("SELECT id, events FROM webhooks WHERE active = 1").fetchall():
        if kind in {e.strip() for e in str(events).split(",")}:
            db.execute("INSERT INTO webhook_deliveries (webhook_id, event_id, next_attempt_at) VALUES (?, ?, ?)",
                       [hook_id, event_id, now])
    return event_id


def due_deliveries(db: Database, now: float, limit: int) -> list[dict[str, Any]]:
    """Pending deliveries due now, with the webhook's URL and secret and the event."""
    return [dict(r) for r in db.execute(
        """SELECT d.id, d.attempts, w.url, w.secret, e.id AS event_id, e.kind, e.payload, e.created_at
           FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN webhook_events e ON e.id = d.event_id
           WHERE d.state = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.id LIMIT ?""",
        [now, limit])]


def delivery_done(db: Database, delivery_id: int, now: float) -> None:
    """A receiver answered 2xx."""
    db.execute("UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = ?,"
               " last_error = NULL WHERE id = ?", [now, delivery_id])


def delivery_retry(db: Database, delivery_id: int, next_at: float | None, error: str) -> None:
    """A failed attempt: retry at next_at, or give up (state failed) when next_at is None."""
    if next_at is None:
        db.execute("UPDATE webhook_deliveries SET state = 'failed', attempts = attempts + 1, last_error = ?"
                   " WHERE id = ?", [error, delivery_id])
    else:
        db.execute("UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
                   " WHERE id = ?", [next_at, error, delivery_id])


def delivery_counts(db: Database) -> dict[str, int]:
    """Webhook deliveries per state."""
    result = {"pending": 0, "delivered": 0, "failed": 0}
    for state, n in db.execute("SELECT state, count(*) FROM webhook_deliveries GROUP BY state"):
        result[state] = n
    return result


# --- read queries of the pages ------------------------------------------------------------------------------


def open_counts(db: Database) -> dict[str, int]:
    """Messages in the open states (queued, sending, uncertain, held); cheap on a large outbox."""
    return {s: int(db.execute("SELECT count(*) FROM outbox WHERE state = ?", [s]).fetchone()[0])
            for s in OPEN_OUT_STATES}


def done_since(db: Database, since: float) -> dict[str, int]:
    """Messages that reached a final state since a time, per state (uses the (state, done_at) index)."""
    return {s: int(db.execute("SELECT count(*) FROM outbox WHERE state = ? AND done_at >= ?", [s, since]).fetchone()[0])
            for s in ("delivered", "undelivered", "failed", "cancelled")}


def inbox_waiting(db: Database) -> dict[str, int]:
    """Inbound messages waiting for staff: in the inbox and in review."""
    return {s: int(db.execute("SELECT count(*) FROM inbox WHERE state = ?", [s]).fetchone()[0])
            for s in ("new", "inbox", "review")}


def outbox_page(db: Database, *, states: tuple[str, ...] | None, phone: str | None, before_id: int | None,
                limit: int, agent_contact_id: int | None = None) -> list[dict[str, Any]]:
    """Outbound messages newest first, filtered by state(s) and number, keyset-paged by id."""
    where, params = ["1 = 1"], []
    if states:
        where.append(f"o.state IN ({','.join('?' * len(states))})")
        params.extend(states)
    if phone:
        where.append("o.phone = ?")
        params.append(phone)
    if before_id:
        where.append("o.id < ?")
        params.append(before_id)
    if agent_contact_id is not None:
        where.append("o.phone IN (SELECT phone FROM contacts WHERE agent_id = ?)")
        params.append(agent_contact_id)
    return [dict(r) for r in db.execute(
        f"""SELECT o.id, o.phone, o.body, o.class, o.priority, o.state, o.attempts, o.parts_total, o.last_error,
                   o.created_at, o.updated_at, o.created_by, o.campaign_id, c.name AS contact_name
            FROM outbox o LEFT JOIN contacts c ON c.phone = o.phone
            WHERE {' AND '.join(where)} ORDER BY o.id DESC LIMIT ?""", [*params, limit])]


def conversations(db: Database, *, limit: int, before_id: int | None = None, only_waiting: bool = False,
                  agent_contact_id: int | None = None, scan_cap: int = 20_000) -> list[dict[str, Any]]:
    """Newest inbound message per number, newest first (walks the inbox backwards by id; bounded work)."""
    found: dict[str, dict[str, Any]] = {}
    cursor = before_id or (1 << 62)
    scanned = 0
    states = "AND i.state IN ('new', 'inbox', 'review')" if only_waiting else ""
    scope = "AND i.phone IN (SELECT phone FROM contacts WHERE agent_id = ?)" if agent_contact_id is not None else ""
    while len(found) < limit and scanned < scan_cap:
        params: list[Any] = [cursor]
        if agent_contact_id is not None:
            params.append(agent_contact_id)
        rows = db.execute(
            f"""SELECT i.id, i.phone, i.body, i.state, i.received_at, i.partial, i.sender_kind
                FROM inbox i WHERE i.id < ? {states} {scope} ORDER BY i.id DESC LIMIT 500""", params).fetchall()
        if not rows:
            break
        scanned += len(rows)
        for row in rows:
            if row["phone"] not in found and len(found) < limit:
                found[row["phone"]] = dict(row)
        cursor = rows[-1]["id"]
    result = list(found.values())
    for conv in result:
        contact = db.execute("SELECT id, name, agent_id FROM contacts WHERE phone = ?", [conv["phone"]]).fetchone()
        conv["contact_name"] = contact["name"] if contact else ""
        conv["contact_id"] = contact["id"] if contact else None
        conv["waiting"] = int(db.execute(
            "SELECT count(*) FROM inbox WHERE phone = ? AND state IN ('new', 'inbox', 'review')",
            [conv["phone"]]).fetchone()[0])
    return result


def thread(db: Database, phone: str, limit: int = 200) -> list[dict[str, Any]]:
    """Inbound and outbound messages of one number, oldest first (the last `limit`)."""
    rows = db.execute(
        """SELECT * FROM (
             SELECT 'in' AS direction, id, body, state, received_at AS at, partial FROM inbox WHERE phone = ?
             UNION ALL
             SELECT 'out' AS direction, id, body, state, created_at AS at, 0 AS partial FROM outbox WHERE phone = ?
           ) ORDER BY at DESC, id DESC LIMIT ?""", [phone, phone, limit]).fetchall()
    return [dict(r) for r in reversed(rows)]


def mark_thread_read(db: Database, phone: str, now: float) -> int:
    """Inbox messages of a number waiting for staff become read (review ones stay until decided)."""
    return db.execute("UPDATE inbox SET state = 'read', handled_at = ? WHERE phone = ? AND state IN ('new', 'inbox')",
                      [now, phone]).rowcount


def review_messages(db: Database, limit: int = 200) -> list[dict[str, Any]]:
    """Inbound messages that may be opt-out requests, waiting for a decision, oldest first."""
    return [dict(r) for r in db.execute(
        """SELECT i.id, i.phone, i.body, i.received_at, c.name AS contact_name FROM inbox i
           LEFT JOIN contacts c ON c.phone = i.phone WHERE i.state = 'review' ORDER BY i.id LIMIT ?""", [limit])]


def opted_out(db: Database, *, phone_like: str | None, limit: int) -> list[dict[str, Any]]:
    """Contacts who opted out, newest first."""
    where, params = "opted_out_at IS NOT NULL", []
    if phone_like:
        where += " AND (phone LIKE ? OR name LIKE ?)"
        params = [f"%{phone_like}%", f"%{phone_like}%"]
    return [dict(r) for r in db.execute(
        f"SELECT id, phone, name, opted_out_at, agent_id FROM contacts WHERE {where} ORDER BY opted_out_at DESC LIMIT ?",
        [*params, limit])]


def contact_by_id(db: Database, contact_id: int) -> dict[str, Any] | None:
    """A contact row, or None."""
    row = db.execute("SELECT * FROM contacts WHERE id = ?", [contact_id]).fetchone()
    return dict(row) if row else None


def agent_customers(db: Database, agent_contact_id: int, *, search: str | None, limit: int) -> list[dict[str, Any]]:
    """The customers an agent owns, by name."""
    where, params = "agent_id = ?", [agent_contact_id]
    if search:
        where += " AND (phone LIKE ? OR name LIKE ?)"
        params += [f"%{search}%", f"%{search}%"]
    return [dict(r) for r in db.execute(
        f"""SELECT id, phone, name, consent_advertising, opted_out_at, tags FROM contacts WHERE {where}
            ORDER BY name, id LIMIT ?""", [*params, limit])]


def phone_owner(db: Database, phone: str) -> int | None:
    """The agent contact id owning the contact with this number, or None."""
    row = db.execute("SELECT agent_id FROM contacts WHERE phone = ?", [phone]).fetchone()
    return row[0] if row else None


def agent_sent_since(db: Database, username: str, since: float) -> int:
    """Messages a web user queued since a time (for the agent's daily cap)."""
    return int(db.execute("SELECT count(*) FROM outbox WHERE created_by = ? AND created_at >= ?",
                          [f"web:{username}", since]).fetchone()[0])


def agents(db: Database) -> list[dict[str, Any]]:
    """Contacts with the agent role (to link web users to them)."""
    return [dict(r) for r in db.execute(
        "SELECT id, phone, name, agent_code FROM contacts WHERE role = 'agent' ORDER BY name, id")]


AUDIT_COLUMNS = ("actor", "action")


def audit_page(db: Database, *, column: str | None, value: str | None, before_id: int | None,
               limit: int) -> list[dict[str, Any]]:
    """Audit log newest first, optionally filtered by an allow-listed column's exact value or prefix."""
    where, params = ["1 = 1"], []
    if column and value:
        if column not in AUDIT_COLUMNS:
            raise ValueError(f"cannot filter the audit log by {column!r}")
        where.append(f"{column} >= ? AND {column} < ?")  # prefix match that keeps the index usable
        params += [value, value + "\U0010ffff"]
    if before_id:
        where.append("id < ?")
        params.append(before_id)
    return [dict(r) for r in db.execute(
        f"SELECT * FROM audit_log WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?", [*params, limit])]


def inbox_since(db: Database, since_id: int, limit: int) -> list[dict[str, Any]]:
    """Inbound messages after an id, oldest first (the API's polling twin of the webhook)."""
    return [dict(r) for r in db.execute(
        """SELECT id, phone, sender_kind, body, sent_at, received_at, parts_total, parts_received, partial, state,
                  command FROM inbox WHERE id > ? ORDER BY id LIMIT ?""", [since_id, limit])]


def outbox_state_counts(db: Database) -> dict[str, int]:
    """Messages per state (whole table; for /metrics)."""
    return {r[0]: int(r[1]) for r in db.execute("SELECT state, count(*) FROM outbox GROUP BY state")}


def inbox_state_counts(db: Database) -> dict[str, int]:
    """Inbound messages per state (whole table; for /metrics)."""
    return {r[0]: int(r[1]) for r in db.execute("SELECT state, count(*) FROM inbox GROUP BY state")}


get_setting = settings.get
set_setting = settings.put


def dismiss_review(db: Database, inbox_id: int, now: float) -> bool:
    """A message staff judged not to be an opt-out leaves review (it becomes read)."""
    return db.execute("UPDATE inbox SET state = 'read', handled_at = ? WHERE id = ? AND state = 'review'",
                      [now, inbox_id]).rowcount > 0


def lift_bulk_pause(db: Database, phone: str, now: float) -> None:
    """Bulk sending resumes after staff dismissed a possible opt-out — unless another message still awaits review."""
    db.execute("UPDATE contacts SET bulk_paused_at = NULL, updated_at = ? WHERE phone = ?"
               " AND NOT EXISTS (SELECT 1 FROM inbox WHERE phone = ? AND state = 'review')", [now, phone, phone])


def wrote_since(db: Database, phone: str, since: float) -> bool:
    """Whether the number sent us a message since a time."""
    return db.execute("SELECT 1 FROM inbox WHERE phone = ? AND received_at >= ? LIMIT 1", [phone, since]
                      ).fetchone() is not None


def latest_inbound_id(db: Database, phone: str) -> int | None:
    """The newest inbound message of a number (what a reply answers)."""
    row = db.execute("SELECT max(id) FROM inbox WHERE phone = ?", [phone]).fetchone()
    return row[0] if row else None


def outbox_id_by_key(db: Database, idempotency_key: str) -> int | None:
    """The message queued under an idempotency key, or None."""
    row = db.execute("SELECT id FROM outbox WHERE idempotency_key = ?", [idempotency_key]).fetchone()
    return row[0] if row else None


def inbox_since_newest(db: Database) -> int:
    """The highest inbox id (0 when empty)."""
    return int(db.execute("SELECT coalesce(max(id), 0) FROM inbox").fetchone()[0])


@contextlib.contextmanager
def _transaction(db: Database) -> Iterator[None]:
    db.execute("BEGIN")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def bench_fill(db: Database, *, now: float, messages: int, inbound: int, contacts: int, modem_ids: list[int],
               campaign_ids: list[int]) -> None:
    """Fill a benchmark database with a realistic history (30 days of outbound, inbound and contacts)."""
    import random

    rng = random.Random(7)
    span = 30 * 86400.0
    with _transaction(db):  # the driver autocommits; one explicit transaction spares a sync per row
        db.conn.executemany(
            "INSERT INTO contacts (phone, name, role, consent_advertising, created_at, updated_at)"
            " VALUES (?, ?, 'customer', 1, ?, ?)",
            ((f"+7916{i:07d}", f"Клиент {i}", now - span, now - span) for i in range(contacts)))
        states = ["delivered"] * 85 + ["sent"] * 5 + ["failed"] * 3 + ["undelivered"] * 2 + ["cancelled"] * 4 + ["queued"]

        def outbound():
            for i in range(messages):
                at = now - span + span * i / messages
                state = rng.choice(states)
                done = at + 30 if state not in ("sent", "queued") else None
                yield (f"+7916{rng.randrange(contacts):07d}", f"Сообщение {i}", "advertising", 1, state,
                       campaign_ids[i % len(campaign_ids)] if campaign_ids and i % 3 else None,
                       modem_ids[i % len(modem_ids)], 1, "ucs2", at, at, at + 5, done)

        db.conn.executemany(
            """INSERT INTO outbox (phone, body, class, priority, state, campaign_id, modem_id, parts_total, encoding,
                   created_at, updated_at, sent_at, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            outbound())
        db.conn.execute(
            """INSERT INTO outbox_parts (outbox_id, seq, modem_id, mr, state, sent_at)
               SELECT id, 1, modem_id, id % 256, CASE state WHEN 'delivered' THEN 'delivered' ELSE 'sent' END, sent_at
               FROM outbox WHERE state NOT IN ('queued', 'cancelled', 'failed')""")
        in_states = ["handled"] * 50 + ["read"] * 40 + ["inbox"] * 8 + ["review"] * 2
        db.conn.executemany(
            "INSERT INTO inbox (phone, body, received_at, state) VALUES (?, ?, ?, ?)",
            ((f"+7916{rng.randrange(contacts):07d}", f"Ответ {i}", now - span + span * i / max(1, inbound),
              rng.choice(in_states)) for i in range(inbound)))
    db.execute("ANALYZE")
