"""One TOML file → frozen dataclasses, validated with messages that name the key, the value and the expectation.

Every key is optional; `gateway/config.example.toml` lists them all with their defaults and is what the
appliance installs. Unknown keys are errors (a typo must not silently fall back to a default).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError

EXAMPLE_PATH = Path(__file__).with_name("config.example.toml")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class DatabaseConfig:
    """Where the SQLite database lives."""

    path: Path = Path("/var/lib/smsgw/smsgw.db")


@dataclass(frozen=True)
class WebConfig:
    """The LAN web page."""

    bind: str = "0.0.0.0"
    port: int = 8080
    allowed_hosts: tuple[str, ...] = ()
    session_idle_minutes: int = 30
    session_absolute_hours: int = 8


@dataclass(frozen=True)
class OfficeConfig:
    """The office: its name, its phone region and the time zone used when a recipient's zone is unknown."""

    name: str = "smsgw"
    default_region: str = "RU"
    timezone: str = "Europe/Moscow"


@dataclass(frozen=True)
class QuietHours:
    """No bulk message reaches a recipient between start and end of their local day."""

    start: time = time(20, 0)
    end: time = time(8, 0)
    transactional: bool = False


@dataclass(frozen=True)
class SendingConfig:
    """Retry and safety policy of the send path."""

    max_attempts: int = 5
    retry_base_s: int = 30
    retry_max_s: int = 3600
    uncertain_transactional: str = "hold"  # "hold" for staff, or "retry" automatically
    require_clock_sync: bool = True
    auto_replies_per_10min: int = 5


@dataclass(frozen=True)
class BusinessConfig:
    """The office's rules for commands and contacts (staff may override some in the web page's settings)."""

    bonus_percent: float = 5.0            # credited to the owning agent's bonus ledger per order
    agent_broadcast_daily_cap: int = 3    # ВСЕМ/ALL broadcasts per agent per day
    retention_months: int = 12            # inbound bodies and send logs are blanked after this
    allowed_regions: tuple[str, ...] = () # countries whose mobile numbers may be stored; empty: the office's


@dataclass(frozen=True)
class ModemConfig:
    """One configured modem: a stable path or glob, optional identity pin, PIN and pacing overrides."""

    port: str
    name: str = ""
    imei: str | None = None
    pin: str | None = None
    profile: str = "auto"
    baudrate: int = 115200
    per_minute: int | None = None
    per_hour: int | None = None
    per_day: int | None = None


