"""Faults found in review, each reproduced on the simulator: a multipart message resumed on another SIM, a wrong
SIM PIN, a network outage."""

from __future__ import annotations

from pathlib import Path

from gateway import outbox, profiles, store
from gateway.modem import ModemSession
from gateway.states import MessageClass, OutState, Priority
from gateway.store import modems as store_modems
from gateway.store import outbox as q
from tests.harness import Gateway, Network, make_config, wait_state, wait_until

LONG = "Заказ №123 собран и ждёт вас в офисе до пятницы. Возьмите, пожалуйста, паспорт и номер заказа. " * 2


def test_a_multipart_message_left_half_sent_by_a_vanished_sim_is_sent_whole_by_another(tmp_path: Path) -> None:
    with Network() as net:
        b = net.add_modem("generic")
        config = make_config(tmp_path, [b.path])
        db = store.connect(config.database.path)
        # The state modem A leaves when it vanishes after part 1 of 3: part recorded, message requeued.
        message_id = outbox.submit(db, config, "+79167770001", LONG, now=1.0)
        gone = store_modems.upsert_identity(db, "356938030099999", 1.0, name="vanished")
        q.set_concat(db, message_id, 42, 3)
        q.record_part(db, message_id, 1, gone, 17, 2.0)
        with Gateway(config) as gw:
            gw.supervisor.poke()
            wait_state(gw.db, message_id, OutState.DELIVERED)
            parts = q.parts(gw.db, message_id)
        assert [m.text for m in net.phone("+79167770001").inbox] == [LONG]
        assert [(p["series"], p["state"]) for p in parts if p["modem_id"] == gone] == [(1, "superseded")]
        fresh = [p for p in parts if p["state"] != "superseded"]
        assert sorted(p["seq"] for p in fresh) == [1, 2, 3] and {p["series"] for p in fresh} == {2}
        assert len(b.submits) == 3


def _sim_pin_state(path: str) -> str:
    session = ModemSession(path, profiles.load_profile("generic"))
    session.open()
    try:
        session.sync()
        return session.command("AT+CPIN?").lines[0]
    finally:
        session.close()


def test_a_wrong_pin_is_tried_once_ever_and_the_modem_is_left_alone(tmp_path: Path) -> None:
    with Network() as net:
        sim = net.add_modem("generic")
        sim.set_faults(pin="1111")
        config = make_config(tmp_path, [sim.path], modem={"pin": "2222"})
        with Gateway(config) as gw:
            worker = wait_until(lambda: next(iter(list(gw.supervisor.workers.values())), None), 30, "a worker")
            wait_until(lambda: worker.parked, 30, "the worker to park")
            for _ in range(3):
                gw.supervisor.scan()  # rescans must not hand the port back to a parked worker
            assert not worker.connected.is_set()
            row = store_modems.list_modems(gw.db)[0]
            assert row["status"] == "error" and "refused the configured PIN" in row["last_error"]
        with Gateway(config) as gw:  # a restart with the same wrong PIN does not try it again
            worker = wait_until(lambda: next(iter(list(gw.supervisor.workers.values())), None), 30, "a worker")
            wait_until(lambda: worker.parked, 30, "the worker to park")
            assert "never tried twice" in worker.parked
        assert _sim_pin_state(sim.path) == "+CPIN: SIM PIN"  # not SIM PUK: two tries are left


def test_a_network_outage_costs_no_attempts_and_fails_nothing(tmp_path: Path) -> None:
    with Network() as net:
        sim = net.add_modem("huawei-e173")
        sim.set_faults(no_network=True)
        config = make_config(tmp_path, [sim.path], sending={"max_attempts": 2, "retry_base_s": 1, "retry_max_s": 1})
        with Gateway(config) as gw:
            gw.online(1)
            now = gw.supervisor.wiring.clock()
            ids = [outbox.submit(gw.db, config, f"+7916888{i:04d}", f"after the outage {i}", now=now)
                   for i in range(10)]
            gw.supervisor.poke()
            wait_until(lambda: store_modems.list_modems(gw.db)[0]["registration"] == "searching", 30,
                       "the outage to be seen")
            assert gw.counts()["queued"] == 10 and sim.submits == []
            sim.set_faults(no_network=False)
            for i in ids:
                wait_state(gw.db, i, OutState.DELIVERED, timeout=60)
            rows = [q.get(gw.db, i) for i in ids]
        assert all(r["attempts"] == 1 for r in rows)


def test_network_loss_between_health_checks_gives_the_attempt_back(tmp_path: Path) -> None:
    with Network() as net:
        sim = net.add_modem("generic")
        config = make_config(tmp_path, [sim.path], sending={"max_attempts": 1})
        with Gateway(config) as gw:
            gw.online(1)
            sim.set_faults(cms_error_next=(331, 1))  # registered a moment ago; the submit says otherwise
            message_id = outbox.submit(gw.db, config, "+79168889999", "must not fail", now=gw.supervisor.wiring.clock())
            gw.supervisor.poke()
            row = wait_state(gw.db, message_id, OutState.DELIVERED, timeout=90)
        assert row["attempts"] == 1  # with max_attempts = 1, a counted 331 would have failed it


def test_advertising_at_transactional_priority_still_waits_for_the_morning(tmp_path: Path) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from gateway import policy
    from gateway.store import contacts

    config = make_config(tmp_path, [])
    db = store.connect(config.database.path)
    night = datetime(2026, 11, 23, 3, 0, tzinfo=ZoneInfo("Europe/Moscow")).timestamp()
    contacts.record_consent(db, "+79169990000", MessageClass.ADVERTISING, True, "form", night)
    ad = outbox.submit(db, config, "+79169990000", "скидка 20%", now=night, priority=Priority.TRANSACTIONAL,
                       message_class=MessageClass.ADVERTISING)
    modem_id = store_modems.upsert_identity(db, "356938030000005", night)
    rules = outbox.ClaimPolicy(config, policy.Caps(100, 1000, 10000), clock_ok=lambda: True)
    assert isinstance(outbox.claim(db, modem_id, night, rules), outbox.NothingToSend)
    assert datetime.fromtimestamp(q.get(db, ad)["next_attempt_at"], ZoneInfo("Europe/Moscow")).hour == 8
