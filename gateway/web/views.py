"""Data the pages show, gathered from the store (kept apart from routing so the benchmark can time it)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gateway import config as configuration
from gateway import overrides, policy, profiles
from gateway.config import Config, ModemConfig, QuietHours
from gateway.errors import ConfigError
from gateway.store import modems as store_modems
from gateway.store import outbox as store_outbox
from gateway.store import settings as store_settings
from gateway.store import web as store_web


CAP_FIELDS = ("per_minute", "per_hour", "per_day")
# The modem's registration state as stored (English, from +CREG) → its translation key on the dashboard.
REGISTRATION_KEYS = {
    "home": "reg.home", "roaming": "reg.roaming", "searching": "reg.searching",
    "not registered": "reg.not_registered", "denied": "reg.denied", "unknown": "reg.unknown",
    "home (SMS only)": "reg.home_sms", "roaming (SMS only)": "reg.roaming_sms",
}


class Source(StrEnum):
    """Where a setting in force comes from."""

    PROFILE = "profile"
    CONFIG = "config"
    SAVED = "saved"


@dataclass(frozen=True)
class Pacing:
    """One modem's caps in force, the caps without staff's overrides, and where each cap comes from."""

    modem_id: int
    label: str
    profile: str
    entry: str | None                # the [[modems]] entry's name, None when the config no longer lists it
    base: policy.Caps | None
    caps: policy.Caps | None
    sources: dict[str, Source] = field(default_factory=dict)   # "per_minute" … → where the value in force is from
    saved: dict[str, int] = field(default_factory=dict)        # staff's overrides as stored

    def as_dict(self) -> dict[str, int] | None:
        """The caps in force as the dashboard shows them (minute, hour, day)."""
        if self.caps is None:
            return None
        return {"minute": self.caps.per_minute, "hour": self.caps.per_hour, "day": self.caps.per_day}


@functools.lru_cache(maxsize=32)
def _profile_caps(name: str) -> policy.Caps | None:
    try:
        p = profiles.load_profile(name)
    except (OSError, ValueError):  # ProfileError is a ValueError
        return None
    return policy.Caps(p.per_minute, p.per_hour, p.per_day)


def config_entry(config: Config, label: str) -> ModemConfig | None:
    """The [[modems]] entry a worker label belongs to: the same name, or the name + "-" + IMEI tail (a glob)."""
    return next((m for m in config.modems if label == m.name or label.startswith(m.name + "-")), None)


def pacing(db: Any, config: Config, modem: dict[str, Any]) -> Pacing:
    """A modem's caps as its worker computes them: profile defaults, the config's values, then staff's overrides."""
    label = str(modem.get("name") or "")
    profile = str(modem.get("profile") or "generic")
    entry = config_entry(config, label) if label else None
    base_profile = _profile_caps(profile)
    if entry is None or base_profile is None:
        # a worker only runs for a configured modem; without an entry (or a readable profile) nothing is in force
        return Pacing(int(modem["id"]), label, profile, entry.name if entry else None, None, None)
    sources: dict[str, Source] = {}
    values: dict[str, int] = {}
    for key in CAP_FIELDS:
        configured = getattr(entry, key)
        values[key] = configured or getattr(base_profile, key)
        sources[key] = Source.CONFIG if configured else Source.PROFILE
    base = policy.Caps(**values)
    caps = overrides.caps(db, label, base)
    stored = store_settings.get_json(db, overrides.pacing_key(label))
    saved = {k: v for k, v in stored.items() if k in CAP_FIELDS and isinstance(v, int)} \
        if isinstance(stored, dict) else {}
    for key in CAP_FIELDS:
        if key in saved and getattr(caps, key) == saved[key]:
            sources[key] = Source.SAVED
    return Pacing(int(modem["id"]), label, profile, entry.name, base, caps, sources, saved)


def caps_for(db: Any, config: Config, modem: dict[str, Any]) -> dict[str, int] | None:
    """Per-minute/hour/day caps in force for a modem (None when the config does not list it)."""
    return pacing(db, config, modem).as_dict()


@dataclass(frozen=True)
class Quiet:
    """The quiet hours in force and where they come from."""

    hours: QuietHours
    source: Source
    ignored: bool   # a saved value exists but no longer validates (the config's hours apply)


def quiet(db: Any, config: Config) -> Quiet:
    """The quiet hours in force (saved here, else the config's)."""
    hours = overrides.quiet_hours(db, config)
    stored = store_settings.get_json(db, overrides.QUIET_KEY)
    if not stored:  # never saved, or reset (deleted; older versions stored null): the config's hours
        return Quiet(hours, Source.CONFIG, False)
    # a saved value that parses is what overrides.quiet_hours returned; one that does not falls back to the config
    try:
        valid = configuration.parse({"quiet_hours": stored}).quiet_hours == hours
    except (ConfigError, TypeError, AttributeError):
        valid = False
    return Quiet(hours, Source.SAVED if valid else Source.CONFIG, not valid)


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
        caps = caps_for(db, config, m)
        sent = store_outbox.sent_since(db, m["id"], midnight)
        modems.append({
            **{k: m.get(k) for k in ("id", "name", "imei", "imsi", "iccid", "msisdn", "manufacturer", "model",
                                     "status", "rssi", "signal_dbm", "registration", "operator", "last_error",
                                     "last_seen", "profile")},
            "bars": signal_bars(m.get("rssi")),
            "registration_key": REGISTRATION_KEYS.get(str(m.get("registration") or "")),
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
