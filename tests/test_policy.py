"""Send policy, pure and at claim level: quiet hours, zones, caps, backoff, consent, clock sync."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway import outbox, policy, store
from gateway.config import QuietHours
from gateway.states import MessageClass, OutState, Priority
from gateway.store import contacts, modems
from gateway.store import outbox as q
from tests.harness import make_config

BERLIN, MSK = ZoneInfo("Europe/Berlin"), ZoneInfo("Europe/Moscow")
NIGHT = QuietHours(time(20, 0), time(8, 0))


def _ts(zone: ZoneInfo, *args: int) -> float:
    return datetime(*args, tzinfo=zone).timestamp()


@pytest.mark.parametrize(("local", "until"), [
    ((2026, 11, 23, 19, 59), None),
    ((2026, 11, 23, 20, 0), (2026, 11, 24, 8, 0)),
    ((2026, 11, 24, 3, 0), (2026, 11, 24, 8, 0)),
    ((2026, 11, 24, 8, 0), None),
])
def test_quiet_until_overnight_window(local: tuple[int, ...], until: tuple[int, ...] | None) -> None:
    got = policy.quiet_until(_ts(MSK, *local), MSK, NIGHT)
    assert got == (None if until is None else _ts(MSK, *until))


def test_quiet_hours_end_at_local_eight_across_a_dst_change() -> None:
    # Berlin leaves summer time in the night of 25 October 2026: the night is 25 hours long.
    got = policy.quiet_until(_ts(BERLIN, 2026, 10, 24, 22, 0), BERLIN, NIGHT)
    assert datetime.fromtimestamp(got, BERLIN).replace(tzinfo=None) == datetime(2026, 10, 25, 8, 0)


def test_a_daytime_window_and_a_disabled_one() -> None:
    lunch = QuietHours(time(13, 0), time(14, 0))
    assert policy.quiet_until(_ts(MSK, 2026, 1, 5, 13, 30), MSK, lunch) == _ts(MSK, 2026, 1, 5, 14, 0)
    assert policy.quiet_until(_ts(MSK, 2026, 1, 5, 12, 30), MSK, lunch) is None
    assert policy.quiet_until(_ts(MSK, 2026, 1, 5, 3, 0), MSK, QuietHours(time(0), time(0))) is None


def test_recipient_zone_prefers_the_contact_then_a_single_number_zone_then_the_office() -> None:
    assert policy.recipient_zone("+79161234567", "Asia/Omsk", "Europe/Moscow").key == "Asia/Omsk"
    assert policy.recipient_zone("+4915112345678", None, "Europe/Moscow").key == "Europe/Berlin"
    assert policy.recipient_zone("+79161234567", None, "Asia/Yekaterinburg").key == "Asia/Yekaterinburg"
    assert policy.recipient_zone("+79161234567", "Not/AZone", "Europe/Moscow").key == "Europe/Moscow"


def test_caps_wait_for_the_window_that_is_full() -> None:
    caps = policy.Caps(per_minute=5, per_hour=100, per_day=500)
    free = policy.Recent(0, None, 0, None, 0, day_ends=1000.0)
    assert caps.wait(100.0, free, 3) == 0
    minute_full = policy.Recent(5, 70.0, 5, 70.0, 5, day_ends=1000.0)
    assert caps.wait(100.0, minute_full, 1) == pytest.approx(30.0)
    day_full = policy.Recent(0, None, 0, None, 500, day_ends=1000.0)
    assert caps.wait(100.0, day_full, 1) == pytest.approx(900.0)
    # a message bigger than the minute cap still goes, alone, into an empty minute
    assert caps.wait(100.0, free, 7) == 0


def test_backoff_grows_and_is_capped() -> None:
    rng = random.Random(1)
    delays = [policy.backoff(n, 30, 600, rng) for n in range(1, 8)]
    assert 15 <= delays[0] <= 30 and 30 <= delays[1] <= 60
    assert all(300 <= d <= 600 for d in delays[5:])


def test_spacing_is_jittered_around_the_even_rhythm() -> None:
    rng = random.Random(2)
    gaps = [policy.spacing(6, rng) for _ in range(200)]
    assert 7.0 <= min(gaps) and max(gaps) <= 13.0 and len({round(g, 3) for g in gaps}) > 150


@pytest.fixture
def db_config(tmp_path: Path):
    config = make_config(tmp_path, [], quiet_hours={"start": "00:00", "end": "00:00"})
    db = store.connect(config.database.path)
    modem_id = modems.upsert_identity(db, "356938030000005", 1.0)
    return db, config, modem_id


def _rules(config, clock_ok: bool = True) -> outbox.ClaimPolicy:
    return outbox.ClaimPolicy(config, policy.Caps(1000, 10000, 100000), clock_ok=lambda: clock_ok)


def test_bulk_waits_while_the_clock_is_not_synchronised(db_config) -> None:
    db, config, modem_id = db_config
    config = replace(config, sending=replace(config.sending, require_clock_sync=True))
    bulk = outbox.submit(db, config, "+79160000001", "promo", now=1.0, priority=Priority.BULK)
    urgent = outbox.submit(db, config, "+79160000002", "order", now=2.0)
    first = outbox.claim(db, modem_id, 10.0, _rules(config, clock_ok=False))
    assert isinstance(first, outbox.Claimed) and first.id == urgent
    assert isinstance(outbox.claim(db, modem_id, 10.0, _rules(config, clock_ok=False)), outbox.NothingToSend)
    assert q.get(db, bulk)["state"] == OutState.QUEUED
    second = outbox.claim(db, modem_id, 10.0, _rules(config, clock_ok=True))
    assert isinstance(second, outbox.Claimed) and second.id == bulk


def test_transactional_goes_before_older_bulk(db_config) -> None:
    db, config, modem_id = db_config
    ids = [outbox.submit(db, config, f"+7916000000{i}", "b", now=float(i), priority=Priority.BULK) for i in range(3)]
    urgent = outbox.submit(db, config, "+79160000009", "t", now=9.0)
    order = [outbox.claim(db, modem_id, 20.0, _rules(config)).id for _ in range(4)]
    assert order == [urgent, *ids]


def test_advertising_needs_consent_and_opt_out_cancels_at_claim(db_config) -> None:
    db, config, modem_id = db_config
    ad = dict(priority=Priority.BULK, message_class=MessageClass.ADVERTISING)
    no_consent = outbox.submit(db, config, "+79160000011", "ad", now=1.0, **ad)
    contacts.record_consent(db, "+79160000012", MessageClass.ADVERTISING, True, "form", 1.0)
    consented = outbox.submit(db, config, "+79160000012", "ad", now=2.0, **ad)
    contacts.record_consent(db, "+79160000013", MessageClass.ADVERTISING, True, "form", 1.0)
    opted_out = outbox.submit(db, config, "+79160000013", "ad", now=3.0, **ad)
    service_reply = outbox.submit(db, config, "+79160000013", "your order", now=4.0)
    contacts.opt_out(db, "+79160000013", "sms", 5.0)
    claimed = []
    while isinstance(c := outbox.claim(db, modem_id, 10.0, _rules(config)), outbox.Claimed):
        claimed.append(c.id)
    assert sorted(claimed) == sorted([consented, service_reply])
    assert q.get(db, no_consent)["last_error"] == "no advertising consent on record"
    assert q.get(db, opted_out)["last_error"] == "recipient opted out"
    assert [e["action"] for e in contacts.consent_history(db, "+79160000013")] == ["granted", "withdrawn"]


def test_expired_messages_are_cancelled_not_sent(db_config) -> None:
    db, config, modem_id = db_config
    stale = outbox.submit(db, config, "+79160000021", "too late", now=1.0, expires_at=5.0)
    assert isinstance(outbox.claim(db, modem_id, 10.0, _rules(config)), outbox.NothingToSend)
    assert q.get(db, stale)["state"] == OutState.CANCELLED


def test_an_idempotency_key_never_queues_twice(db_config) -> None:
    db, config, _ = db_config
    first = outbox.submit(db, config, "+79160000031", "reply", now=1.0, idempotency_key="reply:7:1")
    again = outbox.submit(db, config, "+79160000031", "reply", now=2.0, idempotency_key="reply:7:1")
    assert first == again and q.counts(db)["queued"] == 1
