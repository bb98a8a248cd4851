"""Issue 4 acceptance, end to end: the real workers on simulated modems over ptys."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from gateway import outbox, store
from gateway.states import MessageClass, OutState, Priority
from gateway.store import contacts
from gateway.store import outbox as q
from tests.harness import Gateway, Network, make_config, wait_state, wait_until


def _text(i: int) -> str:
    """A third Cyrillic, a third multipart, the rest short Latin — each unique."""
    if i % 3 == 0:
        return f"Здравствуйте! Ваш заказ №{i} готов, ждём вас в офисе."
    if i % 3 == 1:
        return f"Message {i}: " + "long text that needs several parts {with extension chars} " * 4
    return f"Short note {i}"


def test_two_modems_500_messages_arrive_once_exactly_and_are_delivered(tmp_path: Path) -> None:
    with Network() as net:
        sims = [net.add_modem("generic"), net.add_modem("huawei-e173")]
        config = make_config(tmp_path, [s.path for s in sims])
        with Gateway(config) as gw:
            expected = {}
            with store.immediate(gw.db):
                for i in range(500):
                    number = f"+7916{3000000 + i:07d}"
                    expected[number] = _text(i)
                    outbox.submit(gw.db, config, number, expected[number], now=gw.supervisor.wiring.clock())
            gw.supervisor.poke()
            for number, text in expected.items():
                received = net.phone(number).wait_inbox(1, timeout=60)
                assert [m.text for m in received] == [text]
            counts = gw.wait_counts(delivered=500)
            assert counts["delivered"] == 500
        # both modems worked, and no phone got anything twice
        assert all(len(net.phone(n).inbox) == 1 for n in expected)
        used = Counter(r["modem_id"] for r in gw.db.execute("SELECT modem_id FROM outbox"))
        assert len(used) == 2


def test_a_failing_number_is_retried_then_failed_without_blocking_the_rest(tmp_path: Path) -> None:
    bad = "+79160000013"
    with Network() as net:
        sim = net.add_modem("generic")
        sim.set_faults(cms_error_for={bad: 38})
        config = make_config(tmp_path, [sim.path], sending={"max_attempts": 3, "retry_base_s": 1,
                                                            "retry_max_s": 1})
        with Gateway(config) as gw:
            now = gw.supervisor.wiring.clock()
            bad_id = outbox.submit(gw.db, config, bad, "to the broken number", now=now)
            good = [outbox.submit(gw.db, config, f"+7916{4000000 + i:07d}", f"fine {i}", now=now)
                    for i in range(499)]
            gw.supervisor.poke()
            gw.wait_counts(delivered=499)
            row = wait_state(gw.db, bad_id, OutState.FAILED)
        assert row["attempts"] == 3
        assert "38" in row["last_error"] and "gave up after 3 attempts" in row["last_error"]
        assert all(q.get(gw.db, i)["state"] == OutState.DELIVERED for i in good)
        tries = [s for s in sim.submits if s.destination == bad]
        assert len(tries) == 3
        # backoff: the attempts are spread in time, not fired back to back
        assert all(b.time - a.time >= 0.4 for a, b in zip(tries, tries[1:]))
        assert net.phone(bad).inbox == []


def test_unplugged_modem_work_moves_and_it_comes_back_by_imei_under_a_new_name(tmp_path: Path) -> None:
    ports = tmp_path / "ports"
    ports.mkdir()
    with Network() as net:
        a, b = net.add_modem("generic"), net.add_modem("generic")
        (ports / "usb-a").symlink_to(a.path)
        (ports / "usb-b").symlink_to(b.path)
        config = make_config(tmp_path, [str(ports / "*")], modem={"per_minute": 600})
        with Gateway(config) as gw:
            gw.online(2)
            now = gw.supervisor.wiring.clock()
            numbers = [f"+7916{5000000 + i:07d}" for i in range(120)]
            ids = [outbox.submit(gw.db, config, n, f"batch {i}", now=now) for i, n in enumerate(numbers)]
            gw.supervisor.poke()
            gw.wait_sent(10)
            a.unplug()
            (ports / "usb-a").unlink()
            gw.wait_sent(60)
            replugged_at = time.time()
            new_path = a.replug()
            (ports / "usb-a-new-name").symlink_to(new_path)
            gw.supervisor.poke()
            worker = gw.supervisor.workers[a.imei]
            wait_until(lambda: worker.connected.is_set() and worker.path.endswith("usb-a-new-name"), 30,
                       "modem a back under its new name")
            # Status reports due while the modem was unplugged may never come, so "sent" is the bar here.
            gw.wait_sent(len(ids) - gw.counts()["uncertain"], timeout=60)
            states = Counter(q.get(gw.db, i)["state"] for i in ids)
        received = {n: [m.text for m in net.phone(n).inbox] for n in numbers}
        uncertain = [numbers[k] for k, i in enumerate(ids) if q.get(gw.db, i)["state"] == OutState.UNCERTAIN]
        assert len(uncertain) <= 1  # at most the one message in flight when the cable came out
        for k, n in enumerate(numbers):
            if n not in uncertain:
                assert received[n] == [f"batch {k}"], (n, received[n])
        assert states[OutState.DELIVERED] + states[OutState.SENT] >= len(ids) - 1
        # modem a really came back and sent again after the re-plug
        assert len(gw.supervisor.workers) == 2
        after = [s for s in a.submits if s.time > replugged_at]
        assert after, "the re-plugged modem sent nothing"


def test_opt_out_mid_campaign_stops_everything_queued_for_that_number(tmp_path: Path) -> None:
    target = "+79160000777"
    with Network() as net:
        sim = net.add_modem("generic")
        config = make_config(tmp_path, [sim.path], modem={"per_minute": 600},
                             quiet_hours={"start": "00:00", "end": "00:00"})  # no quiet hours: real clock
        with Gateway(config) as gw:
            now = gw.supervisor.wiring.clock()
            contacts.ensure(gw.db, target, now)
            contacts.record_consent(gw.db, target, MessageClass.ADVERTISING, True, "test", now)
            for i in range(30):
                outbox.submit(gw.db, config, target, f"promo {i}", now=now, priority=Priority.BULK,
                              message_class=MessageClass.ADVERTISING)
                outbox.submit(gw.db, config, f"+7916{6000000 + i:07d}", f"notice {i}", now=now,
                              priority=Priority.BULK)
            gw.supervisor.poke()
            net.phone(target).wait_inbox(2, timeout=30)
            with store.immediate(gw.db):
                contacts.opt_out(gw.db, target, "sms", gw.supervisor.wiring.clock())
            seen_at_opt_out = len(net.phone(target).inbox)
            gw.wait_counts(cancelled=1, timeout=60)
            wait_until(lambda: gw.counts()["queued"] == 0 and gw.counts()["sending"] == 0, 60, "queue drained")
        # at most the one message already claimed when STOP arrived went out after it
        assert len(net.phone(target).inbox) <= seen_at_opt_out + 1
        rows = gw.db.execute("SELECT state, last_error FROM outbox WHERE phone = ?", [target]).fetchall()
        cancelled = [r for r in rows if r[0] == OutState.CANCELLED]
        assert cancelled and all(r[1] == "recipient opted out" for r in cancelled)
        assert len(cancelled) + len(net.phone(target).inbox) == 30
