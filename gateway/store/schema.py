"""Schema migrations (sqlite-utils `Migrations`): append new functions, never edit an applied one.

The core set lives here; each domain keeps its own set in its own module (`schema_commands`,
`schema_campaigns`, `schema_web`), so work on one domain never reorders another's migrations. `ALL_SETS`
lists them in the order they are applied; a later set may reference tables of an earlier one.

Times are Unix seconds (REAL). States are the string values of the StrEnums in `gateway.states`.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("smsgw")


def run_script(db: Database, script: str) -> None:
    """Execute `;`-separated DDL statements one by one (executescript would commit mid-migration)."""
    for statement in script.split(";\n"):
        if statement.strip():
            db.execute(statement)


@MIGRATIONS()
def m001_initial(db: Database) -> None:
    run_script(
        db,
        """
CREATE TABLE modems (
    id INTEGER PRIMARY KEY,
    imei TEXT NOT NULL UNIQUE,
    imsi TEXT, iccid TEXT, msisdn TEXT,
    name TEXT, manufacturer TEXT, model TEXT, revision TEXT, profile TEXT,
    port TEXT,
    status TEXT NOT NULL DEFAULT 'offline',
    rssi INTEGER, signal_dbm INTEGER, registration TEXT, operator TEXT,
    last_error TEXT, last_seen REAL,
    concat_ref INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    phone TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL DEFAULT 'customer' CHECK (role IN ('customer', 'agent', 'staff')),
    agent_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    upline_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    agent_code TEXT UNIQUE,
    tags TEXT NOT NULL DEFAULT '[]',
    attributes TEXT NOT NULL DEFAULT '{}',
    timezone TEXT,
    lang TEXT,
    notes TEXT NOT NULL DEFAULT '',
    consent_service INTEGER NOT NULL DEFAULT 1,
    consent_advertising INTEGER NOT NULL DEFAULT 0,
    opted_out_at REAL,
    bulk_paused_at REAL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE INDEX contacts_agent ON contacts(agent_id);
CREATE TABLE consent_events (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    phone TEXT NOT NULL,
    class TEXT NOT NULL CHECK (class IN ('service', 'advertising')),
    action TEXT NOT NULL CHECK (action IN ('granted', 'withdrawn')),
    source TEXT NOT NULL,
    text_version TEXT,
    user_id INTEGER,
    evidence TEXT,
    inbox_id INTEGER,
    at REAL NOT NULL
);
CREATE INDEX consent_events_phone ON consent_events(phone, at);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    phone TEXT NOT NULL,
    contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    class TEXT NOT NULL DEFAULT 'service' CHECK (class IN ('service', 'advertising')),
    priority INTEGER NOT NULL DEFAULT 1,
    state TEXT NOT NULL DEFAULT 'queued',
    campaign_id INTEGER,
    reply_to INTEGER,
    pinned_modem_id INTEGER REFERENCES modems(id),
    modem_id INTEGER REFERENCES modems(id),
    idempotency_key TEXT UNIQUE,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    expires_at REAL,
    parts_total INTEGER,
    encoding TEXT,
    concat_ref INTEGER,
    last_error TEXT,
    created_by TEXT,
    created_at REAL NOT NULL, updated_at REAL NOT NULL,
    sending_at REAL, sent_at REAL, done_at REAL
);
CREATE INDEX outbox_ready ON outbox(state, priority, next_attempt_at, id);
CREATE INDEX outbox_phone ON outbox(phone, state);
CREATE INDEX outbox_campaign ON outbox(campaign_id, state);
CREATE TABLE outbox_parts (
    id INTEGER PRIMARY KEY,
    outbox_id INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    series INTEGER NOT NULL DEFAULT 1,
    seq INTEGER NOT NULL,
    modem_id INTEGER NOT NULL REFERENCES modems(id),
    mr INTEGER,
    state TEXT NOT NULL DEFAULT 'sent',
    status INTEGER,
    sent_at REAL NOT NULL,
    report_at REAL,
    UNIQUE (outbox_id, series, seq)
);
CREATE INDEX outbox_parts_pacing ON outbox_parts(modem_id, sent_at);
CREATE INDEX outbox_parts_mr ON outbox_parts(modem_id, mr, state);
CREATE TABLE inbox (
    id INTEGER PRIMARY KEY,
    phone TEXT NOT NULL,
    sender_kind TEXT NOT NULL DEFAULT 'international',
    modem_id INTEGER REFERENCES modems(id),
    body TEXT,
    encoding TEXT,
    sent_at REAL,
    received_at REAL NOT NULL,
    parts_total INTEGER NOT NULL DEFAULT 1,
    parts_received INTEGER NOT NULL DEFAULT 1,
    partial INTEGER NOT NULL DEFAULT 0,
    undecodable INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'new',
    command TEXT,
    handled_at REAL
);
CREATE INDEX inbox_phone ON inbox(phone, received_at);
CREATE INDEX inbox_state ON inbox(state, id);
CREATE TABLE inbox_parts (
    id INTEGER PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    modem_id INTEGER REFERENCES modems(id),
    sender TEXT,
    concat_ref INTEGER, total INTEGER NOT NULL DEFAULT 1, seq INTEGER NOT NULL DEFAULT 1,
    pdu TEXT NOT NULL,
    text TEXT,
    sent_at REAL,
    stored_at REAL NOT NULL,
    inbox_id INTEGER REFERENCES inbox(id)
);
CREATE INDEX inbox_parts_join ON inbox_parts(inbox_id, sender, concat_ref, total);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'agent')),
    contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    lang TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until REAL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at REAL NOT NULL
)
""",
    )
