"""Inbound SMS → command → effects and replies, once per inbound message.

Rules of this module:
- `handle_inbound` acts only on a message still `new`, and does everything — the effects (consent events,
  cancelled bulk, orders, ledger entries, broadcasts, poll answers), the replies and the inbox state change —
  in ONE `BEGIN IMMEDIATE` transaction: a crash leaves either nothing (the message is still `new` and
  `handle_pending` handles it at start-up) or everything. Replies carry the idempotency key
  `reply:<inbox id>:<n>` and notifications `notify:<inbox id>:<n>`, and orders/broadcasts are unique per
  inbox id, so handling a message twice cannot create anything twice.
- Replies are transactional service messages linked to what they answer (`reply_to`) and pinned to the SIM
  that received the request. No reply ever goes to an operator/alphanumeric sender, to machine-made text, or
  beyond `sending.auto_replies_per_10min` replies per number per 10 minutes (loop protection); the effects of
  a command still happen when its reply is suppressed.
- A partial (timed-out multipart) message is never executed: a truncated order must not be placed; it goes to
  the staff inbox like any text that is not a command.
- A bug in a command never loses the message: it is kept in the staff inbox with command `error`.
- An order may carry a campaign coupon (`Order.coupon` / `ShortOrder.coupon` from the grammar): it is redeemed in
  the order's transaction with the order number as `order_ref`; an unknown or used coupon never blocks the order,
  the reply says what happened to it.
- Staff move an order forward with `set_order_status` (new → confirmed → ready → done, or cancelled; done and
  cancelled are final): the status, ONE service SMS to the customer (key `order-status:<id>:<status>`, pinned to
  the SIM the order came in on), the bonus reversal of a cancelled order and the audit line commit together.

Settings (the `settings` table, defaults in code): `bonus_percent` (5) of an order's total is credited to the
owning agent's bonus ledger; `agent_broadcast_daily_cap` (3) broadcasts per agent per office-local day.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sqlite3
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from gateway import grammar, outbox, sms, store
from gateway.config import Config
from gateway.grammar import Lang
from gateway.states import InState, MessageClass, Priority
from gateway.errors import UserInputError
from gateway.store import campaigns as cstore
from gateway.store import commands as cq
from gateway.store import contacts
from gateway.store import users
from gateway.store import inbox as box
from gateway.store import outbox as q

log = logging.getLogger("gateway.commands")

LOOP_WINDOW_S = 600.0
REG_CONSENT_VERSION = "sms-reg-2026-11"  # the reg_welcome text that tells what a registered customer receives
BONUS_PERCENT_KEY = "bonus_percent"
BROADCAST_CAP_KEY = "agent_broadcast_daily_cap"


class OrderStatus(StrEnum):
    """Life of an order placed by SMS."""

    NEW = "new"              # received by SMS, not yet looked at by staff
    CONFIRMED = "confirmed"  # staff accepted it
    READY = "ready"          # waiting to be picked up
    DONE = "done"            # handed over
    CANCELLED = "cancelled"


OPEN_ORDER_STATES = (OrderStatus.NEW, OrderStatus.CONFIRMED, OrderStatus.READY)
# Where staff may move an order: only forward, and done/cancelled are final (a handed-over order cannot be
# cancelled, a cancelled one cannot come back: the customer was told and the bonus was taken back).
ORDER_TRANSITIONS: dict[OrderStatus, tuple[OrderStatus, ...]] = {
    OrderStatus.NEW: (OrderStatus.CONFIRMED, OrderStatus.READY, OrderStatus.DONE, OrderStatus.CANCELLED),
    OrderStatus.CONFIRMED: (OrderStatus.READY, OrderStatus.DONE, OrderStatus.CANCELLED),
    OrderStatus.READY: (OrderStatus.DONE, OrderStatus.CANCELLED),
    OrderStatus.DONE: (),
    OrderStatus.CANCELLED: (),
}


class Handled(StrEnum):
    """What the command layer did with a message (stored in `inbox.command`)."""

    OPTOUT = "optout"
    OPTOUT_REVIEW = "optout_review"
    OPTIN = "optin"
    HELP = "help"
    REGISTER = "register"
    REGISTER_AGAIN = "register_again"
    USAGE = "usage"
    ORDER = "order"
    ORDER_ERROR = "order_error"
    NOT_REGISTERED = "not_registered"
    BALANCE = "balance"
    BROADCAST = "broadcast"
    BROADCAST_CAPPED = "broadcast_capped"
    BROADCAST_HELD = "broadcast_held"
    POLL = "poll"
    OTHER = "other"
    PARTIAL = "partial"
    AUTOMATIC = "automatic"
    UNANSWERABLE = "unanswerable"
    ERROR = "error"


# Texts the word-list file has no key for yet (grammar.REPLY_FIELDS); GSM-7 only in the English ones.
_TEXTS: dict[str, dict[Lang, str]] = {
    "order_total": {Lang.RU: " Сумма: {total}", Lang.EN: " Total: {total}"},
    "agent_order": {Lang.RU: "Заказ {number} от {who}: {lines}. Сумма {total}, бонус {bonus}",
                    Lang.EN: "Order {number} from {who}: {lines}. Total {total}, bonus {bonus}"},
    "agent_balance": {Lang.RU: "бонусы {money}, баллы за месяц {points}",
                      Lang.EN: "bonus {money}, points this month {points}"},
    "orders_open": {Lang.RU: "Ваши заказы: {orders}", Lang.EN: "Your orders: {orders}"},
    "orders_none": {Lang.RU: "Открытых заказов нет. Заказ: ЗАКАЗ 31234 2",
                    Lang.EN: "You have no open orders. To order: ORDER 31234 2"},
    "broadcast_held": {Lang.RU: "Рассылка не отправлена: текст касается темы «{label}», его проверит офис",
                       Lang.EN: "Not sent: the text touches \"{label}\"; the office will check it"},
    "stop_hint": {Lang.RU: " Отказ: СТОП", Lang.EN: " Unsubscribe: STOP"},
    "broadcast_capped": {Lang.RU: "Лимит рассылок на сегодня исчерпан: {cap} в день. Попробуйте завтра",
                         Lang.EN: "Today's broadcast limit is reached: {cap} a day. Try again tomorrow"},
    # the SMS to the customer when staff change an order's status
    "status_confirmed": {Lang.RU: "Заказ {number} подтверждён. Сумма {total}",
                         Lang.EN: "Order {number} is confirmed. Total {total}"},
    "status_ready": {Lang.RU: "Заказ {number} готов к выдаче. Сумма {total}",
                     Lang.EN: "Order {number} is ready for pick-up. Total {total}"},
    "status_done": {Lang.RU: "Заказ {number} выдан. Спасибо за покупку!",
                    Lang.EN: "Order {number} is handed over. Thank you!"},
    "status_cancelled": {Lang.RU: "Заказ {number} отменён. Вопросы? Ответьте на это SMS",
                         Lang.EN: "Order {number} is cancelled. Questions? Reply to this SMS"},
    # a coupon given with an order (appended to the order's reply)
    "coupon_ok": {Lang.RU: " Купон {code} принят.", Lang.EN: " Coupon {code} accepted."},
    "coupon_unknown": {Lang.RU: " Купон {code} не найден, заказ принят без него.",
                       Lang.EN: " Coupon {code} not found; the order stands without it."},
    "coupon_used": {Lang.RU: " Купон {code} уже использован, заказ принят без него.",
                    Lang.EN: " Coupon {code} was already used; the order stands without it."},
}
MAX_COUPON_CHARS = 20  # longer "codes" are not coupons; never echo a long text back
_STATUS_NAMES: dict[Lang, dict[str, str]] = {
    Lang.RU: {"new": "принят", "confirmed": "подтверждён", "ready": "готов к выдаче"},
    Lang.EN: {"new": "received", "confirmed": "confirmed", "ready": "ready for pick-up"},
}


def _text(key: str, lang: Lang, **values: object) -> str:
    """One of this module's own texts, filled."""
    return _TEXTS[key][lang].format(**values)


