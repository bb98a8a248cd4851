"""Migrations of the campaigns domain: contacts' extras, segments, templates, coupons, campaigns and their statistics.

Append functions; never edit one that has been applied. Use `run_script` for DDL.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from gateway.store.schema import run_script

MIGRATIONS = Migrations("smsgw-campaigns")


@MIGRATIONS()
def c001_campaigns(db: Database) -> None:
    # Core table extension (ADD COLUMN only): a second agent's claim on a number waits here for staff, and an
    # erased contact keeps only its number and opt-out state (the record that prevents re-contact).
    run_script(
        db,
        """
ALTER TABLE contacts ADD COLUMN conflict_agent_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL;
ALTER TABLE contacts ADD COLUMN erased_at REAL;
CREATE TABLE reminders (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    due_at REAL NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    created_by TEXT,
    created_at REAL NOT NULL,
    done_at REAL
);
CREATE INDEX reminders_due ON reminders(done_at, due_at);
CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    filters TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE templates (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    fallbacks TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    class TEXT NOT NULL CHECK (class IN ('service', 'advertising')),
    kind TEXT NOT NULL CHECK (kind IN ('bulk', 'transactional', 'poll')),
    state TEXT NOT NULL DEFAULT 'draft',
    filters TEXT NOT NULL DEFAULT '{}',
    segment_id INTEGER REFERENCES segments(id) ON DELETE SET NULL,
    template_id INTEGER REFERENCES templates(id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    fallbacks TEXT NOT NULL DEFAULT '{}',
    coupons INTEGER NOT NULL DEFAULT 0,
    coupon_prefix TEXT NOT NULL DEFAULT '',
    schedule TEXT NOT NULL DEFAULT 'now' CHECK (schedule IN ('now', 'at', 'recurring')),
    start_at REAL,
    cron TEXT,
    poll_options TEXT,
    reply_window_s REAL,
    held_reason TEXT,
    override_by TEXT,
    automation TEXT UNIQUE,
    created_by TEXT,
    created_at REAL NOT NULL, updated_at REAL NOT NULL,
    last_fired_at REAL
);
CREATE INDEX campaigns_state ON campaigns(state);
CREATE TABLE campaign_runs (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    occurrence TEXT NOT NULL,
    scheduled_for REAL,
    fired_at REAL NOT NULL,
    targeted INTEGER NOT NULL DEFAULT 0,
    queued INTEGER NOT NULL DEFAULT 0,
    skipped TEXT NOT NULL DEFAULT '{}',
    UNIQUE (campaign_id, occurrence)
);
CREATE TABLE coupons (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    campaign_id INTEGER REFERENCES campaigns(id) ON DELETE SET NULL,
    occurrence TEXT NOT NULL DEFAULT '',
    contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    issued_at REAL NOT NULL,
    redeemed_at REAL,
    redeemed_by TEXT,
    order_ref TEXT,
    UNIQUE (campaign_id, occurrence, contact_id)
);
CREATE INDEX coupons_contact ON coupons(contact_id)
""",
    )
