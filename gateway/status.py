"""`smsgw status`: modems and queue counts as plain text."""

from __future__ import annotations

import time as _time

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


def render_text(db, now: float) -> str:
    """Modems (identity, signal, operator, sent today) and queue counts, for a terminal."""
    lines = ["Modems:"]
    modems = store_modems.list_modems(db)
    if not modems:
        lines.append("  none seen yet (is the daemon running and a modem configured?)")
    for m in modems:
        signal = f"{m['signal_dbm']} dBm" if m["signal_dbm"] is not None else "signal ?"
        lines.append(
            f"  {m['name'] or m['id']}: {m['status']}, IMEI {m['imei']}, IMSI {m['imsi'] or '?'}, "
            f"{signal}, {m['operator'] or 'operator ?'}, {m['registration'] or 'registration ?'}, "
            f"seen {_age(now, m['last_seen'])}, port {m['port'] or '?'}"
        )
        if m["last_error"]:
            lines.append(f"    last error: {m['last_error']}")
    lines.append("Queue:")
    counts = store_outbox.counts(db)
    lines.append("  " + ", ".join(f"{state} {n}" for state, n in counts.items()))
    return "\n".join(lines)