def money(kop: int, lang: Lang) -> str:
    """Kopecks as a price: "1234,50 руб." or "1234.50 RUB"."""
    whole, frac = divmod(abs(kop), 100)
    sign = "-" if kop < 0 else ""
    return f"{sign}{whole},{frac:02d} руб." if lang == Lang.RU else f"{sign}{whole}.{frac:02d} RUB"


def _points(value: float, lang: Lang) -> str:
    """Points without a useless fraction, with a decimal comma in Russian."""
    text = f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else str(int(value))
    return text.replace(".", ",") if lang == Lang.RU else text


@dataclass
class _Turn:
    """One inbound message being handled: its row, who sent it, and the replies queued so far."""

    db: store.Database
    config: Config
    row: dict[str, Any]
    phone: str
    text: str
    now: float
    lang: Lang
    contact: dict[str, Any] | None
    replies_left: int
    sent: int = 0
    notified: int = 0
    suppressed: int = 0
    reply_ids: list[int] = field(default_factory=list)

    @property
    def inbox_id(self) -> int:
        """The inbound message's id."""
        return int(self.row["id"])

    def reply(self, text: str) -> None:
        """Queue a reply to the sender unless loop protection says no."""
        if self.replies_left <= 0:
            self.suppressed += 1
            log.warning("inbound message %d: reply suppressed by loop protection", self.inbox_id)
            return
        self.replies_left -= 1
        message_id = outbox.submit(
            self.db, self.config, self.phone, text, now=self.now, priority=Priority.TRANSACTIONAL,
            message_class=MessageClass.SERVICE, reply_to=self.inbox_id, pinned_modem_id=self.row["modem_id"],
            idempotency_key=f"reply:{self.inbox_id}:{self.sent}", created_by="sms-command")
        self.sent += 1
        self.reply_ids.append(message_id)

    def notify(self, phone: str, text: str) -> None:
        """Queue a service notice to someone else (an agent); not a reply, so not counted by loop protection."""
        if phone == self.phone:
            return
        outbox.submit(self.db, self.config, phone, text, now=self.now, priority=Priority.TRANSACTIONAL,
                      message_class=MessageClass.SERVICE, idempotency_key=f"notify:{self.inbox_id}:{self.notified}",
                      created_by="sms-command")
        self.notified += 1


