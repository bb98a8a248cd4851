"""SQL of the SMS command domain: settings, catalogue, orders, bonus ledger, agent broadcasts, polls."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from gateway.store import settings

# --- settings (key/value, core table) ---------------------------------------------------------------------


def get_setting(db: Database, key: str, default: str) -> str:
    """A setting's stored value, or the default when it was never set."""
    value = settings.get(db, key)
    return default if value is None else value


set_setting = settings.put


# --- catalogue --------------------------------------------------------------------------------------------


def catalogue_get(db: Database, code: str) -> dict[str, Any] | None:
    """The active catalogue entry with this code, or None."""
    row = db.execute("SELECT * FROM catalogue WHERE code = ? AND active = 1", [code]).fetchone()
    return dict(row) if row else None


def catalogue_upsert(db: Database, code: str, name: str, price_kop: int, points: float, now: float) -> str:
    """Create or update one product; returns 'created', 'updated' or 'unchanged'."""
    row = db.execute("SELECT name, price_kop, points, active FROM catalogue WHERE code = ?", [code]).fetchone()
    if row is None:
        db.execute("INSERT INTO catalogue (code, name, price_kop, points, active, created_at, updated_at)"
                   " VALUES (?, ?, ?, ?, 1, ?, ?)", [code, name, price_kop, points, now, now])
        return "created"
    if (row[0], row[1], float(row[2]), row[3]) == (name, price_kop, float(points), 1):
        return "unchanged"
    db.execute("UPDATE catalogue SET name = ?, price_kop = ?, points = ?, active = 1, updated_at = ? WHERE code = ?",
               [name, price_kop, points, now, code])
    return "updated"


def catalogue_count(db: Database) -> int:
    """Number of active products."""
    return int(db.execute("SELECT count(*) FROM catalogue WHERE active = 1").fetchone()[0])


# --- contacts as the command layer sees them --------------------------------------------------------------


def agent_by_phone(db: Database, phone: str) -> dict[str, Any] | None:
    """The agent with this number, or None."""
    row = db.execute("SELECT * FROM contacts WHERE phone = ? AND role = 'agent'", [phone]).fetchone()
    return dict(row) if row else None


def agent_by_code(db: Database, code: str) -> dict[str, Any] | None:
    """The agent with this agent code (consultant number), compared case-insensitively, or None."""
    row = db.execute("SELECT * FROM contacts WHERE upper(agent_code) = upper(?) AND role = 'agent'",
                     [code]).fetchone()
    return dict(row) if row else None


def contact_by_id(db: Database, contact_id: int) -> dict[str, Any] | None:
    """One contact by id, or None."""
    row = db.execute("SELECT * FROM contacts WHERE id = ?", [contact_id]).fetchone()
    return dict(row) if row else None


_CONTACT_FIELDS = frozenset({"name", "role", "agent_id", "lang"})


def update_contact(db: Database, contact_id: int, now: float, **fields: Any) -> None:
    """Set some of a contact's name, role, owning agent and language."""
    unknown = set(fields) - _CONTACT_FIELDS
    if unknown:
        raise ValueError(f"unknown contact fields: {sorted(unknown)}")
    if fields:
        sets = "".join(f"{k} = ?, " for k in fields)
        db.execute(f"UPDATE contacts SET {sets}updated_at = ? WHERE id = ?", [*fields.values(), now, contact_id])


def pause_bulk(db: Database, phone: str, now: float) -> None:
    """Tier-2 opt-out intent: bulk sending to the number is held until staff review (kept if already paused)."""
    db.execute("UPDATE contacts SET bulk_paused_at = coalesce(bulk_paused_at, ?), updated_at = ? WHERE phone = ?",
               [now, now, phone])


def auto_replies_since(db: Database, phone: str, since: float) -> int:
    """Automatic replies (outbox rows answering an inbound message) queued to a number since a time."""
    return int(db.execute("SELECT count(*) FROM outbox WHERE phone = ? AND reply_to IS NOT NULL AND created_at > ?",
                          [phone, since]).fetchone()[0])


# --- orders -----------------------------------------------------------------------------------------------


