"""The outbound queue's rules: submit, claim (consent, opt-out, quiet hours, pacing), retry, recovery.

A message is claimed in one `BEGIN IMMEDIATE` transaction that re-reads the recipient's opt-out and consent,
so a STOP recorded a millisecond earlier wins. The claim commits `sending` before the modem is touched; a
process that dies after that leaves the message `uncertain`, and `recover_after_crash` decides what happens
to it: bulk waits for staff, transactional is retried only when the config says so. Never a silent duplicate.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from gateway import policy, sms, store
from gateway.config import Config
from gateway.errors import UserInputError
from gateway.states import MessageClass, OutState, Priority
from gateway.store import outbox as q
from gateway.store import users

log = logging.getLogger("gateway.outbox")
CANDIDATE_BATCH = 64
PAUSE_RECHECK_S = 900.0


def submit(db: store.Database, config: Config, number: str, text: str, *, now: float,
           priority: Priority = Priority.TRANSACTIONAL, message_class: MessageClass = MessageClass.SERVICE,
           campaign_id: int | None = None, reply_to: int | None = None, pinned_modem_id: int | None = None,
           idempotency_key: str | None = None, not_before: float | None = None,
           expires_at: float | None = None, created_by: str | None = None) -> int:
    """Validate and queue one message; returns its id (the existing one for a repeated idempotency key)."""
    try:
        phone = sms.normalise_number(number, config.office.default_region)
    except sms.InvalidNumber as exc:
        raise UserInputError(str(exc)) from None
    if not text.strip():
        raise UserInputError("the message text is empty")
    shape = sms.plan(text)
    if shape.parts > 255:
        raise UserInputError(f"the message is too long: {shape.parts} parts (at most 255)")
    message_id = q.enqueue(
        db, phone=phone, body=text, message_class=message_class, priority=priority, now=now,
        parts_total=shape.parts, encoding=str(shape.encoding), campaign_id=campaign_id, reply_to=reply_to,
        pinned_modem_id=pinned_modem_id, idempotency_key=idempotency_key, not_before=not_before,
        expires_at=expires_at, created_by=created_by,
    )
    log.info("queued message %d: %d part(s), %s, priority %s", message_id, shape.parts, shape.encoding,
             priority.name.lower())
    return message_id


@dataclass(frozen=True)
class Claimed:
    """A message a worker now owns, committed as `sending`."""

    id: int
    phone: str
    body: str
    priority: int
    attempts: int
    parts_total: int
    concat_ref: int | None = None  # kept from an earlier attempt, so missing parts join the ones sent

@dataclass(frozen=True)
class NothingToSend:
    """No message may leave this modem now; `wait` is how long until one might (seconds, capped)."""

    wait: float
    reason: str


@dataclass
class ClaimPolicy:
    """What a worker needs to decide: the config, this SIM's caps, the clock state and randomness."""

    config: Config
    caps: policy.Caps
    clock_ok: Callable[[], bool] = policy.clock_synchronised
    rng: random.Random = random.Random()

    def bulk_allowed(self) -> bool:
        """Bulk waits while the system clock is not synchronised (quiet hours would be computed on a lie)."""
        return not self.config.sending.require_clock_sync or self.clock_ok()


def claim(db: store.Database, modem_id: int, now: float, rules: ClaimPolicy,
          max_wait: float = 1.0) -> Claimed | NothingToSend:
    """Take the next message this modem may send now, or say how long to wait."""
    config = rules.config
    office_zone = policy.recipient_zone("", None, config.office.timezone)
    bulk_ok = rules.bulk_allowed()
    with store.immediate(db):
        minute, minute_oldest, hour, hour_oldest, day = q.recent_parts(
            db, modem_id, now, policy.local_midnight(now, office_zone))
        recent = policy.Recent(minute, minute_oldest, hour, hour_oldest, day,
                               day_ends=policy.local_midnight(now, office_zone, days=1))
        for row in q.candidates(db, modem_id, now, bulk_allowed=bulk_ok, limit=CANDIDATE_BATCH):
            verdict = _screen(db, row, now, config)
            if verdict is not None:
                continue
            parts = int(row["parts_total"] or 1)
            wait = rules.caps.wait(now, recent, parts)
            if wait > 0:
                return NothingToSend(min(wait, max_wait), "pacing")
            q.mark_sending(db, row["id"], modem_id, now)
            return Claimed(row["id"], row["phone"], row["body"], row["priority"], row["attempts"] + 1, parts,
                           row["concat_ref"])
    due = q.next_due(db, modem_id, bulk_allowed=bulk_ok)
    wait = max_wait if due is None else min(max_wait, max(0.0, due - now))
    return NothingToSend(wait, "idle" if due is None else "not due")