def handle_inbound(db: store.Database, config: Config, inbox_id: int, *, now: float) -> None:
    """Act on one stored inbound message once: effects, replies and its new inbox state in one transaction."""
    try:
        with store.immediate(db):
            row = box.get(db, inbox_id)
            if row is None or row["state"] != InState.NEW:
                return  # handled before (a re-run after a crash, or a duplicate call): nothing to do
            state, command = _handle(db, config, row, now)
            box.set_state(db, inbox_id, state, now, str(command))
        log.info("inbound message %d: %s → %s", inbox_id, command, state)
    except sqlite3.Error:
        raise  # the database itself failed: the message stays `new` for handle_pending to retry
    except Exception:
        log.exception("inbound message %d: command failed; kept for staff", inbox_id)
        row = box.get(db, inbox_id)
        if row is not None and row["state"] == InState.NEW:
            with store.immediate(db):
                state = InState.INBOX
                if row["body"] and isinstance(grammar.parse(row["body"]), grammar.OptOut) and row["phone"]:
                    # The opt-out itself failed: at least stop bulk to that number until staff look.
                    contacts.ensure(db, row["phone"], now)
                    cq.pause_bulk(db, row["phone"], now)
                    state = InState.REVIEW
                box.set_state(db, inbox_id, state, now, str(Handled.ERROR))


def handle_pending(db: store.Database, config: Config, *, now: float) -> int:
    """Handle every inbound message still `new` (left by a crash between storing and handling); returns how many."""
    seen: set[int] = set()
    while True:
        rows = [r for r in box.by_state(db, InState.NEW, limit=100) if r["id"] not in seen]
        if not rows:
            return len(seen)
        for row in rows:
            seen.add(row["id"])
            try:
                handle_inbound(db, config, row["id"], now=now)
            except sqlite3.Error:
                log.exception("inbound message %d could not be handled; left for the next start", row["id"])


