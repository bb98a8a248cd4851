"""Inbound storage (gateway.inbound) at database level: joins across restarts, dedupe, partial timeout, oddities."""

from __future__ import annotations

from pathlib import Path

from gateway import inbound, store
from gateway.states import InState
from gateway.store import inbox as box
from gateway.store import modems
from tests.commands_kit import CUSTOMER, NOON, pdus

LONG = "Здравствуйте! " * 20   # UCS-2, several parts


def _db(tmp_path: Path) -> store.Database:
    """The database file, with modems 1 and 2 known."""
    db = store.connect(tmp_path / "gateway.db")
    for imei in ("356938035643809", "356938035643817"):
        modems.upsert_identity(db, imei, NOON)
    return db


def test_parts_join_out_of_order_across_a_restart(tmp_path: Path) -> None:
    parts = pdus(CUSTOMER, LONG, reference=200)
    assert len(parts) >= 3
    db = _db(tmp_path)
    assert inbound.accept_pdu(db, 1, parts[2], NOON) is None
    assert inbound.accept_pdu(db, 1, parts[0], NOON + 1) is None
    db.close()
    db = _db(tmp_path)   # the daemon restarted between the parts
    for part in parts[3:]:
        assert inbound.accept_pdu(db, 1, part, NOON + 2) is None
    inbox_id = inbound.accept_pdu(db, 1, parts[1], NOON + 3)
    assert inbox_id is not None
    row = box.get(db, inbox_id)
    assert (row["body"], row["parts_total"], row["parts_received"], row["partial"], row["state"]) == (
        LONG, len(parts), len(parts), 0, InState.NEW)
    # every part re-read after the message completed is recognised, not a new message
    assert all(inbound.accept_pdu(db, 1, p, NOON + 4) is None for p in parts)
    assert db.execute("SELECT count(*) FROM inbox").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM inbox_parts WHERE inbox_id = ?", [inbox_id]).fetchone()[0] == len(parts)


def test_a_missing_part_is_flagged_partial_only_after_the_timeout(tmp_path: Path) -> None:
    db = _db(tmp_path)
    parts = pdus(CUSTOMER, LONG, reference=7)
    for part in parts[:-1]:
        inbound.accept_pdu(db, 1, part, NOON)
    assert inbound.flush_partial(db, NOON + inbound.PARTIAL_TIMEOUT_S - 1) == []
    [inbox_id] = inbound.flush_partial(db, NOON + inbound.PARTIAL_TIMEOUT_S + 1)
    row = box.get(db, inbox_id)
    assert (row["partial"], row["parts_received"], row["state"]) == (1, len(parts) - 1, InState.INBOX)
    assert LONG.startswith(row["body"]) and row["body"] != LONG
    assert inbound.flush_partial(db, NOON + 2 * inbound.PARTIAL_TIMEOUT_S) == []


def test_same_text_from_two_modems_or_at_two_times_is_two_messages(tmp_path: Path) -> None:
    db = _db(tmp_path)
    [first] = pdus(CUSTOMER, "HELP", when=NOON)
    [later] = pdus(CUSTOMER, "HELP", when=NOON + 60)
    ids = [inbound.accept_pdu(db, 1, first, NOON), inbound.accept_pdu(db, 2, first, NOON),
           inbound.accept_pdu(db, 1, later, NOON + 60), inbound.accept_pdu(db, 1, first.lower(), NOON + 61)]
    assert ids[3] is None and len({i for i in ids[:3] if i}) == 3


def test_undecodable_and_silent_messages_are_kept_but_not_for_commands(tmp_path: Path) -> None:
    db = _db(tmp_path)
    raw = "07919761989901F0040B91"   # cut short after the sender's length
    inbox_id = inbound.accept_pdu(db, 1, raw, NOON)
    row = box.get(db, inbox_id)
    assert (row["undecodable"], row["body"], row["state"]) == (1, None, InState.INBOX)
    assert db.execute("SELECT pdu FROM inbox_parts WHERE inbox_id = ?", [inbox_id]).fetchone()[0] == raw
    [pdu] = pdus(CUSTOMER, "STOP")
    data = bytearray.fromhex(pdu)
    pid_at = 1 + data[0] + 1 + 1 + 1 + (data[1 + data[0] + 1] + 1) // 2   # SMSC, first octet, OA length/TOA/digits
    assert data[pid_at] == 0
    data[pid_at] = inbound.SILENT_PID
    silent = inbound.accept_pdu(db, 1, data.hex().upper(), NOON)
    assert box.get(db, silent)["state"] == InState.IGNORED