def _screen(db: store.Database, row: dict, now: float, config: Config) -> str | None:
    """Apply opt-out, consent, expiry and quiet hours to one candidate; None when it may go now."""
    bulk = row["priority"] == Priority.BULK
    advertising = row["class"] == MessageClass.ADVERTISING
    if row["expires_at"] is not None and row["expires_at"] <= now:
        q.finish(db, row["id"], OutState.CANCELLED, now, "expired before it could be sent")
        return "expired"
    if row["opted_out_at"] is not None and (bulk or advertising):
        q.finish(db, row["id"], OutState.CANCELLED, now, "recipient opted out")
        return "opted out"
    if advertising and not row["consent_advertising"]:
        q.finish(db, row["id"], OutState.CANCELLED, now, "no advertising consent on record")
        return "no consent"
    if bulk and row["consent_service"] == 0:  # staff recorded that this person wants no notices either
        q.finish(db, row["id"], OutState.CANCELLED, now, "service consent withdrawn")
        return "no consent"
    if row["bulk_paused_at"] is not None and (bulk or advertising):
        # Deferred, not parked: once staff lift the pause it goes at the next look, with no other step.
        q.defer(db, row["id"], now + PAUSE_RECHECK_S, now, "paused: the recipient's reply awaits staff review")
        return "paused"
    # Advertising obeys quiet hours whatever its priority: the law cares about the content, not our queue.
    if bulk or advertising or config.quiet_hours.transactional:
        zone = policy.recipient_zone(row["phone"], row["contact_zone"], config.office.timezone)
        until = policy.quiet_until(now, zone, config.quiet_hours)
        if until is not None:
            q.defer(db, row["id"], until, now)
            return "quiet hours"
    return None


def retry_or_fail(db: store.Database, config: Config, message_id: int, attempts: int, reason: str, now: float,
                  rng: random.Random) -> OutState:
    """After a transient error: back to the queue with backoff, or failed once attempts are exhausted."""
    if attempts >= config.sending.max_attempts:
        q.finish(db, message_id, OutState.FAILED, now, f"{reason} (gave up after {attempts} attempts)")
        return OutState.FAILED
    delay = policy.backoff(attempts, config.sending.retry_base_s, config.sending.retry_max_s, rng)
    q.retry_later(db, message_id, now + delay, reason, now)
    return OutState.QUEUED


def recover_after_crash(db: store.Database, config: Config, now: float) -> int:
    """At start-up: every message still `sending` was interrupted; mark it uncertain or requeue by policy."""
    rows = q.interrupted(db)
    for row in rows:
        if row["priority"] == Priority.TRANSACTIONAL and config.sending.uncertain_transactional == "retry":
            q.retry_later(db, row["id"], now, "interrupted by a restart; resent by policy", now)
            log.warning("message %d was interrupted mid-send; requeued (uncertain_transactional = retry)",
                        row["id"])
        else:
            q.finish(db, row["id"], OutState.UNCERTAIN, now,
                     "interrupted mid-send by a restart: it may or may not have been sent")
            log.warning("message %d was interrupted mid-send; marked uncertain for staff", row["id"])
    return len(rows)


def resolve_uncertain(db: store.Database, message_id: int, action: str, actor: str, now: float) -> None:
    """Staff decision on an uncertain message: 'resend' queues it again, 'drop' cancels it."""
    row = q.get(db, message_id)
    if row is None or row["state"] != OutState.UNCERTAIN:
        raise UserInputError(f"message {message_id} is not waiting for a decision")
    with store.immediate(db):
        if action == "resend":
            q.retry_later(db, message_id, now, "resent by staff after an uncertain send", now)
        elif action == "drop":
            q.finish(db, message_id, OutState.CANCELLED, now, "dropped by staff after an uncertain send")
        else:
            raise UserInputError("action must be 'resend' or 'drop'")
        users.audit(db, actor, f"outbox.uncertain.{action}", now, target=str(message_id))
