"""Coupons: a unique code per recipient per campaign occurrence, redeemed once (by an order SMS or by staff).

Codes are 8 characters from a 32-letter alphabet without look-alikes (no 0/O, 1/I): 2^40 possibilities, drawn
from `secrets`. Uniqueness is the database's (`coupons.code UNIQUE`): a drawn code that is already taken is
skipped by the insert and drawn again for that recipient.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from gateway import store
from gateway.errors import UserInputError
from gateway.store import campaigns as cstore
from gateway.store import users

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_TABLE = bytes.maketrans(bytes(range(256)), (ALPHABET * (256 // len(ALPHABET))).encode("ascii"))
PREFIX_RE = re.compile(r"[A-Z0-9]{0,6}")
MAX_ROUNDS = 8


def generate(count: int, prefix: str = "", length: int = CODE_LENGTH) -> list[str]:
    """`count` random codes (not yet checked for uniqueness); 256 is a multiple of 32, so no letter is favoured."""
    raw = secrets.token_bytes(count * length).translate(_TABLE).decode("ascii")
    return [prefix + raw[i:i + length] for i in range(0, count * length, length)]


def check_prefix(prefix: str) -> str:
    """A coupon prefix in upper case; raises UserInputError when it is not up to 6 letters or digits."""
    value = prefix.strip().upper()
    if not PREFIX_RE.fullmatch(value):
        raise UserInputError("a coupon prefix is up to 6 Latin letters or digits")
    return value


def assign(db: store.Database, campaign_id: int, occurrence: str, contact_ids: Sequence[int], now: float,
           prefix: str = "") -> dict[int, str]:
    """Codes of these recipients for one occurrence, creating the missing ones; runs inside the caller's transaction."""
    codes = cstore.coupon_codes(db, campaign_id, occurrence)
    for _ in range(MAX_ROUNDS):
        missing = [cid for cid in contact_ids if cid not in codes]
        if not missing:
            return codes
        fresh = generate(len(missing), prefix)
        cstore.insert_coupons(db, [(code, campaign_id, occurrence, cid, now) for code, cid in zip(fresh, missing)])
        codes = cstore.coupon_codes(db, campaign_id, occurrence)
    raise RuntimeError("could not draw unique coupon codes")  # 8 rounds of collisions: the code space is exhausted


@dataclass(frozen=True)
class Redemption:
    """The outcome of redeeming a code: ok, or why not (unknown, already used)."""

    ok: bool
    code: str
    campaign_id: int | None
    reason: str = ""


def redeem(db: store.Database, code: str, *, by: str, now: float, order_ref: str | None = None) -> Redemption:
    """Redeem a coupon once (from an order SMS: by="sms"; or by a staff user name); a second try says so."""
    text = code.strip().upper()
    with store.immediate(db):
        row = cstore.get_coupon(db, text)
        if row is None:
            return Redemption(False, text, None, "unknown coupon / купон не найден")
        if not cstore.redeem_coupon(db, text, by, now, order_ref):
            return Redemption(False, text, row["campaign_id"], "already redeemed / купон уже использован")
        users.audit(db, by, "coupon.redeem", now, target=text, campaign=row["campaign_id"], order=order_ref)
    return Redemption(True, text, row["campaign_id"])