def _handle(db: store.Database, config: Config, row: dict[str, Any], now: float) -> tuple[InState, Handled]:
    """Decide and apply; runs inside the caller's transaction."""
    text = row["body"]
    if text is None or row["undecodable"]:
        return InState.INBOX, Handled.OTHER
    try:
        phone = sms.normalise_number(row["phone"], config.office.default_region)
    except sms.InvalidNumber:
        return InState.IGNORED, Handled.UNANSWERABLE
    if not sms.is_answerable(row["phone"], sms.SenderKind(row["sender_kind"]), config.office.default_region):
        return InState.IGNORED, Handled.UNANSWERABLE
    if row["partial"] or grammar.looks_automatic(text):
        # No command runs on a truncated or machine-looking text, and nothing answers it — but words of opt-out
        # win even there ("STOP, do not reply"): a wrongly kept subscriber costs more than a lost one.
        if isinstance(stop := grammar.parse(text), grammar.OptOut):
            contacts.ensure(db, phone, now)
            if stop.tier == 1 and not row["partial"]:
                contacts.opt_out(db, phone, f"sms opt-out (tier 1, not answered: {stop.matched})", now,
                                 inbox_id=row["id"])
                q.cancel_queued_for_phone(db, phone, "recipient opted out by SMS", now)
            else:
                cq.pause_bulk(db, phone, now)
            return InState.REVIEW, Handled.OPTOUT_REVIEW
        return (InState.INBOX, Handled.PARTIAL) if row["partial"] else (InState.IGNORED, Handled.AUTOMATIC)
    contact = contacts.get_by_phone(db, phone)
    stored_lang = contact.get("lang") if contact else None
    default = Lang(stored_lang) if stored_lang in ("ru", "en") else Lang.RU
    used = cq.auto_replies_since(db, phone, now - LOOP_WINDOW_S)
    poll = cq.open_poll_for(db, phone, now)
    command = grammar.parse(text, poll_options=poll["options"] if poll else ())
    # The full order form is Latin letters and digits whatever the sender's language: answer it in the
    # contact's language (Russian by default) rather than read "SPO K" as English.
    full_order = isinstance(command, grammar.Order) or (
        isinstance(command, grammar.OrderError) and command.form == grammar.OrderForm.FULL)
    lang = default if full_order else grammar.detect_lang(text, default)
    turn = _Turn(db, config, row, phone, text, now, lang, contact,
                 replies_left=config.sending.auto_replies_per_10min - used)
    return _apply(turn, command, poll)


def _apply(turn: _Turn, command: grammar.Command, poll: dict[str, Any] | None) -> tuple[InState, Handled]:
    """The effects and replies of one parsed command."""
    db, now, lang = turn.db, turn.now, turn.lang
    match command:
        case grammar.OptOut(tier=1, matched=matched):
            contacts.opt_out(db, turn.phone, f"sms opt-out (tier 1: {matched})", now, inbox_id=turn.inbox_id)
            cancelled = q.cancel_queued_for_phone(db, turn.phone, "recipient opted out by SMS", now)
            log.info("inbound message %d: opt-out; %d queued bulk message(s) cancelled", turn.inbox_id, cancelled)
            turn.reply(grammar.reply_text("optout", lang))
            return InState.HANDLED, Handled.OPTOUT
        case grammar.OptOut():
            contacts.ensure(db, turn.phone, now)
            cq.pause_bulk(db, turn.phone, now)
            return InState.REVIEW, Handled.OPTOUT_REVIEW
        case grammar.OptIn():
            contacts.opt_in(db, turn.phone, "sms START", now, inbox_id=turn.inbox_id)
            turn.reply(grammar.reply_text("optin", lang))
            return InState.HANDLED, Handled.OPTIN
        case grammar.Help():
            turn.reply(grammar.reply_text("help", lang))
            return InState.HANDLED, Handled.HELP
        case grammar.Register():
            return _register(turn, command)
        case grammar.Usage(key=key):
            if key == "broadcast_usage" and not _is_agent(turn.contact):
                return InState.INBOX, Handled.OTHER
            turn.reply(grammar.reply_text(key, lang))
            return InState.HANDLED, Handled.USAGE
        case grammar.Order() | grammar.ShortOrder():
            return _order(turn, command)
        case grammar.OrderError():
            turn.reply(grammar.order_error_reply(command, lang))
            return InState.HANDLED, Handled.ORDER_ERROR
        case grammar.Balance():
            return _balance(turn)
        case grammar.Broadcast(text=body):
            return _broadcast(turn, body)
        case grammar.PollAnswer(option=option) if poll is not None:
            cq.record_poll_answer(db, poll["id"], turn.phone, option, turn.inbox_id, now)
            turn.reply(grammar.reply_text("poll_thanks", lang))
            return InState.HANDLED, Handled.POLL
    return InState.INBOX, Handled.OTHER


