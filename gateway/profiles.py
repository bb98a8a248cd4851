"""Modem profiles: load and validate `modem_profiles/*.toml` into frozen dataclasses.

A profile is data about one modem family: what the host should send after the common init, how the
modem numbers stored messages, which URCs are noise, its quirks by name and default pacing. The
`simulator` table carries what the simulated modem needs to impersonate that family (identity
strings, boot and periodic URCs, error text) and is ignored by the product.

Rules: every key is type-checked, unknown keys are errors, and an error message names the file,
the key, the value found and what was expected.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENERIC = "generic"

#: Quirk names a profile may list, with what each means.
KNOWN_QUIRKS: Mapping[str, str] = {
    "cpin_no_ok": "the +CPIN: answer is final; no OK follows (Wavecom M1306B, Sierra SL8084TR)",
    "csmp_clears_smsc": "AT+CSMP= erases the SMSC address; rewrite it with AT+CSCA afterwards (ZTE/Qualcomm)",
    "command_not_support": "unsupported commands answer COMMAND NOT SUPPORT instead of ERROR (Huawei)",
    "echo_default_on": "echo is on after power-up and after ATZ; send ATE0",
    "cme_515_after_cfun": "the next 2 commands after AT+CFUN=1 answer +CME ERROR: 515 (Wavecom)",
    "sim_busy_after_pin": "SIM commands answer +CME ERROR: 14 / +CMS ERROR: 314 for a while after PIN entry",
    "cmgr_empty_ok": "AT+CMGR of an empty slot answers plain OK instead of +CMS ERROR: 321 (Huawei MU509)",
}

MEMORIES = frozenset({"SM", "ME", "MT", "SR", "BM"})


class ProfileError(ValueError):
    """A profile file is missing, unreadable or has a bad value."""


@dataclass(frozen=True)
class PeriodicUrc:
    """A URC the simulated modem repeats every `period_s` seconds (`{rssi}` is substituted)."""

    text: str
    period_s: float


@dataclass(frozen=True)
class SimulatorTraits:
    """What the simulated modem needs to impersonate this family; the product ignores it."""

    manufacturer: str
    model: str
    revision: str
    ati: tuple[str, ...]
    boot_urcs: tuple[str, ...]
    periodic_urcs: tuple[PeriodicUrc, ...]
    not_supported_text: str
    text_mode: bool
    memories: tuple[str, ...]
    cnmi_test: str
    cnmi_default: str
    operator: str
    act: int
    no_network_cms: int
    mr_start: int
    vendor_ok: tuple[str, ...]
    urc_switch: str
    urcs_stop_on: str
    sim_busy_after_pin_s: float


@dataclass(frozen=True)
class Profile:
    """One modem family: host-side settings, pacing defaults and simulator traits."""

    name: str
    description: str
    echo_default: bool
    index_base: int
    storage: str
    cpms_arity: int
    capacity: int
    init: tuple[str, ...]
    cnmi_fallbacks: tuple[str, ...]
    urc_ignore: tuple[str, ...]
    quirks: frozenset[str]
    per_minute: int
    per_hour: int
    per_day: int
    prompt_timeout_s: float
    cmgs_timeout_s: float
    match_manufacturer: tuple[str, ...]
    match_model: tuple[str, ...]
    usb_ids: tuple[str, ...]
    simulator: SimulatorTraits

    def matches(self, manufacturer: str, model: str) -> int:
        """Score how well this profile matches a modem: 2 model and maker, 1 maker only, 0 none."""
        maker_hit = any(fnmatch.fnmatch(manufacturer.strip().lower(), p.lower()) for p in self.match_manufacturer)
        model_hit = any(fnmatch.fnmatch(model.strip().lower(), p.lower()) for p in self.match_model)
        if model_hit and (maker_hit or not self.match_manufacturer):
            return 2
        return 1 if maker_hit else 0


def profiles_dir() -> Path:
    """The repository's `modem_profiles/` directory."""
    return Path(__file__).resolve().parent.parent / "modem_profiles"


