"""Quiet hours in the recipient's zone and per-SIM caps, with an injected clock, counted at the simulator."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from gateway import outbox
from gateway.states import MessageClass, OutState, Priority
from gateway.store import contacts
from gateway.store import outbox as q
from tests.harness import FakeClock, Gateway, Network, make_config, wait_until

MSK = ZoneInfo("Europe/Moscow")


def _at(y: int, mo: int, d: int, h: int, mi: int, s: int = 0, zone: ZoneInfo = MSK) -> float:
    return datetime(y, mo, d, h, mi, s, tzinfo=zone).timestamp()


def test_no_bulk_message_leaves_inside_the_recipients_quiet_hours(tmp_path: Path) -> None:
    clock = FakeClock(_at(2026, 11, 23, 21, 0), tick=0.001)  # time creeps on, as it does
    moscow = [f"+7916{8000000 + i:07d}" for i in range(5)]
    vladivostok = "+79147000001"   # stored zone: 21:00 in Moscow is 04:00 there
    berlin = "+4915112345678"      # phonenumbers gives one zone: 19:00 there, not quiet
    with Network(clock=clock) as net:
        sim = net.add_modem("generic")
        config = make_config(tmp_path, [sim.path])
        with Gateway(config, clock=clock) as gw:
            now = clock()
            contacts.ensure(gw.db, vladivostok, now, timezone="Asia/Vladivostok")
            bulk = [outbox.submit(gw.db, config, n, f"bulk {n}", now=now, priority=Priority.BULK)
                    for n in [*moscow, vladivostok]]
            berlin_id = outbox.submit(gw.db, config, berlin, "bulk to Berlin", now=now, priority=Priority.BULK)
            urgent = [outbox.submit(gw.db, config, n, f"order ready {n}", now=now) for n in moscow[:3]]
            gw.supervisor.poke()
            for n in moscow[:3]:
                assert [m.text for m in net.phone(n).wait_inbox(1, 30)] == [f"order ready {n}"]
            assert [m.text for m in net.phone(berlin).wait_inbox(1, 30)] == ["bulk to Berlin"]
            morning = _at(2026, 11, 24, 8, 0)
            wait_until(lambda: all(q.get(gw.db, i)["next_attempt_at"] >= morning - 7 * 3600 for i in bulk), 30,
                       "bulk deferred to the morning")
            assert all(q.get(gw.db, i)["state"] == OutState.QUEUED for i in bulk)
            assert q.get(gw.db, bulk[-1])["next_attempt_at"] == _at(2026, 11, 24, 8, 0, zone=ZoneInfo("Asia/Vladivostok"))
            assert q.get(gw.db, bulk[0])["next_attempt_at"] == morning
            # Vladivostok's morning comes first (01:00 Moscow): only that one goes then.
            clock.set(_at(2026, 11, 24, 1, 0, 30))
            gw.supervisor.poke()
            net.phone(vladivostok).wait_inbox(1, 30)
            assert all(net.phone(n).inbox == [] or n in moscow[:3] for n in moscow)
            assert all(len(net.phone(n).inbox) == (1 if n in moscow[:3] else 0) for n in moscow)
            clock.set(morning + 30)
            gw.supervisor.poke()
            for n in moscow:
                net.phone(n).wait_inbox(2 if n in moscow[:3] else 1, 30)
            assert q.get(gw.db, berlin_id)["state"] in (OutState.SENT, OutState.DELIVERED)
        bulk_submits = [r for r in sim.submits if r.text.startswith("bulk") and r.error is None]
        assert len(bulk_submits) == 7
        for record in bulk_submits:
            zone = {vladivostok: ZoneInfo("Asia/Vladivostok"), berlin: ZoneInfo("Europe/Berlin")}.get(
                record.destination, MSK)
            local = datetime.fromtimestamp(record.time, zone)
            assert 8 <= local.hour < 20, (record.destination, local)


def test_per_minute_and_per_day_caps_hold_at_the_simulator(tmp_path: Path) -> None:
    start = _at(2026, 11, 23, 10, 0)
    clock = FakeClock(start)
    with Network(clock=clock) as net:
        sim = net.add_modem("generic")
        sim.set_faults(dr_status="none")
        config = make_config(tmp_path, [sim.path], modem={"per_minute": 5, "per_hour": 1000, "per_day": 12})
        with Gateway(config, clock=clock) as gw:
            gw.online(1)
            for i in range(20):
                outbox.submit(gw.db, config, f"+7916{9000000 + i:07d}", f"capped {i}", now=start)
            gw.supervisor.poke()
            with clock.running(step=1.0):  # one simulated second per tick
                wait_until(lambda: len(sim.submits) >= 12, 60, "the day's 12 parts")
            with clock.running(step=30.0):  # hours more of the same day change nothing
                wait_until(lambda: clock() > start + 6 * 3600, 60, "six more hours")
            assert len(sim.submits) == 12
            next_day = _at(2026, 11, 24, 0, 0, 5)
            clock.set(next_day)
            gw.supervisor.poke()
            with clock.running(step=1.0):
                wait_until(lambda: len(sim.submits) == 20, 60, "the rest on the next day")
        times = sorted(r.time for r in sim.submits)
        for t in times:
            assert sum(1 for u in times if t <= u < t + 60) <= 5
        day_one = [t for t in times if t < next_day]
        assert len(day_one) == 12
        assert gw.counts()["sent"] == 20