def _is_agent(contact: dict[str, Any] | None) -> bool:
    """True for a contact registered as an agent."""
    return contact is not None and contact["role"] == "agent"


def _registered(contact: dict[str, Any] | None) -> bool:
    """A number counts as registered once it has a name, an owning agent or a role other than customer.

    A bare contact row created by an opt-out or a consent event alone is not a registration.
    """
    return contact is not None and bool(contact["name"] or contact["agent_id"] or contact["role"] != "customer")


def _find_agent(db: store.Database, key: str) -> dict[str, Any] | None:
    """The agent a phone (+7…) or an agent code/consultant number names."""
    return cq.agent_by_phone(db, key) if key.startswith("+") else cq.agent_by_code(db, key)


def _agent_lang(agent: dict[str, Any]) -> Lang:
    """The language to write to an agent in (Russian unless stored otherwise)."""
    return Lang.EN if agent.get("lang") == "en" else Lang.RU


def _register(turn: _Turn, command: grammar.Register) -> tuple[InState, Handled]:
    """REG <name> [<inviter>]: a customer with consent, owned by the inviting agent or unassigned."""
    db, now, lang, contact = turn.db, turn.now, turn.lang, turn.contact
    if _registered(contact):
        assert contact is not None
        turn.reply(grammar.reply_text("reg_already", lang, name=contact["name"] or command.name))
        return InState.HANDLED, Handled.REGISTER_AGAIN
    agent = _find_agent(db, command.inviter) if command.inviter else None
    if agent is not None and agent["phone"] == turn.phone:
        agent = None
    agent_id = agent["id"] if agent else None
    contact_id = contacts.ensure(db, turn.phone, now, name=command.name, role="customer", agent_id=agent_id,
                                 lang=str(lang))
    if contact is not None:  # a bare row (e.g. from an earlier STOP) becomes the customer
        cq.update_contact(db, contact_id, now, name=command.name, agent_id=agent_id, lang=str(lang))
    # Consent by the customer's own SMS; the welcome says what they will receive and how to stop it.
    contacts.opt_in(db, turn.phone, "sms registration", now, inbox_id=turn.inbox_id, evidence=turn.text[:500],
                    text_version=REG_CONSENT_VERSION)
    turn.reply(grammar.reply_text("reg_welcome", lang, name=command.name))
    if agent is not None:
        turn.notify(agent["phone"], grammar.reply_text("reg_agent_notify", _agent_lang(agent), name=command.name,
                                                       phone=turn.phone))
    elif command.inviter:
        log.info("inbound message %d: inviter not found; customer %d left unassigned", turn.inbox_id, contact_id)
    return InState.HANDLED, Handled.REGISTER


