"""The settings page: quiet hours and each modem's pacing saved over the config (admins edit, operators read),
every change audited, bad input refused with its reason, the dashboard's caps the ones in force."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gateway import config as configuration
from gateway import overrides, policy, store
from gateway.states import Role
from gateway.store import modems, users
from gateway.web import make_app, views
from tests.harness import FakeClock
from tests.test_web_support import PASSWORD, Client, add_user

T0 = 1_760_000_000.0


@pytest.fixture
def env(tmp_path: Path) -> tuple[configuration.Config, store.Database, Any, dict[str, int]]:
    config = configuration.parse({
        "database": {"path": str(tmp_path / "web.db")},
        "quiet_hours": {"start": "20:00", "end": "08:00"},
        "modems": [{"name": "sim", "port": "/dev/smsgw/*"}, {"name": "fast", "port": "/dev/fast", "per_hour": 300}],
    })
    db = store.connect(config.database.path)
    add_user(db, "admin", Role.ADMIN)
    add_user(db, "oper", Role.OPERATOR)
    ids = {
        "sim-3809": modems.upsert_identity(db, "356938035643809", T0, name="sim-3809", profile="generic"),
        "fast": modems.upsert_identity(db, "356938035643817", T0, name="fast", profile="huawei-e173"),
        "gone": modems.upsert_identity(db, "356938035643825", T0, name="gone", profile="generic"),
    }
    return config, db, make_app(config, clock=FakeClock(T0)), ids


def signed_in(app: Any, name: str) -> Client:
    client = Client(app)
    assert client.login(name, PASSWORD).status == 303
    return client


def audit_of(db: store.Database, action: str) -> list[dict[str, Any]]:
    return [{**r, "detail": json.loads(r["detail"] or "{}")} for r in users.audit_entries(db) if r["action"] == action]


def in_force(page: str, modem_id: int) -> list[tuple[str, str]]:
    """(value, source) of each cap shown for one modem on the settings page."""
    block = page[page.index(f'id="pacing-{modem_id}"'):]
    block = block[:block.index("</article>")]
    return re.findall(r'<strong>(\d+)</strong> <span class="badge source-\w+">([^<]+)</span>', block)


def test_quiet_hours_saved_audited_and_reset(env) -> None:
    config, db, app, _ = env
    admin = signed_in(app, "admin")
    page = admin.get("/settings").text
    assert "20:00 – 08:00" in page and "из файла настроек" in page and "30 секунд" in page
    saved = admin.post("/settings/quiet-hours", {"start": "21:30", "end": "09:00", "transactional": "1"})
    assert saved.status == 303
    assert overrides.quiet_hours(db, config) == configuration.QuietHours(
        configuration.parse({"quiet_hours": {"start": "21:30"}}).quiet_hours.start,
        configuration.parse({"quiet_hours": {"end": "09:00"}}).quiet_hours.end, True)
    page = admin.get("/settings?saved=1").text
    assert "21:30 – 09:00" in page and "сохранено здесь" in page and "применят" in page
    assert "В файле настроек: 20:00 – 08:00" in page
    [entry] = audit_of(db, "settings.quiet_hours")
    assert entry["actor"] == "admin" and entry["detail"] == {"before": "20:00-08:00",
                                                              "after": "21:30-09:00 +transactional"}
    # the config's hours apply again after a reset
    assert admin.post("/settings/quiet-hours", {"action": "reset"}).status == 303
    assert overrides.quiet_hours(db, config) == config.quiet_hours
    assert "из файла настроек" in admin.get("/settings").text
    assert audit_of(db, "settings.quiet_hours.reset")[0]["detail"]["before"] == "21:30-09:00 +transactional"


@pytest.mark.parametrize("start,end", [("25:00", "08:00"), ("20:00", ""), ("evening", "08:00"), ("20:00:00:00", "8")])
def test_bad_quiet_hours_are_refused_with_the_reason(env, start: str, end: str) -> None:
    config, db, app, _ = env
    admin = signed_in(app, "admin")
    resp = admin.post("/settings/quiet-hours", {"start": start, "end": end})
    assert resp.status == 400 and "Тихие часы не сохранены" in resp.text and "quiet_hours" in resp.text
    assert f'value="{start}"' in resp.text  # the form keeps what was typed
    assert overrides.quiet_hours(db, config) == config.quiet_hours
    assert not audit_of(db, "settings.quiet_hours")


def test_pacing_shows_each_cap_and_its_source(env) -> None:
    config, db, app, ids = env
    page = signed_in(app, "admin").get("/settings").text
    # generic profile: 6/min, 200/h, 1000/day; "fast" has per_hour = 300 in the config
    assert in_force(page, ids["sim-3809"]) == [("6", "из профиля модема"), ("200", "из профиля модема"),
                                               ("1000", "из профиля модема")]
    assert in_force(page, ids["fast"]) == [("6", "из профиля модема"), ("300", "из файла настроек"),
                                           ("1000", "из профиля модема")]
    gone = page[page.index(f'id="pacing-{ids["gone"]}"'):]
    assert "нет в файле настроек" in gone[:gone.index("</article>")]


def test_pacing_saved_applied_to_the_dashboard_audited_and_reset(env) -> None:
    config, db, app, ids = env
    admin = signed_in(app, "admin")
    resp = admin.post(f"/settings/pacing/{ids['sim-3809']}", {"per_minute": "2", "per_hour": "", "per_day": " 777 "})
    assert resp.status == 303
    base = policy.Caps(6, 200, 1000)
    assert overrides.caps(db, "sim-3809", base) == policy.Caps(2, 200, 777)   # what the worker will apply
    assert overrides.caps(db, "fast", base) == base                          # the other modem is untouched
    page = admin.get("/settings").text
    assert in_force(page, ids["sim-3809"]) == [("2", "сохранено здесь"), ("200", "из профиля модема"),
                                               ("777", "сохранено здесь")]
    part = admin.get("/ui/dashboard.part").text
    assert re.search(r">\s*0 / 777", part) and "лимиты: 2/мин, 200/час, 777/день" in part
    [entry] = audit_of(db, "settings.pacing")
    assert entry["target"] == "sim-3809" and entry["detail"] == {"before": None,
                                                                  "after": {"per_minute": 2, "per_day": 777}}
    # blank fields and the reset button give the config's/profile's values back
    assert admin.post(f"/settings/pacing/{ids['sim-3809']}", {"action": "reset", "per_minute": "2"}).status == 303
    assert overrides.caps(db, "sim-3809", base) == base
    assert audit_of(db, "settings.pacing")[0]["detail"] == {"before": {"per_minute": 2, "per_day": 777},
                                                            "after": None}
    assert views.caps_for(db, config, modems.list_modems(db)[0]) == {"minute": 6, "hour": 200, "day": 1000}


@pytest.mark.parametrize("form,reason", [
    ({"per_minute": "0"}, "per_minute must be a whole number"),
    ({"per_minute": "-3"}, "per_minute must be a whole number"),
    ({"per_hour": "abc"}, "per_hour must be a whole number, not abc"),
    ({"per_day": "1e3"}, "per_day must be a whole number, not 1e3"),
    ({"per_day": "999999999999"}, "per_day must be a whole number"),
    ({"per_minute": "500"}, "в минуту» ≤ «в час"),          # 500/min over the profile's 200/h
    ({"per_hour": "50", "per_day": "40"}, "в минуту» ≤ «в час"),
])
def test_bad_pacing_is_refused_with_the_reason(env, form: dict[str, str], reason: str) -> None:
    _, db, app, ids = env
    admin = signed_in(app, "admin")
    resp = admin.post(f"/settings/pacing/{ids['sim-3809']}", form)
    assert resp.status == 400 and reason in resp.text, resp.text[-3000:]
    assert overrides.caps(db, "sim-3809", policy.Caps(6, 200, 1000)) == policy.Caps(6, 200, 1000)
    assert not audit_of(db, "settings.pacing")


def test_pacing_of_an_unknown_or_unconfigured_modem(env) -> None:
    _, db, app, ids = env
    admin = signed_in(app, "admin")
    assert admin.post("/settings/pacing/999", {"per_minute": "3"}).status == 404
    resp = admin.post(f"/settings/pacing/{ids['gone']}", {"per_minute": "3"})
    assert resp.status == 400 and "нет в файле настроек" in resp.text
    assert not audit_of(db, "settings.pacing")


def test_operators_read_settings_but_cannot_change_them(env) -> None:
    config, db, app, ids = env
    oper = signed_in(app, "oper")
    page = oper.get("/settings").text
    assert "20:00 – 08:00" in page and in_force(page, ids["fast"])[1] == ("300", "из файла настроек")
    assert 'name="per_minute"' not in page and 'name="start"' not in page
    assert oper.post("/settings/quiet-hours", {"start": "21:00", "end": "09:00"}).status == 403
    assert oper.post(f"/settings/pacing/{ids['fast']}", {"per_minute": "1"}).status == 403
    assert overrides.quiet_hours(db, config) == config.quiet_hours
    assert overrides.caps(db, "fast", policy.Caps(6, 300, 1000)) == policy.Caps(6, 300, 1000)
    assert Client(app).get("/settings").status == 303  # anonymous: to the login page
