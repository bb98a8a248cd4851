"""Modems known by identity (IMEI), their last status and their persistent concatenation counter."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from gateway.store import settings

_STATUS_FIELDS = ("status", "rssi", "signal_dbm", "registration", "operator", "last_error", "port")
_IDENTITY_FIELDS = ("imsi", "iccid", "msisdn", "name", "manufacturer", "model", "revision", "profile", "port")


def upsert_identity(db: Database, imei: str, now: float, **identity: Any) -> int:
    """Record a modem by IMEI (creating it on first sight); returns its id."""
    unknown = set(identity) - set(_IDENTITY_FIELDS)
    if unknown:
        raise ValueError(f"unknown modem fields: {sorted(unknown)}")
    row = db.execute("SELECT id FROM modems WHERE imei = ?", [imei]).fetchone()
    if row is None:
        cols = ["imei", "created_at", "updated_at", *identity]
        cur = db.execute(
            f"INSERT INTO modems ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [imei, now, now, *identity.values()],
        )
        return int(cur.lastrowid)
    if identity:
        sets = ", ".join(f"{k} = ?" for k in identity)
        db.execute(f"UPDATE modems SET {sets}, updated_at = ? WHERE id = ?", [*identity.values(), now, row[0]])
    return int(row[0])


def update_status(db: Database, modem_id: int, now: float, **fields: Any) -> None:
    """Store what the worker last saw of a modem (status, signal, registration, operator, error, port)."""
    unknown = set(fields) - set(_STATUS_FIELDS)
    if unknown:
        raise ValueError(f"unknown modem status fields: {sorted(unknown)}")
    sets = "".join(f"{k} = ?, " for k in fields)
    db.execute(f"UPDATE modems SET {sets}last_seen = ?, updated_at = ? WHERE id = ?",
               [*fields.values(), now, now, modem_id])


def list_modems(db: Database) -> list[dict[str, Any]]:
    """Every modem ever seen, by id."""
    return [dict(r) for r in db.execute("SELECT * FROM modems ORDER BY id")]


def next_concat_ref(db: Database, modem_id: int) -> int:
    """Take the next 8-bit concatenation reference of a modem (persisted, so a restart never reuses one soon)."""
    row = db.execute(
        "UPDATE modems SET concat_ref = (concat_ref + 1) % 256 WHERE id = ? RETURNING concat_ref", [modem_id]
    ).fetchone()
    if row is None:
        raise ValueError(f"no modem with id {modem_id}")
    return int(row[0])


def remember_refused_pin(db: Database, imei: str, pin_digest: str, now: float) -> None:
    """Remember that this modem's SIM refused a PIN, so the same PIN is never tried again (3 tries lock it)."""
    settings.put(db, f"pin_refused:{imei}", pin_digest, now)


def refused_pin(db: Database, imei: str) -> str | None:
    """The digest of the PIN this modem's SIM last refused, if any."""
    return settings.get(db, f"pin_refused:{imei}")
