"""Settings of the campaigns domain, segments, templates, campaigns, their runs, coupons and statistics.

Bulk enqueue writes a whole campaign occurrence with one `executemany` inside the caller's `immediate(db)`
transaction; each message's idempotency key `campaign:{id}:{occurrence}:{contact_id}` makes a repeated
occurrence a no-op at the database, whatever the scheduler does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlite_utils import Database

from gateway.store import settings

# --- settings (key → JSON value); the campaigns domain uses keys under "contacts.", "campaigns.", "automation." -----


get_setting = settings.get_json
set_setting = settings.put_json


# --- segments and templates ----------------------------------------------------------------------------------


def save_segment(db: Database, name: str, filters: dict[str, Any], now: float) -> int:
    """Create or replace a named segment; returns its id."""
    db.execute("""INSERT INTO segments (name, filters, created_at, updated_at) VALUES (?, ?, ?, ?)
                  ON CONFLICT (name) DO UPDATE SET filters = excluded.filters, updated_at = excluded.updated_at""",
               [name, json.dumps(filters, ensure_ascii=False), now, now])
    return int(db.execute("SELECT id FROM segments WHERE name = ?", [name]).fetchone()[0])


def get_segment(db: Database, segment: int | str) -> dict[str, Any] | None:
    """A segment by id or name, with its filters decoded."""
    column = "id" if isinstance(segment, int) else "name"
    row = db.execute(f"SELECT * FROM segments WHERE {column} = ?", [segment]).fetchone()
    if row is None:
        return None
    return {**dict(row), "filters": json.loads(row["filters"])}


def list_segments(db: Database) -> list[dict[str, Any]]:
    """Every saved segment by name."""
    return [{**dict(r), "filters": json.loads(r["filters"])} for r in db.execute("SELECT * FROM segments ORDER BY name")]


def delete_segment(db: Database, segment_id: int) -> None:
    """Remove a saved segment (campaigns keep their own copy of the filters)."""
    db.execute("DELETE FROM segments WHERE id = ?", [segment_id])


def save_template(db: Database, name: str, body: str, fallbacks: dict[str, str], now: float) -> int:
    """Create or replace a named template; returns its id."""
    db.execute("""INSERT INTO templates (name, body, fallbacks, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                  ON CONFLICT (name) DO UPDATE SET body = excluded.body, fallbacks = excluded.fallbacks,
                      updated_at = excluded.updated_at""",
               [name, body, json.dumps(fallbacks, ensure_ascii=False), now, now])
    return int(db.execute("SELECT id FROM templates WHERE name = ?", [name]).fetchone()[0])


def get_template(db: Database, template: int | str) -> dict[str, Any] | None:
    """A template by id or name, with its fallbacks decoded."""
    column = "id" if isinstance(template, int) else "name"
    row = db.execute(f"SELECT * FROM templates WHERE {column} = ?", [template]).fetchone()
    if row is None:
        return None
    return {**dict(row), "fallbacks": json.loads(row["fallbacks"])}


def list_templates(db: Database) -> list[dict[str, Any]]:
    """Every saved template by name."""
    return [{**dict(r), "fallbacks": json.loads(r["fallbacks"])}
            for r in db.execute("SELECT * FROM templates ORDER BY name")]


def delete_template(db: Database, template_id: int) -> None:
    """Remove a saved template (campaigns keep their own copy of the text)."""
    db.execute("DELETE FROM templates WHERE id = ?", [template_id])


# --- campaigns -------------------------------------------------------------------------------------------------

CAMPAIGN_FIELDS = ("name", "class", "kind", "state", "filters", "segment_id", "template_id", "body", "fallbacks",
                   "coupons", "coupon_prefix", "schedule", "start_at", "cron", "poll_options", "reply_window_s",
                   "held_reason", "override_by", "automation", "created_by", "last_fired_at")
_JSON_FIELDS = ("filters", "fallbacks", "poll_options")


def _encode(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (json.dumps(v, ensure_ascii=False) if k in _JSON_FIELDS and v is not None else v)
            for k, v in fields.items() if k in CAMPAIGN_FIELDS}


def _decode(row: Any) -> dict[str, Any]:
    out = dict(row)
    for k in _JSON_FIELDS:
        if out.get(k) is not None:
            out[k] = json.loads(out[k])
    return out


def insert_campaign(db: Database, fields: dict[str, Any], now: float) -> int:
    """Create a campaign row from allow-listed fields; returns its id."""
    values = _encode(fields)
    cols = list(values)
    cur = db.execute(f"INSERT INTO campaigns ({', '.join([*cols, 'created_at', 'updated_at'])})"
                     f" VALUES ({', '.join('?' * (len(cols) + 2))})", [*values.values(), now, now])
    return int(cur.lastrowid)


def update_campaign(db: Database, campaign_id: int, fields: dict[str, Any], now: float,
                    *, only_if_state: Sequence[str] = ()) -> bool:
    """Change allow-listed fields; with only_if_state, only while the campaign is in one of those states."""
    values = _encode(fields)
    guard = f" AND state IN ({', '.join('?' * len(only_if_state))})" if only_if_state else ""
    cur = db.execute(f"UPDATE campaigns SET {', '.join(f'{c} = ?' for c in values)}, updated_at = ?"
                     f" WHERE id = ?{guard}", [*values.values(), now, campaign_id, *only_if_state])
    return bool(cur.rowcount)


def get_campaign(db: Database, campaign_id: int) -> dict[str, Any] | None:
    """A campaign row with its JSON fields decoded, or None."""
    row = db.execute("SELECT * FROM campaigns WHERE id = ?", [campaign_id]).fetchone()
    return _decode(row) if row else None


def campaign_by_automation(db: Database, automation: str) -> dict[str, Any] | None:
    """The campaign that carries a built-in automation, or None."""
    row = db.execute("SELECT * FROM campaigns WHERE automation = ?", [automation]).fetchone()
    return _decode(row) if row else None


def list_campaigns(db: Database, *, states: Iterable[str] = (), limit: int = 200) -> list[dict[str, Any]]:
    """Campaigns, newest first, optionally only in some states."""
    states = list(states)
    where = f"WHERE state IN ({', '.join('?' * len(states))})" if states else ""
    return [_decode(r) for r in db.execute(f"SELECT * FROM campaigns {where} ORDER BY id DESC LIMIT ?",
                                           [*states, limit])]


def runs(db: Database, campaign_id: int) -> list[dict[str, Any]]:
    """The fired occurrences of a campaign, oldest first."""
    return [{**dict(r), "skipped": json.loads(r["skipped"])}
            for r in db.execute("SELECT * FROM campaign_runs WHERE campaign_id = ? ORDER BY id", [campaign_id])]


def claim_occurrence(db: Database, campaign_id: int, occurrence: str, scheduled_for: float | None,
                     now: float) -> int | None:
    """Record that an occurrence fires; None when it already fired (the unique key is the never-twice guard)."""
    cur = db.execute("""INSERT INTO campaign_runs (campaign_id, occurrence, scheduled_for, fired_at)
                        VALUES (?, ?, ?, ?) ON CONFLICT (campaign_id, occurrence) DO NOTHING""",
                     [campaign_id, occurrence, scheduled_for, now])
    if not cur.rowcount:
        return None
    db.execute("UPDATE campaigns SET last_fired_at = ?, updated_at = ? WHERE id = ?",
               [scheduled_for if scheduled_for is not None else now, now, campaign_id])
    return int(cur.lastrowid)


def finish_run(db: Database, run_id: int, targeted: int, queued: int, skipped: dict[str, int]) -> None:
    """Store an occurrence's counts."""
    db.execute("UPDATE campaign_runs SET targeted = ?, queued = ?, skipped = ? WHERE id = ?",
               [targeted, queued, json.dumps(skipped), run_id])


def enqueue_many(db: Database, rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert campaign messages in one statement; rows are (phone, contact_id, body, class, priority, campaign_id,
    idempotency_key, next_attempt_at, parts_total, encoding, created_by, created_at, updated_at).

    Returns how many were new (a repeated idempotency key is skipped).
    """
    before = db.conn.total_changes
    db.conn.executemany(
        """INSERT INTO outbox (phone, contact_id, body, class, priority, campaign_id, idempotency_key,
               next_attempt_at, parts_total, encoding, created_by, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (idempotency_key) DO NOTHING""",
        rows,
    )
    return db.conn.total_changes - before


def hold_queued(db: Database, campaign_id: int, reason: str, now: float) -> int:
    """Pause: the campaign's queued messages wait as held with the reason; returns how many."""
    return db.execute("""UPDATE outbox SET state = 'held', last_error = ?, updated_at = ?
                         WHERE campaign_id = ? AND state = 'queued'""", [reason, now, campaign_id]).rowcount


def release_held(db: Database, campaign_id: int, reason: str, now: float) -> int:
    """Resume: messages held with exactly this reason go back to the queue; returns how many."""
    return db.execute("""UPDATE outbox SET state = 'queued', last_error = NULL, updated_at = ?
                         WHERE campaign_id = ? AND state = 'held' AND last_error = ?""",
                      [now, campaign_id, reason]).rowcount


def cancel_open(db: Database, campaign_id: int, reason: str, now: float) -> int:
    """Cancel: the campaign's queued and held messages are cancelled with the reason; returns how many."""
    return db.execute("""UPDATE outbox SET state = 'cancelled', last_error = ?, done_at = ?, updated_at = ?
                         WHERE campaign_id = ? AND state IN ('queued', 'held')""",
                      [reason, now, now, campaign_id]).rowcount


def open_messages(db: Database, campaign_id: int) -> int:
    """Messages of a campaign still waiting or in flight."""
    return int(db.execute("""SELECT count(*) FROM outbox WHERE campaign_id = ?
                             AND state IN ('queued', 'sending', 'held', 'uncertain')""",
                          [campaign_id]).fetchone()[0])


def message_counts(db: Database, campaign_id: int) -> dict[str, int]:
    """Number of a campaign's messages in each outbox state."""
    return {r[0]: int(r[1]) for r in db.execute(
        "SELECT state, count(*) FROM outbox WHERE campaign_id = ? GROUP BY state", [campaign_id])}


def cancel_reasons(db: Database, campaign_id: int) -> dict[str, int]:
    """Cancelled messages of a campaign grouped by the reason the claim gave."""
    return {r[0] or "": int(r[1]) for r in db.execute(
        "SELECT last_error, count(*) FROM outbox WHERE campaign_id = ? AND state = 'cancelled' GROUP BY last_error",
        [campaign_id])}


def replied(db: Database, campaign_id: int, window_s: float) -> int:
    """Recipients who sent anything within window_s after their campaign message was sent."""
    row = db.execute(
        """SELECT count(DISTINCT o.phone) FROM outbox o
           WHERE o.campaign_id = ? AND o.sent_at IS NOT NULL AND EXISTS (
               SELECT 1 FROM inbox i WHERE i.phone = o.phone AND i.received_at >= o.sent_at
                   AND i.received_at <= o.sent_at + ?)""",
        [campaign_id, window_s]).fetchone()
    return int(row[0])


def opted_out_after(db: Database, campaign_id: int) -> int:
    """Recipients who opted out after a message of this campaign was sent to them."""
    row = db.execute(
        """SELECT count(DISTINCT o.phone) FROM outbox o JOIN contacts c ON c.phone = o.phone
           WHERE o.campaign_id = ? AND o.sent_at IS NOT NULL AND c.opted_out_at >= o.sent_at""",
        [campaign_id]).fetchone()
    return int(row[0])


# --- coupons ---------------------------------------------------------------------------------------------------


def insert_coupons(db: Database, rows: Sequence[tuple[str, int | None, str, int, float]]) -> int:
    """Insert (code, campaign_id, occurrence, contact_id, issued_at) rows, skipping taken codes and recipients
    that already hold one for that occurrence; returns how many were inserted."""
    before = db.conn.total_changes
    db.conn.executemany("""INSERT OR IGNORE INTO coupons (code, campaign_id, occurrence, contact_id, issued_at)
                           VALUES (?, ?, ?, ?, ?)""", rows)
    return db.conn.total_changes - before


def coupon_codes(db: Database, campaign_id: int, occurrence: str) -> dict[int, str]:
    """contact_id → code for one occurrence of a campaign."""
    return {int(r[0]): r[1] for r in db.execute(
        "SELECT contact_id, code FROM coupons WHERE campaign_id = ? AND occurrence = ? AND contact_id IS NOT NULL",
        [campaign_id, occurrence])}


def get_coupon(db: Database, code: str) -> dict[str, Any] | None:
    """A coupon by code (case-insensitive), or None."""
    row = db.execute("SELECT * FROM coupons WHERE code = upper(?)", [code.strip()]).fetchone()
    return dict(row) if row else None


def redeem_coupon(db: Database, code: str, by: str, now: float, order_ref: str | None) -> bool:
    """Mark a coupon redeemed unless it already is; True when this call redeemed it."""
    cur = db.execute("""UPDATE coupons SET redeemed_at = ?, redeemed_by = ?, order_ref = ?
                        WHERE code = upper(?) AND redeemed_at IS NULL""", [now, by, order_ref, code.strip()])
    return bool(cur.rowcount)


def coupon_counts(db: Database, campaign_id: int) -> tuple[int, int]:
    """(issued, redeemed) coupons of a campaign."""
    row = db.execute("SELECT count(*), count(redeemed_at) FROM coupons WHERE campaign_id = ?",
                     [campaign_id]).fetchone()
    return int(row[0]), int(row[1])


# --- helpers for segments and jobs ------------------------------------------------------------------------------


def table_columns(db: Database, table: str) -> set[str]:
    """Column names of a table (empty when it does not exist): optional joins to other domains' tables."""
    return {r[1] for r in db.execute(f"PRAGMA table_info({json.dumps(table)})")}


def _casefold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def select(db: Database, sql: str, params: Sequence[Any]) -> list[Any]:
    """Run a SELECT built by the segment compiler from allow-listed fragments (never from user text).

    `casefold(x)` is available to it: SQLite's own lower() folds ASCII only, not Cyrillic.
    """
    db.conn.create_function("casefold", 1, _casefold, deterministic=True)
    return db.execute(sql, list(params)).fetchall()


def mark_job(db: Database, key: str, now: float) -> bool:
    """Record a once-only job key in settings (e.g. a day's retention run); False when it was already there."""
    cur = db.execute("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
                     [f"job.{key}", json.dumps(now), now])
    return bool(cur.rowcount)
