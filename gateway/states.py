"""Stored states and classes, as `StrEnum`s whose values are what the database holds."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class OutState(StrEnum):
    """Life of an outbound message (DESIGN §3)."""

    QUEUED = "queued"          # waiting for its turn (next_attempt_at, pacing, quiet hours)
    SENDING = "sending"        # committed right before AT+CMGS; found at start-up → UNCERTAIN
    SENT = "sent"              # every part accepted by the network (+CMGS: <mr>)
    DELIVERED = "delivered"    # every part's status report says delivered
    UNDELIVERED = "undelivered"  # a status report says a part failed permanently
    FAILED = "failed"          # permanent error, or attempts exhausted, before the network accepted it
    CANCELLED = "cancelled"    # opt-out, campaign cancelled, expired, dropped by staff
    UNCERTAIN = "uncertain"    # interrupted mid-send by a crash: may or may not have left the modem
    HELD = "held"              # waiting for staff (tier-2 opt-out review, restricted content)


OPEN_STATES = (OutState.QUEUED, OutState.SENDING, OutState.UNCERTAIN, OutState.HELD)


class PartState(StrEnum):
    """Delivery of one submitted part."""

    SENT = "sent"
    PENDING = "pending"        # a temporary status report: the SMSC is still trying
    DELIVERED = "delivered"
    FAILED = "failed"


class MessageClass(StrEnum):
    """The legal class of a message: service needs no advertising consent, advertising does."""

    SERVICE = "service"
    ADVERTISING = "advertising"


class Priority(IntEnum):
    """Claim order: lower goes first."""

    TRANSACTIONAL = 0
    BULK = 1

    @classmethod
    def parse(cls, text: str) -> "Priority":
        """Priority from its name ('transactional' or 'bulk')."""
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"priority must be 'transactional' or 'bulk', not {text!r}") from None


class ModemStatus(StrEnum):
    """What a modem's worker last saw."""

    OFFLINE = "offline"
    CONNECTING = "connecting"
    ONLINE = "online"
    ERROR = "error"


class InState(StrEnum):
    """Handling of an inbound message."""

    NEW = "new"            # stored, not yet handled by the command layer
    HANDLED = "handled"    # a command acted on it
    INBOX = "inbox"        # not a command: waits for staff
    REVIEW = "review"      # probable opt-out intent: staff must look
    READ = "read"          # staff have seen it
    IGNORED = "ignored"    # operator/alphanumeric sender, machine auto-reply


class Role(StrEnum):
    """Web user roles."""

    ADMIN = "admin"
    OPERATOR = "operator"
    AGENT = "agent"