def _order(turn: _Turn, order: grammar.Order | grammar.ShortOrder) -> tuple[InState, Handled]:
    """Validate against the catalogue and the agents, then store the order, reply, notify, credit the bonus."""
    db, now, lang = turn.db, turn.now, turn.lang
    if cq.order_by_inbox(db, turn.inbox_id) is not None:
        return InState.HANDLED, Handled.ORDER  # placed already (the row was forced back to `new` by hand)
    if isinstance(order, grammar.ShortOrder):
        if not _registered(turn.contact):
            turn.reply(grammar.reply_text("not_registered", lang))
            return InState.HANDLED, Handled.NOT_REGISTERED
        errors = grammar.validate_order(order, lambda code: cq.catalogue_get(db, code))
    else:
        errors = grammar.validate_order(order, lambda code: cq.catalogue_get(db, code),
                                        consultants=lambda key: _find_agent(db, key))
    if errors:
        turn.reply(grammar.order_error_reply(errors, lang))
        return InState.HANDLED, Handled.ORDER_ERROR
    lines = []
    for line in order.lines:
        product = cq.catalogue_get(db, line.code)
        assert product is not None  # validate_order checked every code
        lines.append((line.code, product["name"], line.qty, int(product["price_kop"]), float(product["points"])))
    if isinstance(order, grammar.Order):
        agent = _find_agent(db, order.consultant)
        contact_id = contacts.ensure(db, turn.phone, now, agent_id=agent["id"] if agent else None)
        fields: dict[str, Any] = {"form": "full", "consultant": order.consultant, "spo": order.spo,
                                  "payment": str(order.payment), "refuse_reserve": order.refuse_reserve}
    else:
        assert turn.contact is not None
        contact_id = turn.contact["id"]
        owner = turn.contact["agent_id"] or (contact_id if _is_agent(turn.contact) else None)
        agent = cq.contact_by_id(db, owner) if owner else None
        fields = {"form": "short", "consultant": None, "spo": None, "payment": None, "refuse_reserve": False}
    placed = cq.add_order(db, inbox_id=turn.inbox_id, phone=turn.phone, contact_id=contact_id,
                          agent_id=agent["id"] if agent else None, status=str(OrderStatus.NEW), lines=lines, now=now,
                          note=getattr(order, "note", None), **fields)
    bonus = 0
    if agent is not None:
        percent = _bonus_percent(db, turn.config)
        bonus = round(placed["total_kop"] * percent / 100)
        if bonus > 0:
            cq.credit_bonus(db, agent["id"], placed["id"], bonus, percent, f"order {placed['number']}", now)
    coupon = getattr(order, "coupon", None)  # the grammar's optional "КУПОН <code>" / "COUPON <code>"
    coupon_note = _redeem_coupon(turn, str(coupon), placed) if coupon else ""
    turn.reply(grammar.reply_text("order_accepted", lang, order_id=placed["number"], items=len(lines))
               + _text("order_total", lang, total=money(placed["total_kop"], lang)) + coupon_note)
    if agent is not None:
        alang = _agent_lang(agent)
        who = " ".join(x for x in ((turn.contact or {}).get("name") or "", turn.phone) if x)
        summary = ", ".join(f"{code}x{qty}" for code, _, qty, _, _ in lines)
        note = getattr(order, "note", None)
        turn.notify(agent["phone"], _text("agent_order", alang, number=placed["number"], who=who, lines=summary,
                                          total=money(placed["total_kop"], alang), bonus=money(bonus, alang))
                    + (f' «{note}»' if note else ""))
    log.info("inbound message %d: order %s placed, %d line(s)", turn.inbox_id, placed["number"], len(lines))
    return InState.HANDLED, Handled.ORDER


def _redeem_coupon(turn: _Turn, typed: str, placed: dict[str, Any]) -> str:
    """Redeem a coupon given with an order, inside the order's transaction; returns the note for the reply.

    An unknown or used coupon never blocks the order: the reply says so and the order stands without it.
    (`campaigns.redeem_coupon` opens its own transaction, which cannot nest in this one: same rows, same audit.)
    """
    db, now, lang = turn.db, turn.now, turn.lang
    code = typed.strip().upper()[:MAX_COUPON_CHARS]
    row = cstore.get_coupon(db, code)
    if row is None:
        log.info("inbound message %d: order %s with an unknown coupon", turn.inbox_id, placed["number"])
        return _text("coupon_unknown", lang, code=code)
    if not cstore.redeem_coupon(db, code, "sms", now, placed["number"]):
        log.info("inbound message %d: order %s with a used coupon", turn.inbox_id, placed["number"])
        return _text("coupon_used", lang, code=code)
    cq.set_order_coupon(db, placed["id"], code)
    users.audit(db, "sms", "coupon.redeem", now, target=code, campaign=row["campaign_id"], order=placed["number"],
                inbox_id=turn.inbox_id)
    return _text("coupon_ok", lang, code=code)


