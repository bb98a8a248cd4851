"""Segments: filters over the contact base compiled to SQL from allow-listed fragments, saved by name.

A filter is a plain dict (what a web form or a saved segment holds). Every key is checked against `FILTERS`;
values are always bound parameters, never spliced into SQL, and attribute names must be plain words. Keys:

    role: ["customer", "agent", "staff"]       tags_any / tags_all / tags_none: ["vip", ...]
    agent_id: 12, with_downline: true          attributes: {"city": "Казань", "gender": "ж"}
    consent: "advertising" | "none"            no_order_days: 30 (last order older than N days, or never)
    order_days_ago: 7 (last order N days ago)  birthday_today: true (in the office's time zone)
    phones: ["+7916...", ...]                  ids: [1, 2, 3]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gateway import store
from gateway.errors import UserInputError
from gateway.store import campaigns as cstore

FILTERS = ("role", "tags_any", "tags_all", "tags_none", "agent_id", "with_downline", "attributes", "consent",
           "no_order_days", "order_days_ago", "birthday_today", "phones", "ids")
_ROLES = ("customer", "agent", "staff")
_ATTR_RE = re.compile(r"\w{1,40}")
SAMPLE_SIZE = 10

# What a recipient row carries: enough to screen consent and render every template field.
RECIPIENT_COLUMNS = """c.id, c.phone, c.name, c.role, c.attributes, c.consent_advertising, c.opted_out_at,
    c.bulk_paused_at, c.conflict_agent_id, a.name AS agent_name, a.phone AS agent_phone"""


@dataclass(frozen=True)
class Recipient:
    """One contact a segment selects, with what screening and templates need."""

    id: int
    phone: str
    name: str
    role: str
    attributes: str  # JSON text, decoded only when a template needs it
    consent_advertising: int
    opted_out_at: float | None
    bulk_paused_at: float | None
    conflict_agent_id: int | None
    agent_name: str | None
    agent_phone: str | None


def validate(filters: Mapping[str, Any]) -> dict[str, Any]:
    """The filters checked key by key; raises UserInputError naming the bad key."""
    if not isinstance(filters, Mapping):
        raise UserInputError("segment filters must be a mapping")
    out: dict[str, Any] = {}
    for key, value in filters.items():
        if key not in FILTERS:
            raise UserInputError(f"unknown segment filter {key!r}; known: {', '.join(FILTERS)}")
        if value is None or value == [] or value == {}:
            continue
        if key == "role":
            roles = [value] if isinstance(value, str) else list(value)
            if not roles or any(r not in _ROLES for r in roles):
                raise UserInputError(f"role must be among {', '.join(_ROLES)}")
            value = roles
        elif key in ("tags_any", "tags_all", "tags_none", "phones"):
            value = [value] if isinstance(value, str) else [str(v) for v in value]
        elif key == "ids":
            value = [int(v) for v in value]
        elif key in ("agent_id", "no_order_days", "order_days_ago"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise UserInputError(f"{key} must be a whole number ≥ 0")
        elif key in ("with_downline", "birthday_today"):
            value = bool(value)
        elif key == "attributes":
            if not isinstance(value, Mapping) or not all(_ATTR_RE.fullmatch(str(k)) for k in value):
                raise UserInputError("attributes must map plain attribute names to values")
            value = {str(k): str(v) for k, v in value.items()}
        elif key == "consent" and value not in ("advertising", "none"):
            raise UserInputError("consent must be 'advertising' or 'none'")
        out[key] = value
    return out


def _compile(db: store.Database, filters: Mapping[str, Any], now: float, zone: str) -> tuple[str, list[Any]]:
    """WHERE clause and parameters of validated filters."""
    where, params = ["c.erased_at IS NULL"], []
    f = validate(filters)
    if "role" in f:
        where.append(f"c.role IN ({', '.join('?' * len(f['role']))})")
        params += f["role"]
    if "tags_any" in f:
        where.append(f"EXISTS (SELECT 1 FROM json_each(c.tags) WHERE value IN ({', '.join('?' * len(f['tags_any']))}))")
        params += f["tags_any"]
    for t in f.get("tags_all", []):
        where.append("EXISTS (SELECT 1 FROM json_each(c.tags) WHERE value = ?)")
        params.append(t)
    if "tags_none" in f:
        where.append(f"NOT EXISTS (SELECT 1 FROM json_each(c.tags) WHERE value IN "
                     f"({', '.join('?' * len(f['tags_none']))}))")
        params += f["tags_none"]
    if "agent_id" in f:
        if f.get("with_downline"):
            where.append("""c.agent_id IN (WITH RECURSIVE down(id) AS (SELECT ? UNION
                            SELECT x.id FROM contacts x JOIN down d ON x.upline_id = d.id) SELECT id FROM down)""")
        else:
            where.append("c.agent_id = ?")
        params.append(f["agent_id"])
    for key, value in f.get("attributes", {}).items():
        where.append("casefold(json_extract(c.attributes, ?)) = casefold(?)")
        params += [f'$."{key}"', value]
    if f.get("consent") == "advertising":
        where.append("c.consent_advertising = 1 AND c.opted_out_at IS NULL")
    elif f.get("consent") == "none":
        where.append("(c.consent_advertising = 0 OR c.opted_out_at IS NOT NULL)")
    if "no_order_days" in f or "order_days_ago" in f:
        columns = cstore.table_columns(db, "orders")
        link = " OR ".join(f"o.{col} = c.id" for col in ("contact_id", "agent_id") if col in columns) or "0"
        if "no_order_days" in f:
            where.append(f"NOT EXISTS (SELECT 1 FROM orders o WHERE ({link}) AND o.created_at >= ?)"
                         if columns else "1")
            params += [now - f["no_order_days"] * 86400] if columns else []
        if "order_days_ago" in f:
            if not columns:
                where.append("0")
            else:  # the last order falls on the day N days back (in the office's zone)
                day_start = _day_start(now, zone) - f["order_days_ago"] * 86400
                where.append(f"(SELECT max(o.created_at) FROM orders o WHERE ({link})) BETWEEN ? AND ?")
                params += [day_start, day_start + 86400 - 0.001]
    if f.get("birthday_today"):
        today = datetime.fromtimestamp(now, ZoneInfo(zone)).strftime("%m-%d")
        where.append("substr(json_extract(c.attributes, '$.birthday'), -5) = ?")
        params.append(today)
    if "phones" in f:
        where.append(f"c.phone IN ({', '.join('?' * len(f['phones']))})")
        params += f["phones"]
    if "ids" in f:
        where.append(f"c.id IN ({', '.join('?' * len(f['ids']))})")
        params += f["ids"]
    return " AND ".join(where), params


def _day_start(now: float, zone: str) -> float:
    local = datetime.fromtimestamp(now, ZoneInfo(zone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def resolve(db: store.Database, filters: Mapping[str, Any], *, now: float, zone: str,
            limit: int | None = None) -> list[Recipient]:
    """The contacts a filter selects, by id."""
    where, params = _compile(db, filters, now, zone)
    sql = (f"SELECT {RECIPIENT_COLUMNS} FROM contacts c LEFT JOIN contacts a ON a.id = c.agent_id"
           f" WHERE {where} ORDER BY c.id")
    if limit is not None:
        sql += " LIMIT ?"
        params = [*params, limit]
    return [Recipient(*row) for row in cstore.select(db, sql, params)]


def count(db: store.Database, filters: Mapping[str, Any], *, now: float, zone: str) -> int:
    """How many contacts a filter selects."""
    where, params = _compile(db, filters, now, zone)
    return int(cstore.select(db, f"SELECT count(*) FROM contacts c WHERE {where}", params)[0][0])


def sample(db: store.Database, filters: Mapping[str, Any], *, now: float, zone: str,
           size: int = SAMPLE_SIZE) -> list[Recipient]:
    """The first few contacts a filter selects (to check a segment before sending)."""
    return resolve(db, filters, now=now, zone=zone, limit=size)


def save(db: store.Database, name: str, filters: Mapping[str, Any], *, now: float) -> int:
    """Save (or replace) a segment under a name; returns its id."""
    if not name.strip():
        raise UserInputError("a segment needs a name")
    return cstore.save_segment(db, name.strip(), validate(filters), now)


def load(db: store.Database, segment: int | str) -> dict[str, Any]:
    """A saved segment by id or name; raises UserInputError when there is none."""
    row = cstore.get_segment(db, segment)
    if row is None:
        raise UserInputError(f"no segment {segment!r}")
    return row


def list_all(db: store.Database) -> list[dict[str, Any]]:
    """Every saved segment."""
    return cstore.list_segments(db)


def delete(db: store.Database, segment_id: int) -> None:
    """Delete a saved segment."""
    cstore.delete_segment(db, segment_id)
