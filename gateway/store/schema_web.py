"""Migrations of the web domain: web sessions, API keys, webhooks and their deliveries.

Append functions; never edit one that has been applied. Use `run_script` for DDL.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from gateway.store.schema import run_script

MIGRATIONS = Migrations("smsgw-web")


@MIGRATIONS()
def w001_sessions_keys_webhooks(db: Database) -> None:
    # Session and API-key tokens are stored as SHA-256 digests only: a copy of the database gives no login.
    run_script(
        db,
        """
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_seen REAL NOT NULL,
    ip TEXT
);
CREATE INDEX web_sessions_user ON web_sessions(user_id);
CREATE TABLE login_throttle (
    username TEXT PRIMARY KEY COLLATE NOCASE,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until REAL,
    last_failure_at REAL
);
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_used_at REAL,
    revoked_at REAL
);
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL DEFAULT 'inbound,status',
    active INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE webhook_events (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('inbound', 'status')),
    ref_id INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT '',
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (kind, ref_id, state)
);
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    delivered_at REAL,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
CREATE TABLE web_cursors (
    name TEXT PRIMARY KEY,
    value REAL NOT NULL
);
-- Indexes on core tables for the pages (added here, in the web set; core columns are untouched).
CREATE INDEX IF NOT EXISTS outbox_updated ON outbox(updated_at);
CREATE INDEX IF NOT EXISTS outbox_created ON outbox(created_at);
CREATE INDEX IF NOT EXISTS outbox_state_done ON outbox(state, done_at);
CREATE INDEX IF NOT EXISTS contacts_opted_out ON contacts(opted_out_at);
CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log(actor, id);
CREATE INDEX IF NOT EXISTS audit_log_action ON audit_log(action, id)
""",
    )