def add_order(db: Database, *, inbox_id: int | None, phone: str, contact_id: int | None, agent_id: int | None,
              form: str, consultant: str | None, spo: str | None, payment: str | None, refuse_reserve: bool,
              status: str, lines: Sequence[tuple[str, str, int, int, float]], now: float,
              note: str | None = None) -> dict[str, Any]:
    """Store an order with its lines (code, name, qty, unit price, unit points), note and human number."""
    total = sum(qty * price for _, _, qty, price, _ in lines)
    points = sum(qty * pts for _, _, qty, _, pts in lines)
    cur = db.execute(
        """INSERT INTO orders (inbox_id, phone, contact_id, agent_id, form, consultant, spo, payment, refuse_reserve,
               status, total_kop, points, note, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [inbox_id, phone, contact_id, agent_id, form, consultant, spo, payment, int(refuse_reserve), status, total,
         points, note, now, now])
    order_id = int(cur.lastrowid)
    number = f"{order_id:05d}"
    db.execute("UPDATE orders SET number = ? WHERE id = ?", [number, order_id])
    for seq, (code, name, qty, price, pts) in enumerate(lines, start=1):
        db.execute("INSERT INTO order_lines (order_id, seq, code, name, qty, price_kop, points)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)", [order_id, seq, code, name, qty, price, pts])
    return {"id": order_id, "number": number, "total_kop": total, "points": points}


def order_by_inbox(db: Database, inbox_id: int) -> dict[str, Any] | None:
    """The order an inbound message created, or None."""
    row = db.execute("SELECT * FROM orders WHERE inbox_id = ?", [inbox_id]).fetchone()
    return dict(row) if row else None


def order_lines(db: Database, order_id: int) -> list[dict[str, Any]]:
    """The lines of an order, in order."""
    return [dict(r) for r in db.execute("SELECT * FROM order_lines WHERE order_id = ? ORDER BY seq", [order_id])]


def open_orders(db: Database, phone: str, open_states: Sequence[str], limit: int = 5) -> list[dict[str, Any]]:
    """A customer's newest orders still in one of the open states."""
    marks = ",".join("?" * len(open_states))
    return [dict(r) for r in db.execute(
        f"SELECT * FROM orders WHERE phone = ? AND status IN ({marks}) ORDER BY id DESC LIMIT ?",
        [phone, *open_states, limit])]


def count_orders(db: Database) -> int:
    """Number of orders."""
    return int(db.execute("SELECT count(*) FROM orders").fetchone()[0])


# The only order filters a page may ask for; a filter maps to the statuses it shows.
ORDER_FILTERS: dict[str, tuple[str, ...]] = {
    "open": ("new", "confirmed", "ready"), "new": ("new",), "confirmed": ("confirmed",), "ready": ("ready",),
    "done": ("done",), "cancelled": ("cancelled",),
}
MAX_PAGE = 500
_ORDER_SELECT = """SELECT o.*, c.name AS customer_name, c.lang AS customer_lang, c.agent_id AS customer_agent_id,
           a.name AS agent_name, a.phone AS agent_phone, i.modem_id AS modem_id, i.body AS sms_body
    FROM orders o LEFT JOIN contacts c ON c.id = o.contact_id LEFT JOIN contacts a ON a.id = o.agent_id
    LEFT JOIN inbox i ON i.id = o.inbox_id"""


def orders_page(db: Database, *, agent_id: int | None = None, status: str | None = None, phone: str | None = None,
                before_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Orders newest first with customer and agent names, filtered by agent, status filter and number, keyset-paged.

    `status` is a key of `ORDER_FILTERS` (ValueError otherwise), so nothing a browser sends reaches the SQL text.
    """
    where, params = ["1 = 1"], []
    if status is not None:
        states = ORDER_FILTERS.get(status)
        if states is None:
            raise ValueError(f"unknown order filter {status!r}")
        where.append(f"o.status IN ({','.join('?' * len(states))})")
        params.extend(states)
    if agent_id is not None:
        where.append("o.agent_id = ?")
        params.append(agent_id)
    if phone:
        where.append("o.phone = ?")
        params.append(phone)
    if before_id is not None:
        where.append("o.id < ?")
        params.append(before_id)
    rows = db.execute(
        f"""SELECT o.id, o.number, o.phone, o.contact_id, o.agent_id, o.form, o.status, o.total_kop, o.points,
                   o.coupon, o.created_at, o.updated_at, c.name AS customer_name, a.name AS agent_name,
                   (SELECT count(*) FROM order_lines l WHERE l.order_id = o.id) AS line_count
            FROM orders o LEFT JOIN contacts c ON c.id = o.contact_id LEFT JOIN contacts a ON a.id = o.agent_id
            WHERE {' AND '.join(where)} ORDER BY o.id DESC LIMIT ?""", [*params, max(1, min(limit, MAX_PAGE))])
    return [dict(r) for r in rows]


def order_get(db: Database, order_id: int) -> dict[str, Any] | None:
    """One order with its customer, agent and the SIM (modem) its SMS came in on, without lines; or None."""
    row = db.execute(f"{_ORDER_SELECT} WHERE o.id = ?", [order_id]).fetchone()
    return dict(row) if row else None


def order_detail(db: Database, order_id: int) -> dict[str, Any] | None:
    """One order as `order_get` gives it plus its `lines` and its bonus (`bonus_kop`, net of any reversal); or None."""
    order = order_get(db, order_id)
    if order is None:
        return None
    order["lines"] = order_lines(db, order_id)
    order["bonus_kop"] = int(db.execute(
        """SELECT coalesce(sum(amount_kop), 0) FROM bonus_ledger WHERE order_id = ?1
           OR reverses IN (SELECT id FROM bonus_ledger WHERE order_id = ?1)""", [order_id]).fetchone()[0])
    return order


def set_order_status_row(db: Database, order_id: int, status: str, *, expected: str, now: float) -> bool:
    """Move an order from the `expected` status to another (compare-and-set); False when it was not in `expected`."""
    cur = db.execute("UPDATE orders SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
                     [status, now, order_id, expected])
    return bool(cur.rowcount)


def set_order_coupon(db: Database, order_id: int, code: str) -> None:
    """Record the coupon redeemed with an order."""
    db.execute("UPDATE orders SET coupon = ? WHERE id = ?", [code, order_id])


def count_agent_orders(db: Database, agent_id: int, states: Sequence[str]) -> int:
    """An agent's orders in one of these statuses."""
    marks = ",".join("?" * len(states)) or "''"
    return int(db.execute(f"SELECT count(*) FROM orders WHERE agent_id = ? AND status IN ({marks})",
                          [agent_id, *states]).fetchone()[0])


# --- bonus ledger -----------------------------------------------------------------------------------------


def credit_bonus(db: Database, agent_id: int, order_id: int | None, amount_kop: int, percent: float | None,
                 reason: str, now: float) -> int:
    """Append one ledger entry (one per order at most); returns its id."""
    cur = db.execute("INSERT INTO bonus_ledger (agent_id, order_id, amount_kop, percent, reason, at)"
                     " VALUES (?, ?, ?, ?, ?, ?)", [agent_id, order_id, amount_kop, percent, reason, now])
    return int(cur.lastrowid)


def reverse_bonus(db: Database, order_id: int, reason: str, now: float) -> int:
    """Take back the bonus an order credited (once: the reversal names its credit); returns the kopecks taken back."""
    credit = db.execute("SELECT id, agent_id, amount_kop, percent FROM bonus_ledger WHERE order_id = ?",
                        [order_id]).fetchone()
    if credit is None or credit["amount_kop"] == 0:
        return 0
    if db.execute("SELECT 1 FROM bonus_ledger WHERE reverses = ?", [credit["id"]]).fetchone():
        return 0
    db.execute("INSERT INTO bonus_ledger (agent_id, order_id, amount_kop, percent, reason, at, reverses)"
               " VALUES (?, NULL, ?, ?, ?, ?, ?)",
               [credit["agent_id"], -credit["amount_kop"], credit["percent"], reason, now, credit["id"]])
    return int(credit["amount_kop"])


def bonus_balance(db: Database, agent_id: int) -> int:
    """An agent's bonus balance in kopecks."""
    return int(db.execute("SELECT coalesce(sum(amount_kop), 0) FROM bonus_ledger WHERE agent_id = ?",
                          [agent_id]).fetchone()[0])


def agent_points_since(db: Database, agent_id: int, since: float, excluded_states: Sequence[str]) -> float:
    """Points of an agent's orders placed since a time, leaving out orders in the excluded states."""
    marks = ",".join("?" * len(excluded_states)) or "''"
    return float(db.execute(
        f"SELECT coalesce(sum(points), 0) FROM orders WHERE agent_id = ? AND created_at >= ?"
        f" AND status NOT IN ({marks})", [agent_id, since, *excluded_states]).fetchone()[0])


# --- agent broadcasts -------------------------------------------------------------------------------------


def broadcasts_since(db: Database, agent_id: int, since: float) -> int:
    """Broadcasts an agent sent since a time (for the daily cap)."""
    return int(db.execute("SELECT count(*) FROM agent_broadcasts WHERE agent_id = ? AND at >= ?",
                          [agent_id, since]).fetchone()[0])


def broadcast_audience(db: Database, agent_id: int) -> list[str]:
    """Numbers of the agent's own customers with advertising consent who have not opted out."""
    return [r[0] for r in db.execute(
        """SELECT phone FROM contacts WHERE agent_id = ? AND id != ? AND consent_advertising = 1
           AND opted_out_at IS NULL ORDER BY id""", [agent_id, agent_id])]


def broadcast_by_inbox(db: Database, inbox_id: int) -> dict[str, Any] | None:
    """The broadcast an inbound message queued, or None."""
    row = db.execute("SELECT * FROM agent_broadcasts WHERE inbox_id = ?", [inbox_id]).fetchone()
    return dict(row) if row else None


def add_broadcast(db: Database, inbox_id: int | None, agent_id: int, body: str, recipients: int, now: float) -> int:
    """Record an agent's broadcast (one per inbound message)."""
    cur = db.execute("INSERT INTO agent_broadcasts (inbox_id, agent_id, body, recipients, at) VALUES (?, ?, ?, ?, ?)",
                     [inbox_id, agent_id, body, recipients, now])
    return int(cur.lastrowid)


# --- polls ------------------------------------------------------------------------------------------------


def create_poll(db: Database, question: str, options: Sequence[str], opens_at: float, closes_at: float, now: float,
                *, campaign_id: int | None = None) -> int:
    """Create a poll; its options are matched against replies in the order given."""
    if not options:
        raise ValueError("a poll needs at least one option")
    cur = db.execute("INSERT INTO polls (question, options, campaign_id, opens_at, closes_at, created_at)"
                     " VALUES (?, ?, ?, ?, ?, ?)",
                     [question, json.dumps(list(options), ensure_ascii=False), campaign_id, opens_at, closes_at, now])
    return int(cur.lastrowid)


def add_poll_recipient(db: Database, poll_id: int, phone: str, now: float) -> None:
    """Record that a poll was sent to a number (a poll linked to a campaign needs no such rows)."""
    db.execute("INSERT INTO poll_recipients (poll_id, phone, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
               [poll_id, phone, now])


def open_poll_for(db: Database, phone: str, now: float) -> dict[str, Any] | None:
    """The newest poll open now that was sent to this number (listed as recipient, or via its campaign)."""
    row = db.execute(
        """SELECT * FROM polls p WHERE p.opens_at <= ?1 AND p.closes_at > ?1 AND (
               EXISTS (SELECT 1 FROM poll_recipients r WHERE r.poll_id = p.id AND r.phone = ?2)
               OR (p.campaign_id IS NOT NULL AND EXISTS (
                   SELECT 1 FROM outbox o WHERE o.campaign_id = p.campaign_id AND o.phone = ?2
                   AND o.state IN ('sent', 'delivered'))))
           ORDER BY p.opens_at DESC, p.id DESC LIMIT 1""", [now, phone]).fetchone()
    if row is None:
        return None
    poll = dict(row)
    poll["options"] = json.loads(poll["options"])
    return poll


def record_poll_answer(db: Database, poll_id: int, phone: str, option: str, inbox_id: int | None, now: float) -> None:
    """One answer per number and poll: a later answer replaces the earlier one."""
    db.execute(
        """INSERT INTO poll_answers (poll_id, phone, option, inbox_id, answered_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (poll_id, phone) DO UPDATE SET option = excluded.option, inbox_id = excluded.inbox_id,
               answered_at = excluded.answered_at""", [poll_id, phone, option, inbox_id, now])


def poll_tally(db: Database, poll_id: int) -> dict[str, int]:
    """Answers per option (every option present, 0 when nobody chose it)."""
    row = db.execute("SELECT options FROM polls WHERE id = ?", [poll_id]).fetchone()
    if row is None:
        raise ValueError(f"no poll {poll_id}")
    tally = {option: 0 for option in json.loads(row[0])}
    for option, n in db.execute("SELECT option, count(*) FROM poll_answers WHERE poll_id = ? GROUP BY option",
                                [poll_id]):
        tally[option] = n
    return tally
