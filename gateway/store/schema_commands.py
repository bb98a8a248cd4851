"""Migrations of the commands domain: SMS commands: product catalogue, orders and their lines, the bonus ledger, polls and their answers, auto-reply log.

Append functions; never edit one that has been applied. Use `run_script` for DDL.

Money is integer kopecks (`*_kop`), points are REAL (catalogues give fractional points). Idempotency per inbound
message is kept by `UNIQUE (inbox_id)` on what a command creates (orders, broadcasts), so re-handling a message
after a crash can never create a second one.
"""

from __future__ import annotations

from sqlite_utils import Database  # noqa: F401  (migration functions take the database)
from sqlite_utils.migrations import Migrations

from gateway.store.schema import run_script  # noqa: F401

MIGRATIONS = Migrations("smsgw-commands")


@MIGRATIONS()
def m001_catalogue_orders_bonus_polls(db: Database) -> None:
    run_script(
        db,
        """
CREATE TABLE catalogue (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    price_kop INTEGER NOT NULL DEFAULT 0 CHECK (price_kop >= 0),
    points REAL NOT NULL DEFAULT 0 CHECK (points >= 0),
    active INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    number TEXT UNIQUE,
    inbox_id INTEGER UNIQUE REFERENCES inbox(id) ON DELETE SET NULL,
    phone TEXT NOT NULL,
    contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    agent_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    form TEXT NOT NULL CHECK (form IN ('full', 'short')),
    consultant TEXT,
    spo TEXT,
    payment TEXT CHECK (payment IS NULL OR payment IN ('credit', 'immediate')),
    refuse_reserve INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'new',
    total_kop INTEGER NOT NULL DEFAULT 0,
    points REAL NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE INDEX orders_phone ON orders(phone, status);
CREATE INDEX orders_agent ON orders(agent_id, created_at);
CREATE TABLE order_lines (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    qty INTEGER NOT NULL CHECK (qty > 0),
    price_kop INTEGER NOT NULL,
    points REAL NOT NULL,
    UNIQUE (order_id, seq)
);
CREATE TABLE bonus_ledger (
    id INTEGER PRIMARY KEY,
    agent_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    order_id INTEGER UNIQUE REFERENCES orders(id) ON DELETE SET NULL,
    amount_kop INTEGER NOT NULL,
    percent REAL,
    reason TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX bonus_ledger_agent ON bonus_ledger(agent_id, at);
CREATE TABLE agent_broadcasts (
    id INTEGER PRIMARY KEY,
    inbox_id INTEGER UNIQUE REFERENCES inbox(id) ON DELETE SET NULL,
    agent_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    recipients INTEGER NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX agent_broadcasts_agent ON agent_broadcasts(agent_id, at);
CREATE TABLE polls (
    id INTEGER PRIMARY KEY,
    question TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL,
    campaign_id INTEGER,
    opens_at REAL NOT NULL,
    closes_at REAL NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX polls_campaign ON polls(campaign_id);
CREATE TABLE poll_recipients (
    poll_id INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    phone TEXT NOT NULL,
    added_at REAL NOT NULL,
    PRIMARY KEY (poll_id, phone)
);
CREATE INDEX poll_recipients_phone ON poll_recipients(phone);
CREATE TABLE poll_answers (
    id INTEGER PRIMARY KEY,
    poll_id INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    phone TEXT NOT NULL,
    option TEXT NOT NULL,
    inbox_id INTEGER REFERENCES inbox(id) ON DELETE SET NULL,
    answered_at REAL NOT NULL,
    UNIQUE (poll_id, phone)
)
""",
    )


@MIGRATIONS()
def m002_order_coupon_bonus_reversal(db: Database) -> None:
    # A cancelled order takes its bonus back with a negative ledger entry that names the credit it reverses;
    # the partial unique index keeps it to one reversal per credit. `orders.coupon` is the coupon redeemed
    # with the order (the `coupons` table of the campaigns domain holds the redemption itself).
    run_script(
        db,
        """
ALTER TABLE orders ADD COLUMN coupon TEXT;
ALTER TABLE bonus_ledger ADD COLUMN reverses INTEGER REFERENCES bonus_ledger(id) ON DELETE SET NULL;
CREATE UNIQUE INDEX bonus_ledger_reverses ON bonus_ledger(reverses) WHERE reverses IS NOT NULL;
CREATE INDEX orders_status ON orders(status, id)
""",
    )


@MIGRATIONS()
def m003_order_note(db: Database) -> None:
    # Free text a customer wrote after a complete order ("заберу в пятницу"): kept for the agent and staff.
    run_script(db, "ALTER TABLE orders ADD COLUMN note TEXT")
