"""Quiet hours and pacing saved by staff win over the config, are validated, and reach a running worker."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway import outbox, overrides, policy, store
from gateway.errors import UserInputError
from gateway.states import OutState, Priority
from gateway.store import settings
from gateway.store import outbox as q
from tests.harness import FakeClock, Gateway, Network, make_config, wait_until

MSK = ZoneInfo("Europe/Moscow")


def test_saved_values_win_and_bad_ones_are_refused(tmp_path: Path) -> None:
    config = make_config(tmp_path, [])
    db = store.connect(config.database.path)
    assert overrides.quiet_hours(db, config) == config.quiet_hours
    overrides.save_quiet_hours(db, start="21:30", end="09:15", transactional=True, now=1.0)
    quiet = overrides.effective_config(db, config).quiet_hours
    assert (quiet.start, quiet.end, quiet.transactional) == (time(21, 30), time(9, 15), True)
    with pytest.raises(UserInputError, match="HH:MM"):
        overrides.save_quiet_hours(db, start="25:00", end="08:00", transactional=False, now=2.0)
    base = policy.Caps(6, 200, 1000)
    overrides.save_pacing(db, "sim1", per_minute=3, per_hour=None, per_day=50, now=3.0)
    assert overrides.caps(db, "sim1", base) == policy.Caps(3, 200, 50)
    assert overrides.caps(db, "sim2", base) == base
    with pytest.raises(UserInputError, match="per_day"):
        overrides.save_pacing(db, "sim1", per_day=0, now=4.0)
    settings.put(db, overrides.QUIET_KEY, '{"start": "late"}', 5.0)  # damaged by hand: the config applies
    assert overrides.quiet_hours(db, config) == config.quiet_hours


def test_a_running_worker_follows_quiet_hours_changed_by_staff(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 12, 0, tzinfo=MSK).timestamp(), tick=0.001)
    with Network(clock=clock) as net:
        sim = net.add_modem("generic")
        config = make_config(tmp_path, [sim.path])
        with Gateway(config, clock=clock) as gw:
            gw.online(1)
            # staff declare noon to 13:00 quiet; the worker picks it up at its next health check
            overrides.save_quiet_hours(gw.db, start="11:00", end="13:00", transactional=False, now=clock())
            worker = next(iter(list(gw.supervisor.workers.values())))
            worker._next_health = 0.0  # ask for the next loop turn to re-read the settings now
            wait_until(lambda: worker._next_health > 0, 30, "the worker's next health check")
            bulk = outbox.submit(gw.db, config, "+79161230000", "promo", now=clock(), priority=Priority.BULK)
            gw.supervisor.poke()
            row = wait_until(lambda: (r := q.get(gw.db, bulk)) and r["next_attempt_at"] > clock() and r, 30,
                             "the bulk message deferred by the new quiet hours")
        assert sim.submits == []
        assert row["next_attempt_at"] == datetime(2026, 11, 23, 13, 0, tzinfo=MSK).timestamp()
        assert row["state"] == OutState.QUEUED
