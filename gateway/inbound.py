"""Received SMS: every stored PDU is saved raw under a unique dedupe key and committed before the SIM copy is
deleted; parts are joined by (sender, reference, total) across polls and restarts; a message missing parts after
a timeout is kept and flagged partial. Undecodable input is stored raw and never raises.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from gateway import sms, store
from gateway.states import InState
from gateway.store import inbox as box

log = logging.getLogger("gateway.inbound")
PARTIAL_TIMEOUT_S = 3600.0
SILENT_PID = 0x40  # TP-PID of a type-0 short message: acknowledge, then discard (TS 23.040 §9.2.3.9)

#: Called with (db, inbox_id) after a complete message is committed; the command layer hooks in here.
Handler = Callable[[store.Database, int], None]


def dedupe_key(modem_id: int | None, pdu: str) -> str:
    """Same modem, same PDU (sender, timestamp, reference, text) → same key: a re-read is not a new message."""
    return hashlib.sha256(f"{modem_id}:{pdu.strip().upper()}".encode()).hexdigest()


def accept_pdu(db: store.Database, modem_id: int | None, pdu: str, now: float) -> int | None:
    """Store one received PDU; returns the inbox id when it completed a message, else None (a part, a repeat).

    Everything happens in one transaction, committed when this returns: the caller may then delete the SIM copy.
    """
    key = dedupe_key(modem_id, pdu)
    try:
        decoded = sms.decode(pdu)
    except sms.PduError as exc:
        log.warning("undecodable PDU from modem %s kept raw (%s)", modem_id, exc)
        with store.immediate(db):
            part_id = box.add_part(db, dedupe_key=key, modem_id=modem_id, sender=None, concat_ref=None, total=1,
                                   seq=1, pdu=pdu, text=None, sent_at=None, now=now)
            if part_id is None:
                return None
            return box.add_message(db, phone="", sender_kind=str(sms.SenderKind.UNKNOWN), modem_id=modem_id,
                                   body=None, encoding=None, sent_at=None, now=now, parts_total=1, parts_received=1,
                                   partial=False, undecodable=True, part_ids=[part_id], state=InState.INBOX)
    if isinstance(decoded, sms.StatusReport):
        raise ValueError("a status report is not an inbound message")  # the worker routes those itself
    sent_at = decoded.timestamp.timestamp() if decoded.timestamp else None
    concat = decoded.concat
    with store.immediate(db):
        part_id = box.add_part(
            db, dedupe_key=key, modem_id=modem_id, sender=decoded.sender,
            concat_ref=concat.reference if concat else None, total=concat.total if concat else 1,
            seq=concat.seq if concat else 1, pdu=decoded.pdu, text=decoded.text, sent_at=sent_at, now=now)
        if part_id is None:
            return None
        if concat is None or concat.total <= 1:
            return _complete(db, decoded, [decoded], [part_id], modem_id, now, partial=False)
        parts = box.loose_parts(db, decoded.sender, concat.reference, concat.total)
        if len(parts) < concat.total:
            return None
        delivers = [d for d in (_decode_quiet(p["pdu"]) for p in parts) if isinstance(d, sms.Deliver)]
        return _complete(db, decoded, delivers, [p["id"] for p in parts], modem_id, now, partial=False)


def _decode_quiet(pdu: str) -> sms.Deliver | sms.StatusReport | None:
    try:
        return sms.decode(pdu)
    except sms.PduError:
        return None


def _complete(db: store.Database, first: sms.Deliver, parts: list[sms.Deliver], part_ids: list[int],
              modem_id: int | None, now: float, *, partial: bool) -> int:
    text = sms.join_parts(parts) if len(parts) > 1 else parts[0].text
    total = first.concat.total if first.concat else 1
    answerable = sms.is_answerable(first.sender, first.sender_kind)
    silent = first.protocol_id == SILENT_PID
    sent_times = [p.timestamp.timestamp() for p in parts if p.timestamp]
    # Only a complete message from a person goes to the command layer (`new`): a partial one could be a
    # truncated order, so it waits for staff; senders that cannot be answered and type-0 (silent) messages,
    # which TS 23.040 §9.2.3.9 says to discard, are kept but never acted on.
    state = InState.IGNORED if not answerable or silent else InState.INBOX if partial else InState.NEW
    inbox_id = box.add_message(
        db, phone=first.sender, sender_kind=str(first.sender_kind), modem_id=modem_id, body=text,
        encoding=first.encoding, sent_at=min(sent_times) if sent_times else None, now=now, parts_total=total,
        parts_received=len(parts), partial=partial, undecodable=False, part_ids=part_ids, state=state)
    log.info("inbound message %d: %d/%d part(s), %d chars%s", inbox_id, len(parts), total, len(text),
             "" if answerable else " (sender not answerable)")
    return inbox_id


def flush_partial(db: store.Database, now: float, timeout: float = PARTIAL_TIMEOUT_S) -> list[int]:
    """Keep, flagged partial, every message whose missing parts did not come within the timeout."""
    created = []
    for sender, reference, total in box.stale_groups(db, now - timeout):
        with store.immediate(db):
            parts = box.loose_parts(db, sender, reference, total)
            if not parts:
                continue
            delivers = [d for d in (_decode_quiet(p["pdu"]) for p in parts) if isinstance(d, sms.Deliver)]
            if not delivers:
                continue
            inbox_id = _complete(db, delivers[0], delivers, [p["id"] for p in parts], parts[0]["modem_id"], now,
                                 partial=True)
            created.append(inbox_id)
            log.warning("inbound message %d kept partial: %d of %d parts arrived", inbox_id, len(parts), total)
    return created
