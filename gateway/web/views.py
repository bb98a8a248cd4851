"""Data the pages show, gathered from the store (kept apart from routing so the benchmark can time it)."""

from __future__ import annotations

import functools
from typing import Any

from gateway import profiles
from gateway.config import Config
from gateway.store import modems as store_modems
from gateway.store import outbox as store_outbox
from gateway.store import web as store_web


@functools.lru_cache(maxsize=32)
def _profile_caps(name: str) -> tuple[int, int, int] | None:
    try:
        p = profiles.load_profile(name)
    except (OSError, ValueError):  # ProfileError is a ValueError
        return None
    return p.per_minute, p.per_hour, p.per_day


def caps_for(config: Config, modem: dict[str, Any]) -> dict[str, int] | None:
    """Per-minute/hour/day caps of a modem: its profile's defaults with the config's overrides."""
    base = _profile_caps(modem.get("profile") or "generic") or _profile_caps("generic")
    entry = next((m for m in config.modems if (m.imei and m.imei == modem.get("imei"))
                  or (m.name and m.name == modem.get("name"))), None)
    if base is None and entry is None:
        return None
    minute, hour, day = base or (0, 0, 0)
    if entry is not None:
        minute, hour, day = entry.per_minute or minute, entry.per_hour or hour, entry.per_day or day
    return {"minute": minute, "hour": hour, "day": day}


def signal_bars(rssi: int | None) -> int:
    """0–4 bars from a +CSQ RSSI (0–31; 99 unknown), as phones show them."""
    if rssi is None or rssi == 99 or rssi < 2:
        return 0
    if rssi < 10:
        return 1
    if rssi < 15:
        return 2
    if rssi < 20:
        return 3
    return 4


def dashboard(db: Any, config: Config, midnight: float) -> dict[str, Any]:
    """Modems with their health and today's sending, the queue, today's outcomes and what waits for staff."""
    modems = []
    for m in store_modems.list_modems(db):
        caps = caps_for(config, m)
        sent = store_outbox.sent_since(db, m["id"], midnight)
        modems.append({
            **{k: m.get(k) for k in ("id", "name", "imei", "imsi", "iccid", "msisdn", "manufacturer", "model",
                                     "status", "rssi", "signal_dbm", "registration", "operator", "last_error",
                                     "last_seen", "profile")},
            "bars": signal_bars(m.get("rssi")),
            "sent_today": sent,
            "caps": caps,
            "day_share": min(1.0, sent / caps["day"]) if caps and caps["day"] else 0.0,
        })
    return {
        "modems": modems,
        "queue": store_web.open_counts(db),
        "today": store_web.done_since(db, midnight),
        "inbox": store_web.inbox_waiting(db),
    }
