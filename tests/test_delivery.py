"""Delivery reports settle parts and messages; pinned messages use their SIM; interrupted sends become uncertain."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import outbox, store
from gateway.errors import UserInputError
from gateway.states import OutState, PartState, Priority
from gateway.store import modems as store_modems
from gateway.store import outbox as q
from gateway.store import users
from tests.harness import Gateway, Network, make_config, wait_state, wait_until


@pytest.mark.parametrize(("dr_status", "final", "part_state"), [
    ("delivered", OutState.DELIVERED, PartState.DELIVERED),
    ("temporary_then_delivered", OutState.DELIVERED, PartState.DELIVERED),
    ("permanent", OutState.UNDELIVERED, PartState.FAILED),
])
def test_status_reports_settle_every_part(tmp_path: Path, dr_status: str, final: OutState,
                                          part_state: PartState) -> None:
    with Network() as net:
        sim = net.add_modem("quectel-ec25")
        sim.set_faults(dr_status=dr_status, dr_delay=0.05)
        config = make_config(tmp_path, [sim.path])
        with Gateway(config) as gw:
            long_text = "Длинное сообщение о заказе, которое не влезает в одну часть. " * 3
            message_id = outbox.submit(gw.db, config, "+79162223344", long_text, now=gw.supervisor.wiring.clock())
            gw.supervisor.poke()
            wait_state(gw.db, message_id, final)
            # a failed part settles the message at once; the other parts' reports follow
            parts = wait_until(lambda: (ps := q.parts(gw.db, message_id)) and all(
                p["state"] == part_state for p in ps) and len(ps) == 3 and ps, 30, "every part reported")
            row = q.get(gw.db, message_id)
        assert row["state"] == final
        assert row["parts_total"] == 3 and len(parts) == 3
        assert {p["state"] for p in parts} == {part_state}
        assert [p["mr"] for p in parts] == [s.mr for s in sim.submits]
        if final == OutState.DELIVERED:
            assert [m.text for m in net.phone("+79162223344").inbox] == [long_text]


def test_a_pinned_reply_leaves_through_its_own_sim(tmp_path: Path) -> None:
    with Network() as net:
        a, b = net.add_modem("generic"), net.add_modem("generic")
        config = make_config(tmp_path, [a.path, b.path])
        with Gateway(config) as gw:
            gw.online(2)
            b_id = next(m["id"] for m in store_modems.list_modems(gw.db) if m["imei"] == b.imei)
            now = gw.supervisor.wiring.clock()
            ids = [outbox.submit(gw.db, config, f"+7916333{i:04d}", f"reply {i}", now=now, pinned_modem_id=b_id)
                   for i in range(20)]
            gw.supervisor.poke()
            for i in ids:
                wait_state(gw.db, i, OutState.DELIVERED)
        assert a.submits == [] and len(b.submits) == 20


def _interrupted(db: store.Database, config, priority: Priority) -> int:
    message_id = outbox.submit(db, config, "+79164445566", "in flight", now=1.0, priority=priority)
    modem_id = store_modems.upsert_identity(db, "356938030000005", 1.0)
    with store.immediate(db):
        q.mark_sending(db, message_id, modem_id, 2.0)
    return message_id


@pytest.mark.parametrize(("policy", "priority", "state"), [
    ("hold", Priority.TRANSACTIONAL, OutState.UNCERTAIN),
    ("hold", Priority.BULK, OutState.UNCERTAIN),
    ("retry", Priority.TRANSACTIONAL, OutState.QUEUED),
    ("retry", Priority.BULK, OutState.UNCERTAIN),  # bulk always waits for staff
])
def test_recovery_after_a_crash_follows_the_policy(tmp_path: Path, policy: str, priority: Priority,
                                                   state: OutState) -> None:
    config = make_config(tmp_path, [], sending={"uncertain_transactional": policy})
    db = store.connect(config.database.path)
    message_id = _interrupted(db, config, priority)
    assert outbox.recover_after_crash(db, config, now=3.0) == 1
    row = q.get(db, message_id)
    assert row["state"] == state
    assert "restart" in row["last_error"]
    assert outbox.recover_after_crash(db, config, now=4.0) == 0


def test_staff_resolve_uncertain_messages_and_it_is_audited(tmp_path: Path) -> None:
    config = make_config(tmp_path, [])
    db = store.connect(config.database.path)
    first, second = _interrupted(db, config, Priority.BULK), _interrupted(db, config, Priority.BULK)
    outbox.recover_after_crash(db, config, now=3.0)
    outbox.resolve_uncertain(db, first, "resend", "olga", now=5.0)
    outbox.resolve_uncertain(db, second, "drop", "olga", now=5.0)
    assert q.get(db, first)["state"] == OutState.QUEUED and q.get(db, second)["state"] == OutState.CANCELLED
    with pytest.raises(UserInputError, match="not waiting for a decision"):
        outbox.resolve_uncertain(db, first, "drop", "olga", now=6.0)
    actions = [(e["actor"], e["action"]) for e in users.audit_entries(db)]
    assert ("olga", "outbox.uncertain.resend") in actions and ("olga", "outbox.uncertain.drop") in actions


def test_a_row_no_modem_could_send_fails_once_and_the_queue_moves_on(tmp_path: Path) -> None:
    with Network() as net:
        sim = net.add_modem("generic")
        config = make_config(tmp_path, [sim.path])
        with Gateway(config) as gw:
            now = gw.supervisor.wiring.clock()
            # written past the API's checks (an import bug, a hand edit): 300 parts cannot be concatenated
            bad = q.enqueue(gw.db, phone="+79165556677", body="x" * 153 * 300, message_class="service",
                            priority=0, now=now, parts_total=1, encoding="gsm7")
            good = outbox.submit(gw.db, config, "+79165556678", "fine", now=now)
            gw.supervisor.poke()
            row = wait_state(gw.db, bad, OutState.FAILED)
            wait_state(gw.db, good, OutState.DELIVERED)
        assert "cannot be encoded" in row["last_error"] and sim.submits[0].destination == "+79165556678"


def test_a_report_is_only_applied_to_a_part_for_the_same_recipient(tmp_path: Path) -> None:
    config = make_config(tmp_path, [])
    db = store.connect(config.database.path)
    modem_id = store_modems.upsert_identity(db, "356938030000005", 1.0)
    first = outbox.submit(db, config, "+79160000101", "one", now=1.0)
    second = outbox.submit(db, config, "+79160000102", "two", now=1.0)
    for message_id in (first, second):
        with store.immediate(db):
            q.mark_sending(db, message_id, modem_id, 2.0)
        q.record_part(db, message_id, 1, modem_id, 7, 2.0)  # the same TP-MR: the counter wrapped in between
        q.mark_sent(db, message_id, 2.0)
    # a report for the older message, given in national form, must not land on the newer part
    assert q.apply_report(db, modem_id, 7, "delivered", 0, 3.0, recipient="89160000101") == first
    assert q.get(db, first)["state"] == OutState.DELIVERED and q.get(db, second)["state"] == OutState.SENT
    assert q.apply_report(db, modem_id, 7, "delivered", 0, 3.0, recipient="+79169999999") is None
    assert q.apply_report(db, modem_id, 7, "delivered", 0, 3.0 + q.REPORT_WINDOW_S + 10,
                          recipient="+79160000102") is None  # far too late to be about that part


def test_reports_stored_while_nobody_listened_are_swept_from_sr(tmp_path: Path) -> None:
    with Network() as net:
        sim = net.add_modem("huawei-e173")  # CNMI ds=2: reports go to "SR" with a +CDSI indication
        sim.set_faults(dr_delay=1.0)
        config = make_config(tmp_path, [sim.path])
        with Gateway(config) as gw:
            message_id = outbox.submit(gw.db, config, "+79160000201", "report me later",
                                       now=gw.supervisor.wiring.clock())
            gw.supervisor.poke()
            wait_state(gw.db, message_id, OutState.SENT)
        sim.wait_stored(1, memory="SR", timeout=10)  # the report arrived with no gateway running
        with Gateway(config) as gw:
            wait_state(gw.db, message_id, OutState.DELIVERED)
        assert sim.stored("SR") == []
