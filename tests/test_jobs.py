"""The scheduler: recurring campaigns fire at each occurrence and never twice; automations; retention."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway import campaigns, jobs, store
from gateway import config as configuration
from gateway.campaigns import CampaignState
from gateway.errors import UserInputError
from gateway.states import MessageClass
from gateway.store import campaigns as cstore
from gateway.store import contacts as cs
from tests.harness import FakeClock, wait_until

MSK = ZoneInfo("Europe/Moscow")


def _at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> float:
    return datetime(y, mo, d, h, mi, tzinfo=MSK).timestamp()


def _config(tmp_path: Path) -> configuration.Config:
    return configuration.parse({"database": {"path": str(tmp_path / "gw.db")}})


def _agents(db: store.Database, now: float, n: int = 3) -> None:
    for i in range(n):
        cs.ensure(db, f"+7916000{i:04d}", now, name=f"Агент {i}", role="agent")


def test_due_occurrence_is_a_pure_function() -> None:
    cron, zone = "0 10 1 * *", "Europe/Moscow"
    start = _at(2026, 1, 15)
    assert jobs.due_occurrence(cron, zone, None, start, _at(2026, 2, 1, 9, 59)) is None
    assert jobs.due_occurrence(cron, zone, None, start, _at(2026, 2, 1, 10, 0)) == _at(2026, 2, 1, 10)
    assert jobs.due_occurrence(cron, zone, _at(2026, 2, 1, 10), start, _at(2026, 2, 20)) is None
    # a gateway that was off: the latest occurrence fires late within the grace period, older ones are skipped
    assert jobs.due_occurrence(cron, zone, _at(2026, 2, 1, 10), start, _at(2026, 4, 1, 12)) == _at(2026, 4, 1, 10)
    assert jobs.due_occurrence(cron, zone, _at(2026, 2, 1, 10), start, _at(2026, 4, 2, 12)) is None
    assert jobs.next_occurrence(cron, zone, _at(2026, 2, 1, 10)) == _at(2026, 3, 1, 10)
    for bad in ("", "every month", "61 10 1 * *", "*/5 * * * *"):
        with pytest.raises(UserInputError):
            jobs.check_cron(bad, zone)


def test_a_recurring_campaign_fires_at_each_occurrence_and_never_twice(tmp_path: Path) -> None:
    config = _config(tmp_path)
    db = store.connect(config.database.path)
    now = _at(2026, 1, 10, 9)
    _agents(db, now)
    cid = campaigns.create(db, config, name="Приём заказов", message_class="service", kind="bulk", now=now,
                           actor="staff", body="{first_name}, приём заказов открыт", filters={"role": ["agent"]},
                           schedule="recurring", cron="0 10 1 * *")
    assert campaigns.start(db, config, cid, now=now, actor="staff") == CampaignState.SCHEDULED
    clock = FakeClock(now)
    fired: list[str] = []
    while clock() < _at(2026, 5, 15):  # four months in 3-hour steps, with a double tick at every step
        clock.advance(3 * 3600)
        for _ in range(2):
            fired += [occ for c, occ in jobs.tick(db, config, clock()).fired if c == cid]
    expected = [str(int(_at(2026, m, 1, 10))) for m in (2, 3, 4, 5)]
    assert fired == expected
    assert [r["occurrence"] for r in cstore.runs(db, cid)] == expected
    assert db.execute("SELECT count(*) FROM outbox WHERE campaign_id = ?", [cid]).fetchone()[0] == 12
    # a restart (a new connection, the clock stepped back to an occurrence) fires nothing again
    db2 = store.connect(config.database.path)
    clock.set(_at(2026, 5, 1, 10, 5))
    assert jobs.tick(db2, config, clock()).fired == []
    assert campaigns.fire(db2, config, cid, expected[-1], now=clock()) is None
    stats = campaigns.stats(db2, cid)
    assert stats.runs == 4 and stats.targeted == 12 and stats.queued_total == 12
    # a paused recurring campaign does not fire; resumed, it fires the next occurrence
    campaigns.pause(db2, cid, now=clock(), actor="staff")
    assert jobs.tick(db2, config, _at(2026, 6, 1, 10, 1)).fired == []
    campaigns.resume(db2, cid, now=_at(2026, 6, 2), actor="staff")
    assert jobs.tick(db2, config, _at(2026, 7, 1, 10, 1)).fired == [(cid, str(int(_at(2026, 7, 1, 10))))]


def test_a_campaign_at_a_time_fires_once_when_due(tmp_path: Path) -> None:
    config = _config(tmp_path)
    db = store.connect(config.database.path)
    now = _at(2026, 3, 1, 9)
    _agents(db, now, 2)
    cid = campaigns.create(db, config, name="в 12", message_class="service", kind="bulk", now=now, actor="staff",
                           body="Собрание в 15:00", filters={"role": ["agent"]}, schedule="at",
                           start_at=_at(2026, 3, 1, 12))
    campaigns.start(db, config, cid, now=now, actor="staff")
    assert jobs.tick(db, config, _at(2026, 3, 1, 11, 59)).fired == []
    assert jobs.tick(db, config, _at(2026, 3, 1, 12)).fired == [(cid, "once")]
    assert jobs.tick(db, config, _at(2026, 3, 1, 12, 1)).fired == []
    assert campaigns.get(db, cid)["state"] == CampaignState.RUNNING
    db.execute("UPDATE outbox SET state = 'delivered' WHERE campaign_id = ?", [cid])
    assert jobs.tick(db, config, _at(2026, 3, 1, 13)).finished == [cid]


def test_automations_are_off_by_default_and_follow_their_settings(tmp_path: Path) -> None:
    config = _config(tmp_path)
    db = store.connect(config.database.path)
    now = _at(2026, 4, 2, 8)
    _agents(db, now, 1)
    cs.ensure(db, "+79161111111", now, name="Ольга Петрова", attributes=json.dumps({"birthday": "1985-04-02"}))
    cs.ensure(db, "+79162222222", now, name="Мария", attributes=json.dumps({"birthday": "--04-02"}))
    cs.ensure(db, "+79163333333", now, name="Елена", attributes=json.dumps({"birthday": "1985-04-03"}))
    for phone in ("+79161111111", "+79163333333"):
        cs.record_consent(db, phone, MessageClass.ADVERTISING, True, "form", now)
    jobs.tick(db, config, now)
    assert campaigns.list_all(db) == []
    jobs.configure_automation(db, "birthday", {"enabled": True}, now=now)
    with pytest.raises(UserInputError):
        jobs.configure_automation(db, "birthday", {"colour": "red"}, now=now)
    jobs.tick(db, config, now)
    birthday = cstore.campaign_by_automation(db, "birthday")
    assert birthday["state"] == CampaignState.SCHEDULED and birthday["class"] == "advertising"
    report = jobs.tick(db, config, _at(2026, 4, 2, 10, 0))
    assert report.fired == [(birthday["id"], str(int(_at(2026, 4, 2, 10))))]
    rows = [dict(r) for r in db.execute("SELECT phone, body FROM outbox")]
    assert [r["phone"] for r in rows] == ["+79161111111"]  # Мария has no advertising consent: skipped, counted
    code = next(iter(cstore.coupon_codes(db, birthday["id"], report.fired[0][1]).values()))
    assert rows[0]["body"].startswith(f"Ольга, с днём рождения! Дарим купон {code}")
    assert campaigns.stats(db, birthday["id"]).skipped == {"no_consent": 1}
    jobs.configure_automation(db, "birthday", {"enabled": False}, now=now)
    jobs.tick(db, config, _at(2026, 4, 2, 11))
    assert campaigns.get(db, birthday["id"])["state"] == CampaignState.PAUSED
    assert jobs.tick(db, config, _at(2026, 4, 3, 10, 0)).fired == []


def test_retention_runs_once_a_day(tmp_path: Path) -> None:
    config = _config(tmp_path)
    db = store.connect(config.database.path)
    now = _at(2026, 4, 2, 8)
    db.execute("INSERT INTO inbox (phone, body, received_at) VALUES ('+79161111111', 'старое', ?)",
               [now - 400 * 86400])
    assert jobs.tick(db, config, now).purged == (1, 0)
    assert jobs.tick(db, config, now + 60).purged is None
    assert jobs.tick(db, config, now + 86400).purged == (0, 0)


def test_the_scheduler_ticks_on_its_own_with_the_injected_clock(tmp_path: Path) -> None:
    config = _config(tmp_path)
    db = store.connect(config.database.path)
    now = _at(2026, 3, 1, 9)
    _agents(db, now, 2)
    cid = campaigns.create(db, config, name="в 12", message_class="service", kind="bulk", now=now, actor="staff",
                           body="Собрание", filters={"role": ["agent"]}, schedule="at", start_at=_at(2026, 3, 1, 12))
    campaigns.start(db, config, cid, now=now, actor="staff")
    clock = FakeClock(now)
    scheduler = jobs.Jobs(config, clock, interval=0.05).start()
    try:
        clock.set(_at(2026, 3, 1, 12, 0))
        wait_until(lambda: cstore.runs(db, cid), 10, "the scheduled campaign to fire")
    finally:
        scheduler.stop()
    assert db.execute("SELECT count(*) FROM outbox WHERE campaign_id = ?", [cid]).fetchone()[0] == 2


def test_demo_data_switches_the_automations_on(tmp_path: Path) -> None:
    from gateway import demo_data

    config = _config(tmp_path)
    db = store.connect(config.database.path)
    now = _at(2026, 4, 2, 8)
    agent = cs.ensure(db, "+79160000001", now, name="Анна", role="agent")
    for i in range(4):
        cs.ensure(db, f"+7916222{i:04d}", now, name=f"Клиентка {i}", agent_id=agent)
        cs.record_consent(db, f"+7916222{i:04d}", MessageClass.ADVERTISING, True, "paper", now)
    demo_data.seed(db, config, now)
    demo_data.seed(db, config, now)  # a second call adds nothing
    assert [c["name"] for c in campaigns.list_all(db)] == ["Весенняя скидка"]
    draft = campaigns.list_all(db)[0]
    assert campaigns.preview(db, config, draft["id"], now=now).recipients == 4
    jobs.tick(db, config, now)
    assert {c["automation"] for c in campaigns.list_all(db)} == {None, *jobs.AUTOMATIONS}
    assert jobs.tick(db, config, _at(2026, 4, 2, 10)).fired  # the birthday greeting of the customer born today


@pytest.mark.parametrize(("changes", "fragment"), [
    ({"cron": "* * * * *"}, "once an hour"),
    ({"body": "С днём рождения, {nmae}!"}, "nmae"),
    ({"body": "Скидка на вино ко дню рождения"}, "restricted"),
    ({"days": 0}, "days"),
])
def test_automation_changes_are_checked_like_campaigns(tmp_path, changes, fragment) -> None:
    from gateway import jobs as jobs_module
    from gateway import store as store_module
    from gateway.errors import UserInputError

    db = store_module.connect(tmp_path / "a.db")
    name = "agent_nudge" if "days" in changes else "birthday"
    with pytest.raises(UserInputError, match=fragment):
        jobs_module.configure_automation(db, name, changes, now=1.0)
