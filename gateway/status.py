"""`smsgw status`: modems (identity, signal, operator, sent today against the caps) and queue counts."""

from __future__ import annotations

import time as _time

from gateway import overrides, policy, profiles
from gateway.config import Config

from gateway.store import modems as store_modems
from gateway.store import outbox as store_outbox


def _age(now: float, then: float | None) -> str:
    if not then:
        return "never"
    seconds = max(0, int(now - then))
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}min ago"
    return _time.strftime("%Y-%m-%d %H:%M", _time.localtime(then))


def _caps(db, config: Config, modem: dict) -> policy.Caps | None:
    name = modem["name"] or ""
    entry = next((m for m in config.modems if name == m.name or name.startswith(m.name + "-")), None)
    if entry is None:
        return None
    try:
        profile = profiles.load_profile(modem["profile"] or "generic")
    except profiles.ProfileError:
        return None
    return overrides.caps(db, name, policy.Caps(entry.per_minute or profile.per_minute,
                                                entry.per_hour or profile.per_hour, entry.per_day or profile.per_day))


def render_text(db, config: Config, now: float) -> str:
    """Modems (identity, signal, operator, sent today against the day cap) and queue counts, for a terminal."""
    lines = ["Modems:"]
    modems = store_modems.list_modems(db)
    midnight = policy.local_midnight(now, policy.recipient_zone("", None, config.office.timezone))
    if not modems:
        lines.append("  none seen yet (is the daemon running and a modem configured?)")
    for m in modems:
        signal = f"{m['signal_dbm']} dBm" if m["signal_dbm"] is not None else "signal ?"
        lines.append(
            f"  {m['name'] or m['id']}: {m['status']}, IMEI {m['imei']}, IMSI {m['imsi'] or '?'}, "
            f"{signal}, {m['operator'] or 'operator ?'}, {m['registration'] or 'registration ?'}, "
            f"seen {_age(now, m['last_seen'])}, port {m['port'] or '?'}"
        )
        caps = _caps(db, config, m)
        today = store_outbox.sent_since(db, m["id"], midnight)
        lines.append(f"    sent today {today}" + (f" of {caps.per_day} (caps {caps.per_minute}/min, "
                                                   f"{caps.per_hour}/h)" if caps else " (not in the config)"))
        if m["last_error"]:
            lines.append(f"    last error: {m['last_error']}")
    lines.append("Queue:")
    counts = store_outbox.counts(db)
    lines.append("  " + ", ".join(f"{state} {n}" for state, n in counts.items()))
    return "\n".join(lines)