@dataclass(frozen=True)
class LoggingConfig:
    """Log level and the raw AT wire log."""

    level: str = "INFO"
    wire: bool = False


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    web: WebConfig = field(default_factory=WebConfig)
    office: OfficeConfig = field(default_factory=OfficeConfig)
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    sending: SendingConfig = field(default_factory=SendingConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    business: BusinessConfig = field(default_factory=BusinessConfig)
    # Without a [[modems]] table, every port the appliance's udev rules link under /dev/smsgw/ is tried:
    # plugging a modem in is all it takes. Ports that do not answer AT (diagnostic ports) are skipped.
    modems: tuple[ModemConfig, ...] = (ModemConfig(port="/dev/smsgw/*", name="modem"),)
    source: Path | None = None


# --- validators: each returns the converted value or raises _Invalid(expectation) -----------------------


class _Invalid(Exception):
    pass


Validator = Callable[[Any], Any]


def _int(lo: int, hi: int) -> Validator:
    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise _Invalid(f"an integer from {lo} to {hi}")
        return v

    return check


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise _Invalid("true or false")
    return v


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise _Invalid("a quoted string")
    return v


def _nonempty(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise _Invalid("a non-empty quoted string")
    return v


def _path(v: Any) -> Path:
    if not isinstance(v, str) or not v.strip():
        raise _Invalid('a file path in quotes, e.g. "/var/lib/smsgw/smsgw.db"')
    return Path(v)


def _bind(v: Any) -> str:
    try:
        ipaddress.ip_address(_str(v))
    except (ValueError, _Invalid):
        raise _Invalid('an IP address to listen on, e.g. "0.0.0.0" (all) or "127.0.0.1" (this machine only)')
    return v


def _hosts(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(h, str) and h for h in v):
        raise _Invalid('a list of host names, e.g. ["smsgw.local", "192.168.1.10"]')
    return tuple(h.lower() for h in v)


def _region(v: Any) -> str:
    import phonenumbers

    if not isinstance(v, str) or v.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise _Invalid('a two-letter country code known to phonenumbers, e.g. "RU"')
    return v.upper()


def _zone(v: Any) -> str:
    try:
        zoneinfo.ZoneInfo(_str(v))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, _Invalid):
        raise _Invalid('an IANA time zone, e.g. "Europe/Moscow" or "Asia/Yekaterinburg"')
    return v


def _clock(v: Any) -> time:
    if isinstance(v, time):
        return v
    if isinstance(v, str) and re.fullmatch(r"\d{1,2}:\d{2}", v):
        h, m = map(int, v.split(":"))
        if h < 24 and m < 60:
            return time(h, m)
    raise _Invalid('a time of day "HH:MM", e.g. "20:00"')


def _percent(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 100:
        raise _Invalid("a percentage from 0 to 100, e.g. 5 or 7.5")
    return float(v)


def _regions(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list):
        raise _Invalid('a list of two-letter country codes, e.g. ["RU", "KZ"]')
    return tuple(_region(r) for r in v)


def _choice(*options: str) -> Validator:
    def check(v: Any) -> str:
        if not isinstance(v, str) or v.upper() not in {o.upper() for o in options}:
            raise _Invalid("one of " + ", ".join(f'"{o}"' for o in options))
        return next(o for o in options if o.upper() == v.upper())

    return check


def _pin(v: Any) -> str:
    if not isinstance(v, str) or not re.fullmatch(r"\d{4,8}", v):
        raise _Invalid('a SIM PIN of 4 to 8 digits in quotes, e.g. "1234"')
    return v


def _imei(v: Any) -> str:
    if not isinstance(v, str) or not re.fullmatch(r"\d{14,16}", v):
        raise _Invalid("an IMEI of 15 digits in quotes")
    return v


_SECTIONS: dict[str, tuple[type, dict[str, Validator]]] = {
    "database": (DatabaseConfig, {"path": _path}),
    "web": (
        WebConfig,
        {
            "bind": _bind,
            "port": _int(0, 65535),  # 0: any free port (tests)
            "allowed_hosts": _hosts,
            "session_idle_minutes": _int(1, 24 * 60),
            "session_absolute_hours": _int(1, 24 * 30),
        },
    ),
    "office": (OfficeConfig, {"name": _nonempty, "default_region": _region, "timezone": _zone}),
    "quiet_hours": (QuietHours, {"start": _clock, "end": _clock, "transactional": _bool}),
    "sending": (
        SendingConfig,
        {
            "max_attempts": _int(1, 100),
            "retry_base_s": _int(1, 86400),
            "retry_max_s": _int(1, 7 * 86400),
            "uncertain_transactional": _choice("hold", "retry"),
            "require_clock_sync": _bool,
            "auto_replies_per_10min": _int(0, 1000),
        },
    ),
    "logging": (LoggingConfig, {"level": _choice(*LOG_LEVELS), "wire": _bool}),
    "business": (
        BusinessConfig,
        {
            "bonus_percent": _percent,
            "agent_broadcast_daily_cap": _int(0, 1000),
            "retention_months": _int(1, 120),
            "allowed_regions": _regions,
        },
    ),
}

_MODEM_KEYS: dict[str, Validator] = {
    "port": _nonempty,
    "name": _str,
    "imei": _imei,
    "pin": _pin,
    "profile": _nonempty,
    "baudrate": _int(300, 4_000_000),
    "per_minute": _int(1, 60_000),
    "per_hour": _int(1, 3_600_000),
    "per_day": _int(1, 100_000_000),
}


def _fmt(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:57] + "..."


def _build(cls: type, where: str, table: Any, validators: Mapping[str, Validator]) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] must be a table of keys, got {_fmt(table)}")
    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key not in validators:
            known = ", ".join(validators)
            raise ConfigError(f"unknown key {key!r} in [{where}]; known keys: {known}")
        try:
            values[key] = validators[key](raw)
        except _Invalid as exc:
            raise ConfigError(f"[{where}] {key} = {_fmt(raw)}: expected {exc}") from None
    try:
        return cls(**values)
    except TypeError as exc:  # a required key is missing
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in values
                   and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        raise ConfigError(f"[{where}] is missing {', '.join(missing) or exc}") from None


def parse(data: Mapping[str, Any], source: Path | None = None) -> Config:
    """Validate a parsed TOML mapping into a Config."""
    parts: dict[str, Any] = {}
    for section, table in data.items():
        if section == "modems":
            if not isinstance(table, list):
                raise ConfigError("modems must be written as [[modems]] tables, one per modem")
            modems = [_build(ModemConfig, f"modems #{i + 1}", t, _MODEM_KEYS) for i, t in enumerate(table)]
            parts["modems"] = tuple(
                dataclasses.replace(m, name=m.name or f"modem{i}") for i, m in enumerate(modems)
            )
            continue
        if section not in _SECTIONS:
            known = ", ".join([*_SECTIONS, "modems"])
            raise ConfigError(f"unknown section [{section}]; known sections: {known}")
        cls, validators = _SECTIONS[section]
        parts[section] = _build(cls, section, table, validators)
    config = Config(**parts, source=source)
    names = [m.name for m in config.modems]
    if len(set(names)) != len(names):
        raise ConfigError(f"two [[modems]] have the same name: {', '.join(sorted(names))}")
    if config.sending.retry_base_s > config.sending.retry_max_s:
        raise ConfigError("[sending] retry_base_s must not exceed retry_max_s")
    return config


def load(path: Path | str) -> Config:
    """Read and validate a config file; errors say which file, key and value are wrong."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (copy {EXAMPLE_PATH.name} there and edit it)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: config file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return parse(data, source=path)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def replace(config: Config, **sections: Any) -> Config:
    """A copy of config with whole sections replaced (used by the demo and tests)."""
    return dataclasses.replace(config, **sections)