def _bonus_percent(db: store.Database, config: Config) -> float:
    """The bonus percentage: a value staff saved (setting `bonus_percent`), else the config's [business] one."""
    default = config.business.bonus_percent
    raw = cq.get_setting(db, BONUS_PERCENT_KEY, str(default))
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100:
        log.warning("setting %s = %r is not a percentage 0..100; using %s", BONUS_PERCENT_KEY, raw, default)
        return default
    return value


def _broadcast_cap(db: store.Database, config: Config) -> int:
    """The daily broadcast cap per agent: a saved setting, else the config's [business] one."""
    default = config.business.agent_broadcast_daily_cap
    raw = cq.get_setting(db, BROADCAST_CAP_KEY, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        log.warning("setting %s = %r is not a count; using %s", BROADCAST_CAP_KEY, raw, default)
        return default
    return value


def _office_start(config: Config, now: float, *, month: bool) -> float:
    """Start of the current office-local day (or month) as Unix seconds."""
    zone = ZoneInfo(config.office.timezone)
    local = dt.datetime.fromtimestamp(now, zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if month:
        start = start.replace(day=1)
    return start.timestamp()


def _balance(turn: _Turn) -> tuple[InState, Handled]:
    """BAL: an agent gets bonus balance and this month's points; a customer the status of open orders."""
    db, lang, contact = turn.db, turn.lang, turn.contact
    if _is_agent(contact):
        assert contact is not None
        points = cq.agent_points_since(db, contact["id"], _office_start(turn.config, turn.now, month=True),
                                       [str(OrderStatus.CANCELLED)])
        detail = _text("agent_balance", lang, money=money(cq.bonus_balance(db, contact["id"]), lang),
                       points=_points(points, lang))
        turn.reply(grammar.reply_text("balance", lang, balance=detail))
        return InState.HANDLED, Handled.BALANCE
    if not _registered(contact):
        turn.reply(grammar.reply_text("not_registered", lang))
        return InState.HANDLED, Handled.NOT_REGISTERED
    orders = cq.open_orders(db, turn.phone, [str(s) for s in OPEN_ORDER_STATES])
    if not orders:
        turn.reply(_text("orders_none", lang))
    else:
        names = _STATUS_NAMES[lang]
        listed = "; ".join(f"{o['number']} - {names.get(o['status'], o['status'])}, {money(o['total_kop'], lang)}"
                           for o in orders)
        turn.reply(_text("orders_open", lang, orders=listed))
    return InState.HANDLED, Handled.BALANCE


def _broadcast(turn: _Turn, body: str) -> tuple[InState, Handled]:
    """ALL <text> from an agent: a bulk advertising message to each of the agent's consented customers."""
    db, now, lang, agent = turn.db, turn.now, turn.lang, turn.contact
    if not _is_agent(agent):
        return InState.INBOX, Handled.OTHER  # a customer's "Всем спасибо!" is for staff to read
    assert agent is not None
    cap = _broadcast_cap(db, turn.config)
    if cq.broadcasts_since(db, agent["id"], _office_start(turn.config, now, month=False)) >= cap:
        turn.reply(_text("broadcast_capped", lang, cap=cap))
        return InState.HANDLED, Handled.BROADCAST_CAPPED
    if cq.broadcast_by_inbox(db, turn.inbox_id) is not None:
        return InState.HANDLED, Handled.BROADCAST  # queued already (the row was forced back to `new` by hand)
    from gateway import campaigns  # the restricted-content rules live with the campaigns

    restricted = campaigns.check_restricted(db, body)
    if restricted:  # alcohol, medicines… are for the office to judge, as in a campaign
        turn.reply(_text("broadcast_held", lang, label=restricted[0].label))
        return InState.INBOX, Handled.BROADCAST_HELD
    if not re.search(r"\b(стоп|stop)\b", body, re.IGNORECASE):
        body += _text("stop_hint", grammar.detect_lang(body, lang))  # every mailing says how to stop it
    audience = cq.broadcast_audience(db, agent["id"])
    for phone in audience:
        outbox.submit(db, turn.config, phone, body, now=now, priority=Priority.BULK,
                      message_class=MessageClass.ADVERTISING, idempotency_key=f"broadcast:{turn.inbox_id}:{phone}",
                      created_by=f"agent:{agent['id']}")
    cq.add_broadcast(db, turn.inbox_id, agent["id"], body, len(audience), now)
    turn.reply(grammar.reply_text("broadcast_sent", lang, count=len(audience)))
    return InState.HANDLED, Handled.BROADCAST


# --- order status changes by staff (the web page) ----------------------------------------------------------


def next_statuses(current: str) -> tuple[OrderStatus, ...]:
    """The statuses an order in `current` may move to (none for a final or unknown status)."""
    try:
        return ORDER_TRANSITIONS[OrderStatus(current)]
    except ValueError:
        return ()


def _order_lang(order: dict[str, Any]) -> Lang:
    """The customer's language: the contact's stored one, else the one the order's reply went out in."""
    stored = order.get("customer_lang")
    if stored in ("ru", "en"):
        return Lang(stored)
    body = order.get("sms_body")
    if order.get("form") == "short" and body:
        return grammar.detect_lang(body, Lang.RU)
    return Lang.RU  # the full form is Latin letters and digits whatever the sender's language (see _handle)


def set_order_status(db: store.Database, config: Config, order_id: int, status: str, *, now: float, actor: str,
                     agent_id: int | None = None) -> None:
    """Move an order to a new status and queue one SMS telling the customer, in one transaction.

    Raises UserInputError for an unknown order or status, a move the rules forbid (done and cancelled are final),
    or, when `agent_id` is given, an order that is not that agent's. Asking for the status the order already has
    changes nothing and sends nothing (a repeated form); the SMS's idempotency key `order-status:<id>:<status>`
    keeps it to one per order and status whatever happens. Cancelling takes the order's bonus back.
    """
    try:
        target = OrderStatus(status)
    except ValueError:
        raise UserInputError(f"unknown order status {status!r}; one of: "
                             + ", ".join(str(s) for s in OrderStatus)) from None
    with store.immediate(db):
        order = cq.order_get(db, order_id)
        if order is None or (agent_id is not None and order["agent_id"] != agent_id):
            raise UserInputError(f"no order {order_id} / заказ {order_id} не найден")
        current = OrderStatus(order["status"])
        if current == target:
            return  # already there: nothing to change, nothing to send again
        if target not in ORDER_TRANSITIONS[current]:
            raise UserInputError(f"order {order['number']}: {current} cannot become {target}"
                                 f" / заказ {order['number']}: из «{current}» в «{target}» нельзя")
        if not cq.set_order_status_row(db, order_id, str(target), expected=str(current), now=now):
            raise RuntimeError(f"order {order_id} changed under an immediate transaction")  # cannot happen
        reversed_kop = 0
        if target == OrderStatus.CANCELLED:
            reversed_kop = cq.reverse_bonus(db, order_id, f"order {order['number']} cancelled", now)
        lang = _order_lang(order)
        text = _text(f"status_{target}", lang, number=order["number"], total=money(order["total_kop"], lang))
        message_id = outbox.submit(
            db, config, order["phone"], text, now=now, priority=Priority.TRANSACTIONAL,
            message_class=MessageClass.SERVICE, pinned_modem_id=order["modem_id"],
            idempotency_key=f"order-status:{order_id}:{target}", created_by=f"order-status:{actor}")
        users.audit(db, actor, "order.status", now, target=order["number"], order_id=order_id, old=str(current),
                    new=str(target), message_id=message_id, bonus_reversed_kop=reversed_kop)
    log.info("order %s: %s → %s by %s; message %d queued", order["number"], current, target, actor, message_id)


@dataclass(frozen=True)
class AgentSummary:
    """What an agent's cabinet shows: bonus balance, points of this office month, orders still open."""

    balance_kop: int
    points_month: float
    open_orders: int


def agent_summary(db: store.Database, config: Config, agent_id: int, *, now: float) -> AgentSummary:
    """An agent's bonus balance, this month's points (cancelled orders left out) and open orders."""
    points = cq.agent_points_since(db, agent_id, _office_start(config, now, month=True), [str(OrderStatus.CANCELLED)])
    return AgentSummary(cq.bonus_balance(db, agent_id), points,
                        cq.count_agent_orders(db, agent_id, [str(s) for s in OPEN_ORDER_STATES]))
