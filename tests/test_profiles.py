"""modem_profiles/*.toml load into valid frozen profiles; bad files fail with precise messages."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from gateway.profiles import KNOWN_QUIRKS, Profile, ProfileError, load_all, load_profile, match_profile, match_usb_id, profiles_dir

REQUIRED = {"generic", "sim800", "huawei-e173", "quectel-ec25"}


def test_profiles_dir_is_the_repository_folder() -> None:
    assert profiles_dir() == Path(__file__).resolve().parent.parent / "modem_profiles"
    assert (profiles_dir() / "generic.toml").is_file()


def test_every_shipped_profile_loads_and_is_consistent() -> None:
    profiles = load_all()
    assert REQUIRED <= set(profiles)
    for name, p in profiles.items():
        assert p.name == name and p.description
        assert p.index_base in (0, 1) and p.cpms_arity in (2, 3) and p.capacity > 0
        assert p.quirks <= set(KNOWN_QUIRKS)
        assert all(c.startswith("AT+CNMI=") for c in p.cnmi_fallbacks) and p.cnmi_fallbacks
        assert 0 < p.per_minute <= p.per_hour <= p.per_day
        assert p.prompt_timeout_s > 0 and p.cmgs_timeout_s >= p.prompt_timeout_s
        assert p.storage in p.simulator.memories
        assert ("echo_default_on" in p.quirks) == p.echo_default
        with pytest.raises(dataclasses.FrozenInstanceError):
            p.name = "x"  # type: ignore[misc]


def test_field_notes_from_the_reference() -> None:
    e173 = load_profile("huawei-e173")
    assert e173.index_base == 0 and "AT^CURC=0" in e173.init and "^RSSI:" in e173.urc_ignore
    assert "command_not_support" in e173.quirks and e173.simulator.not_supported_text == "COMMAND NOT SUPPORT"
    assert e173.simulator.periodic_urcs and e173.simulator.periodic_urcs[0].text.startswith("^RSSI:")
    ec25 = load_profile("quectel-ec25")
    assert ec25.echo_default and ec25.index_base == 1 and "+QIND: SMS DONE" in ec25.simulator.boot_urcs
    assert ec25.cmgs_timeout_s == 120.0
    assert load_profile("sim800").echo_default and load_profile("generic").index_base == 1
    assert load_profile("simcom-sim7600").index_base == 0


@pytest.mark.parametrize(
    ("maker", "model", "expected"),
    [
        ("huawei", "E173", "huawei-e173"),
        ("HUAWEI", "E1550", "huawei-e173"),
        ("Quectel", "EC25", "quectel-ec25"),
        ("SIMCOM_Ltd", "SIMCOM_SIM800L", "sim800"),
        ("SIMCOM INCORPORATED", "SIMCOM_SIM7600E-H", "simcom-sim7600"),
        ("Telit", "LE910", "generic"),
        ("", "", "generic"),
    ],
)
def test_match_profile(maker: str, model: str, expected: str) -> None:
    assert match_profile(maker, model, load_all()).name == expected


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "profiles"
    shutil.copytree(profiles_dir(), folder)
    return folder


def _edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / f"{name}.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("index_base = 0", 'index_base = "zero"', "'host.index_base' = 'zero': expected an integer"),
        ("index_base = 0", "index_base = 2", "'host.index_base' = 2: expected an integer in 0..1"),
        ('quirks = ["command_not_support"]', 'quirks = ["made_up"]', "'host.quirks' = 'made_up': expected quirk names"),
        ("capacity = 20", "capacity = 20\ncolour = 1", "unknown key 'host.colour'"),
        ('name = "huawei-e173"', 'name = "e173"', "'name' = 'e173': expected the file's stem 'huawei-e173'"),
        ("echo_default = false", "echo_default = 1", "'host.echo_default' = 1: expected true or false"),
        ("per_hour = 200", "per_hour = 2", "'pacing.per_hour' = 2: expected per_minute <= per_hour <= per_day"),
        ('cnmi_default = "0,0,0,0,0"', 'cnmi_default = "2,1"', "'simulator.cnmi_default' = '2,1'"),
        ('init = ["AT^CURC=0"]', 'init = ["CURC=0"]', "'host.init' = 'CURC=0': expected AT commands"),
        ('storage = "SM"', 'storage = "XX"', "'host.storage' = 'XX': expected one of"),
    ],
)
def test_bad_values_name_file_key_value_and_expectation(tmp_path: Path, old: str, new: str, message: str) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "huawei-e173", old, new)
    with pytest.raises(ProfileError) as caught:
        load_profile("huawei-e173", folder)
    assert str(folder / "huawei-e173.toml") in str(caught.value)
    assert message in str(caught.value)


def test_missing_files_and_bad_toml(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    with pytest.raises(ProfileError, match="no such profile file"):
        load_profile("nokia", folder)
    (folder / "broken.toml").write_text("name = [", encoding="utf-8")
    with pytest.raises(ProfileError, match="broken.toml: not valid TOML"):
        load_all(folder)
    (folder / "broken.toml").unlink()
    (folder / "generic.toml").unlink()
    with pytest.raises(ProfileError, match="generic"):
        load_all(folder)


def test_profile_is_a_frozen_dataclass_with_the_product_fields() -> None:
    names = {f.name for f in dataclasses.fields(Profile)}
    assert {
        "name", "description", "echo_default", "index_base", "storage", "cpms_arity", "capacity", "init",
        "cnmi_fallbacks", "urc_ignore", "quirks", "per_minute", "per_hour", "per_day", "prompt_timeout_s",
        "cmgs_timeout_s",
    } <= names
    assert issubclass(ProfileError, ValueError)


def test_match_usb_id() -> None:
    profiles = load_all()
    assert match_usb_id("2C7C:0125", profiles).name == "quectel-ec25"  # type: ignore[union-attr]
    assert match_usb_id("12d1:1506", profiles).name == "huawei-e3372"  # type: ignore[union-attr]
    assert match_usb_id("12d1:14dc", profiles) is None  # HiLink E3372 has no AT port
    ids = [i for p in profiles.values() for i in p.usb_ids]
    assert len(ids) == len(set(ids)), "a USB id may name one profile only"
