"""Issue 5 acceptance at database level: 10,000 random texts and 2,000 random byte strings as inbound PDUs.

Each goes through `inbound.accept_pdu` (what the worker calls) and `commands.handle_inbound`: nothing raises,
every PDU is stored under its dedupe key, every completed message leaves the `new` state, and a text comes
back out of the inbox exactly as it was sent.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway import commands, inbound, sms
from gateway.states import InState
from tests.commands_kit import Desk, make_desk, pdus

SENDERS = [f"+7916777{i:04d}" for i in range(50)]
# A valid SMS-DELIVER header (no SMSC, from +79161234567, UCS-2 or GSM-7) so random user data is reached.
HEADER_UCS2 = bytes.fromhex("00040B919761214365F70008") + bytes.fromhex("62301021000021")
HEADER_GSM7 = bytes.fromhex("00440B919761214365F70000") + bytes.fromhex("62301021000021")


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    return make_desk(tmp_path_factory.mktemp("fuzz"))


@pytest.fixture(scope="module")
def senders() -> itertools.cycle:
    return itertools.cycle(SENDERS)


@settings(max_examples=10_000, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=st.text(min_size=1, max_size=320))
def test_random_texts_are_stored_and_handled(desk: Desk, senders: itertools.cycle, text: str) -> None:
    desk.now += 1   # a new second: a repeated text is a new message, not a re-read
    sender = next(senders)
    inbox_id = None
    for pdu in pdus(sender, text, reference=int(desk.now) % 256, when=desk.now):
        inbox_id = inbound.accept_pdu(desk.db, None, pdu, desk.now) or inbox_id
    assert inbox_id is not None
    commands.handle_inbound(desk.db, desk.config, inbox_id, now=desk.now)
    row = desk.inbox(inbox_id)
    assert row["body"] == text and row["phone"] == sender
    assert row["state"] != InState.NEW and row["command"] != "error"


random_pdus = st.one_of(
    st.binary(min_size=1, max_size=200),
    st.builds(lambda ud: HEADER_UCS2 + bytes([len(ud)]) + ud, st.binary(max_size=140)),
    st.builds(lambda ud: HEADER_GSM7 + bytes([min(255, len(ud) * 8 // 7)]) + ud, st.binary(max_size=140)),
)


@settings(max_examples=2_000, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=random_pdus)
def test_random_bytes_are_stored_raw_or_decoded_and_never_crash(desk: Desk, data: bytes) -> None:
    desk.now += 1
    pdu = data.hex().upper()
    try:
        decoded = sms.decode(pdu)
    except sms.PduError:
        decoded = None
    if isinstance(decoded, sms.StatusReport):
        return   # the worker routes status reports to the outbox, never to the inbox
    key = inbound.dedupe_key(None, pdu)
    seen = desk.db.execute("SELECT count(*) FROM inbox_parts WHERE dedupe_key = ?", [key]).fetchone()[0]
    inbox_id = inbound.accept_pdu(desk.db, None, pdu, desk.now)
    assert desk.db.execute("SELECT count(*) FROM inbox_parts WHERE dedupe_key = ?", [key]).fetchone()[0] == 1
    if seen:
        assert inbox_id is None
    if inbox_id is not None:
        commands.handle_inbound(desk.db, desk.config, inbox_id, now=desk.now)
        row = desk.inbox(inbox_id)
        assert row["state"] != InState.NEW and row["command"] != "error"
        if decoded is None:
            assert row["undecodable"] == 1 and row["body"] is None


def test_the_fuzzed_database_holds_every_message(desk: Desk) -> None:
    """Runs after the two above (same module-scoped desk): no message was left unhandled."""
    assert desk.db.execute("SELECT count(*) FROM inbox WHERE state = 'new'").fetchone()[0] == 0
    assert desk.db.execute("SELECT count(*) FROM inbox WHERE command = 'error'").fetchone()[0] == 0