class _Reader:
    """Typed access to one TOML table that reports errors with file and dotted key."""

    def __init__(self, path: Path, table: Mapping[str, Any], prefix: str) -> None:
        self.path = path
        self.table = table
        self.prefix = prefix
        self.used: set[str] = set()

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def fail(self, key: str, value: object, expected: str) -> ProfileError:
        return ProfileError(f"{self.path}: key {self._key(key)!r} = {value!r}: expected {expected}")

    def raw(self, key: str, default: object = ...) -> object:
        self.used.add(key)
        if key not in self.table:
            if default is ...:
                raise ProfileError(f"{self.path}: key {self._key(key)!r} is missing")
            return default
        return self.table[key]

    def str_(self, key: str, default: object = ..., choices: frozenset[str] | None = None) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str):
            raise self.fail(key, value, "a string")
        if choices is not None and value not in choices:
            raise self.fail(key, value, f"one of {sorted(choices)}")
        return value

    def bool_(self, key: str, default: object = ...) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, value, "true or false")
        return value

    def int_(self, key: str, default: object = ..., lo: int | None = None, hi: int | None = None) -> int:
        value = self.raw(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(key, value, "an integer")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self.fail(key, value, f"an integer in {lo}..{hi}")
        return value

    def float_(self, key: str, default: object = ..., lo: float = 0.0) -> float:
        value = self.raw(key, default)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < lo:
            raise self.fail(key, value, f"a number >= {lo}")
        return float(value)

    def strs(self, key: str, default: object = ...) -> tuple[str, ...]:
        value = self.raw(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, value, "a list of strings")
        return tuple(value)

    def table_(self, key: str) -> _Reader:
        value = self.raw(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, value, "a table")
        return _Reader(self.path, value, f"{self._key(key)}.")

    def done(self) -> None:
        extra = sorted(set(self.table) - self.used)
        if extra:
            raise ProfileError(f"{self.path}: unknown key {self._key(extra[0])!r}: expected one of {sorted(self.used)}")


def _simulator(path: Path, sim: _Reader) -> SimulatorTraits:
    periodic: list[PeriodicUrc] = []
    raw = sim.raw("periodic_urcs", [])
    if not isinstance(raw, list):
        raise sim.fail("periodic_urcs", raw, "a list of {text, period_s} tables")
    for item in raw:
        if not isinstance(item, dict):
            raise sim.fail("periodic_urcs", item, "a {text, period_s} table")
        entry = _Reader(path, item, "simulator.periodic_urcs.")
        periodic.append(PeriodicUrc(text=entry.str_("text"), period_s=entry.float_("period_s", lo=0.05)))
        entry.done()
    memories = sim.strs("memories", ["SM", "ME", "SR"])
    for memory in memories:
        if memory not in MEMORIES:
            raise sim.fail("memories", memory, f"memory names from {sorted(MEMORIES)}")
    traits = SimulatorTraits(
        manufacturer=sim.str_("manufacturer"),
        model=sim.str_("model"),
        revision=sim.str_("revision"),
        ati=sim.strs("ati", []),
        boot_urcs=sim.strs("boot_urcs", []),
        periodic_urcs=tuple(periodic),
        not_supported_text=sim.str_("not_supported_text", ""),
        text_mode=sim.bool_("text_mode", True),
        memories=memories,
        cnmi_test=sim.str_("cnmi_test", "(0-3),(0-3),(0-3),(0-2),(0,1)"),
        cnmi_default=sim.str_("cnmi_default", "0,0,0,0,0"),
        operator=sim.str_("operator", "MTS RUS"),
        act=sim.int_("act", 2, lo=0, hi=9),
        no_network_cms=sim.int_("no_network_cms", 331, lo=0, hi=999),
        mr_start=sim.int_("mr_start", 0, lo=0, hi=255),
        vendor_ok=sim.strs("vendor_ok", []),
        urc_switch=sim.str_("urc_switch", ""),
        urcs_stop_on=sim.str_("urcs_stop_on", ""),
        sim_busy_after_pin_s=sim.float_("sim_busy_after_pin_s", 0.0),
    )
    sim.done()
    cnmi = traits.cnmi_default.split(",")
    if len(cnmi) != 5 or not all(p.isdigit() for p in cnmi):
        raise sim.fail("cnmi_default", traits.cnmi_default, "five comma-separated integers like '2,1,0,0,0'")
    return traits


def _parse(path: Path, data: Mapping[str, Any]) -> Profile:
    top = _Reader(path, data, "")
    name = top.str_("name")
    if name != path.stem:
        raise top.fail("name", name, f"the file's stem {path.stem!r}")
    description = top.str_("description")
    match = top.table_("match")
    host = top.table_("host")
    pacing = top.table_("pacing")
    sim = top.table_("simulator")
    top.done()

    quirks = set(host.strs("quirks", []))
    for quirk in quirks:
        if quirk not in KNOWN_QUIRKS:
            raise host.fail("quirks", quirk, f"quirk names from {sorted(KNOWN_QUIRKS)}")
    echo_default = host.bool_("echo_default")
    if echo_default:
        quirks.add("echo_default_on")
    elif "echo_default_on" in quirks:
        raise host.fail("quirks", "echo_default_on", "echo_default = true when the quirk echo_default_on is listed")
    for command in (cmds := host.strs("cnmi_fallbacks")):
        if not command.upper().startswith("AT+CNMI="):
            raise host.fail("cnmi_fallbacks", command, "full commands starting with AT+CNMI=")
    init = host.strs("init", [])
    for command in init:
        if not command.upper().startswith("AT"):
            raise host.fail("init", command, "AT commands starting with AT")
    usb_ids = match.strs("usb_ids", [])
    for usb_id in usb_ids:
        vendor, _, product = usb_id.partition(":")
        if len(vendor) != 4 or len(product) != 4 or not all(c in "0123456789abcdef" for c in vendor + product):
            raise match.fail("usb_ids", usb_id, "lower-case 'vvvv:pppp' hex USB ids")
    profile = Profile(
        name=name,
        description=description,
        echo_default=echo_default,
        index_base=host.int_("index_base", lo=0, hi=1),
        storage=host.str_("storage", choices=MEMORIES - {"SR", "BM"}),
        cpms_arity=host.int_("cpms_arity", lo=2, hi=3),
        capacity=host.int_("capacity", lo=1, hi=1000),
        init=init,
        cnmi_fallbacks=cmds,
        urc_ignore=host.strs("urc_ignore", []),
        quirks=frozenset(quirks),
        per_minute=pacing.int_("per_minute", lo=1, hi=1000),
        per_hour=pacing.int_("per_hour", lo=1, hi=100_000),
        per_day=pacing.int_("per_day", lo=1, hi=1_000_000),
        prompt_timeout_s=host.float_("prompt_timeout_s", lo=0.1),
        cmgs_timeout_s=host.float_("cmgs_timeout_s", lo=0.1),
        match_manufacturer=match.strs("manufacturer", []),
        match_model=match.strs("model", []),
        usb_ids=usb_ids,
        simulator=_simulator(path, sim),
    )
    match.done()
    host.done()
    pacing.done()
    if not profile.per_minute <= profile.per_hour <= profile.per_day:
        raise pacing.fail("per_hour", profile.per_hour, "per_minute <= per_hour <= per_day")
    if profile.storage not in profile.simulator.memories:
        raise host.fail("storage", profile.storage, f"one of simulator.memories {list(profile.simulator.memories)}")
    return profile


def load_profile(name: str, directory: Path | None = None) -> Profile:
    """Load and validate `<directory>/<name>.toml` (default: the repository's profiles)."""
    path = (directory or profiles_dir()) / f"{name}.toml"
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such profile file (profile name {name!r})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    return _parse(path, data)


def load_all(directory: Path | None = None) -> dict[str, Profile]:
    """Load every `*.toml` profile in `directory`, keyed by name."""
    folder = directory or profiles_dir()
    profiles = {p.stem: load_profile(p.stem, folder) for p in sorted(folder.glob("*.toml"))}
    if GENERIC not in profiles:
        raise ProfileError(f"{folder}: key 'generic' is missing: expected a generic.toml fallback profile")
    return profiles


def match_usb_id(usb_id: str, profiles: Mapping[str, Profile]) -> Profile | None:
    """The profile listing this `vvvv:pppp` USB id (before the modem answers AT), or None."""
    wanted = usb_id.strip().lower()
    for profile in profiles.values():
        if wanted in profile.usb_ids:
            return profile
    return None


def match_profile(manufacturer: str, model: str, profiles: Mapping[str, Profile]) -> Profile:
    """The profile that best matches a modem's +CGMI/+CGMM answers, else the generic one."""
    best: Profile | None = None
    best_score = 0
    for profile in profiles.values():
        score = profile.matches(manufacturer, model)
        if score > best_score:
            best, best_score = profile, score
    if best is not None:
        return best
    if GENERIC not in profiles:
        raise ProfileError(f"no profile matches {manufacturer!r} {model!r} and no 'generic' profile is loaded")
    return profiles[GENERIC]
