"""Config: the example is complete and valid; bad files fail with the key, the value and the expectation."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from datetime import time
from pathlib import Path

import pytest

from gateway import cli, config
from gateway.errors import ConfigError


def test_example_loads_and_equals_the_defaults() -> None:
    loaded = config.load(config.EXAMPLE_PATH)
    assert dataclasses.replace(loaded, source=None) == config.Config()


def _documented_keys(text: str) -> set[str]:
    """Every `key =` the example mentions, commented out or not, qualified by its section."""
    keys, section = set(), ""
    for line in text.splitlines():
        line = line.lstrip("# ").strip()
        if m := re.fullmatch(r"\[\[?([a-z_]+)\]\]?", line):
            section = m.group(1)
        elif m := re.match(r"([a-z_0-9]+) = ", line):
            keys.add(f"{section}.{m.group(1)}")
    return keys


def test_example_documents_every_key() -> None:
    documented = _documented_keys(config.EXAMPLE_PATH.read_text(encoding="utf-8"))
    expected = {f"modems.{f.name}" for f in dataclasses.fields(config.ModemConfig)}
    for section, (cls, _validators) in config._SECTIONS.items():
        expected |= {f"{section}.{f.name}" for f in dataclasses.fields(cls)}
    assert expected - documented == set()


def test_modems_and_overrides_parse() -> None:
    text = """
[office]
default_region = "ru"
timezone = "Asia/Yekaterinburg"
[quiet_hours]
start = "21:30"
[[modems]]
port = "/dev/smsgw/*"
pin = "1234"
per_day = 300
[[modems]]
name = "second"
port = "/dev/ttyUSB2"
"""
    c = config.parse(tomllib.loads(text))
    assert c.office.default_region == "RU"
    assert c.quiet_hours.start == time(21, 30) and c.quiet_hours.end == time(8, 0)
    assert [m.name for m in c.modems] == ["modem0", "second"]
    assert c.modems[0].pin == "1234" and c.modems[0].per_day == 300 and c.modems[1].per_day is None


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ('[web]\nport = "eighty"', ["[web] port", '"eighty"', "integer from 0 to 65535"]),
        ("[web]\nport = 70000", ["[web] port = 70000", "integer"]),
        ('[web]\nprot = 80', ["unknown key 'prot'", "[web]", "port"]),
        ('[office]\ntimezone = "Moscow"', ["timezone", '"Moscow"', "IANA time zone"]),
        ('[office]\ndefault_region = "XX"', ["default_region", '"XX"', "two-letter"]),
        ('[quiet_hours]\nstart = "25:00"', ["start", '"25:00"', "HH:MM"]),
        ('[logging]\nlevel = "LOUD"', ["level", '"LOUD"', '"INFO"']),
        ('[[modems]]\npin = "12"', ["modems #1", "pin", "4 to 8 digits"]),
        ("[[modems]]\nname = \"a\"", ["modems #1", "missing port"]),
        ('[bogus]\nx = 1', ["unknown section [bogus]"]),
        ('[sending]\nretry_base_s = 100\nretry_max_s = 10', ["retry_base_s", "retry_max_s"]),
        ('[web]\nbind = "everywhere"', ["bind", "IP address"]),
    ],
)
def test_bad_values_are_named(text: str, fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        config.parse(tomllib.loads(text))
    for fragment in fragments:
        assert fragment in str(err.value)


def _run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "config file not found"),
        (b"[web\nport = 1", "not valid TOML"),
        (b"\xff\xfe garbage", "not UTF-8"),
        (b"[web]\nport = -1", "[web] port = -1"),
    ],
)
def test_cli_reports_a_bad_config_in_one_line_with_exit_2(tmp_path: Path, content: bytes | None, fragment: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    if content is not None:
        path.write_bytes(content)
    code, err = _run_cli(["--config", str(path), "status"], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert fragment in lines[0] and str(path) in lines[0]
    assert "Traceback" not in err


def test_business_rules_come_from_the_config_and_a_saved_setting_wins(tmp_path: Path) -> None:
    from gateway import commands, contacts, store
    from gateway.store import commands as cq

    c = config.parse(tomllib.loads('[business]\nbonus_percent = 7.5\nagent_broadcast_daily_cap = 1\n'
                                  'retention_months = 6\nallowed_regions = ["ru", "KZ"]\n'))
    assert c.business.allowed_regions == ("RU", "KZ")
    db = store.connect(tmp_path / "x.db")
    assert commands._bonus_percent(db, c) == 7.5 and commands._broadcast_cap(db, c) == 1
    assert contacts.retention_months(db, c) == 6 and contacts.allowed_regions(db, c) == {"RU", "KZ"}
    cq.set_setting(db, commands.BONUS_PERCENT_KEY, "10", 1.0)  # staff's saved value wins over the file
    assert commands._bonus_percent(db, c) == 10.0
    with pytest.raises(ConfigError, match="percentage"):
        config.parse(tomllib.loads("[business]\nbonus_percent = 150\n"))
