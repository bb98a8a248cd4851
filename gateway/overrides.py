"""Settings staff change in the web page without editing the config file: quiet hours and per-modem pacing.

The config file gives the defaults; a value saved here wins. Workers re-read them at every health check (about
every 30 s), so a change takes effect without a restart. Values are validated with the config's own rules, and
a stored value that no longer validates is ignored with a warning (the config's value applies).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from gateway import config as configuration
from gateway import policy, store
from gateway.errors import ConfigError, UserInputError
from gateway.store import settings

log = logging.getLogger("gateway.overrides")
QUIET_KEY = "quiet_hours"
PACING_LIMITS = {"per_minute": 60_000, "per_hour": 3_600_000, "per_day": 100_000_000}


def pacing_key(modem_label: str) -> str:
    """The settings key of one modem's pacing (by the name the dashboard shows)."""
    return f"pacing:{modem_label}"


def quiet_hours(db: store.Database, config: configuration.Config) -> configuration.QuietHours:
    """The quiet hours in force: saved by staff, else the config's."""
    saved = settings.get_json(db, QUIET_KEY)
    if not saved:
        return config.quiet_hours
    try:
        return configuration.parse({"quiet_hours": saved}).quiet_hours
    except (ConfigError, TypeError, AttributeError) as exc:
        log.warning("ignoring saved quiet hours (%s); the config's apply", exc)
        return config.quiet_hours


def effective_config(db: store.Database, config: configuration.Config) -> configuration.Config:
    """The config with staff's saved quiet hours applied."""
    quiet = quiet_hours(db, config)
    return config if quiet == config.quiet_hours else dataclasses.replace(config, quiet_hours=quiet)


def caps(db: store.Database, modem_label: str, base: policy.Caps) -> policy.Caps:
    """One modem's caps in force: each cap saved by staff, else the config's or the profile's."""
    saved = settings.get_json(db, pacing_key(modem_label))
    if not isinstance(saved, dict):
        return base
    values = dataclasses.asdict(base)
    for key, limit in PACING_LIMITS.items():
        value = saved.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= limit:
            values[key] = value
    return policy.Caps(**values)


def save_quiet_hours(db: store.Database, *, start: str, end: str, transactional: bool, now: float) -> None:
    """Validate and save quiet hours ("HH:MM"); raises UserInputError with the reason."""
    data: dict[str, Any] = {"start": start.strip(), "end": end.strip(), "transactional": bool(transactional)}
    try:
        configuration.parse({"quiet_hours": data})
    except ConfigError as exc:
        raise UserInputError(str(exc)) from None
    settings.put_json(db, QUIET_KEY, data, now)


def save_pacing(db: store.Database, modem_label: str, *, now: float, **caps_: int | None) -> None:
    """Validate and save one modem's caps; None removes a cap's override. Raises UserInputError."""
    data: dict[str, int] = {}
    for key, value in caps_.items():
        if key not in PACING_LIMITS:
            raise UserInputError(f"unknown pacing field {key!r}")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= PACING_LIMITS[key]:
            raise UserInputError(f"{key} must be a whole number from 1 to {PACING_LIMITS[key]}, not {value!r}")
        data[key] = value
    settings.put_json(db, pacing_key(modem_label), data, now)
