"""Issue 5, at database level: each SMS command's rows and reply, errors, loop protection, idempotency."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import commands, grammar, inbound, outbox, store
from gateway.grammar import Lang
from gateway.states import InState, MessageClass, OutState, Priority
from gateway.store import commands as cq
from gateway.store import contacts
from gateway.store import outbox as q
from tests.commands_kit import AGENT, AGENT_CODE, CUSTOMER, NOON, OTHER_AGENT, STRANGER, Desk, make_desk, pdus


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return make_desk(tmp_path)


def reply(key: str, lang: Lang, **values: object) -> str:
    return grammar.reply_text(key, lang, **values)


# --- opt-out, START, HELP ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "lang"), [
    ("STOP", Lang.EN), ("стоп", Lang.RU), ("CTOП", Lang.RU), ("Re: Stop!", Lang.EN), ("ОТПИСКА", Lang.RU),
    ("Отпишите меня", Lang.RU), ("unsubscribe", Lang.EN), ("otpiska", Lang.EN), ("СТОП больше не пишите", Lang.RU),
])
def test_tier1_opt_out_records_the_event_and_confirms_once(desk: Desk, text: str, lang: Lang) -> None:
    inbox_id = desk.receive(CUSTOMER, text)
    row = contacts.get_by_phone(desk.db, CUSTOMER)
    assert row is not None and row["opted_out_at"] == NOON and row["consent_advertising"] == 0
    event = contacts.consent_history(desk.db, CUSTOMER)[-1]
    assert (event["action"], event["class"], event["inbox_id"], event["at"]) == ("withdrawn", "advertising",
                                                                                  inbox_id, NOON)
    assert "tier 1" in event["source"]
    assert desk.replies(CUSTOMER) == [reply("optout", lang)]
    assert desk.inbox(inbox_id)["state"] == InState.HANDLED and desk.inbox(inbox_id)["command"] == "optout"


def test_stop_cancels_every_queued_bulk_message_but_not_transactional_ones(desk: Desk) -> None:
    with store.immediate(desk.db):
        bulk = [outbox.submit(desk.db, desk.config, CUSTOMER, f"Акция {i}", now=NOON, priority=Priority.BULK,
                              message_class=MessageClass.ADVERTISING) for i in range(50)]
        notice = outbox.submit(desk.db, desk.config, CUSTOMER, "Ваш заказ готов", now=NOON)
    desk.receive(CUSTOMER, "СТОП")
    assert {q.get(desk.db, i)["state"] for i in bulk} == {OutState.CANCELLED}
    assert q.get(desk.db, notice)["state"] == OutState.QUEUED


def test_start_resubscribes_with_a_fresh_consent_event(desk: Desk) -> None:
    desk.receive(CUSTOMER, "stop")
    desk.now += 60
    inbox_id = desk.receive(CUSTOMER, "СТАРТ")
    row = contacts.get_by_phone(desk.db, CUSTOMER)
    assert row["opted_out_at"] is None and row["consent_advertising"] == 1
    event = contacts.consent_history(desk.db, CUSTOMER)[-1]
    assert (event["action"], event["inbox_id"], event["at"]) == ("granted", inbox_id, NOON + 60)
    assert desk.replies(CUSTOMER)[-1] == reply("optin", Lang.RU)
    desk.receive(STRANGER, "START")
    assert desk.replies(STRANGER) == [reply("optin", Lang.EN)]
    assert contacts.get_by_phone(desk.db, STRANGER)["consent_advertising"] == 1


@pytest.mark.parametrize(("text", "lang"), [("HELP", Lang.EN), ("ПОМОЩЬ", Lang.RU), ("справка", Lang.RU),
                                             ("INFO", Lang.EN), ("Re: пoмощь?", Lang.RU)])
def test_help_lists_the_commands(desk: Desk, text: str, lang: Lang) -> None:
    desk.receive(STRANGER, text)
    assert desk.replies(STRANGER) == [reply("help", lang)]


@pytest.mark.parametrize("text", ["Не беспокойте меня", "Это спам!", "надоели", "Напишу жалобу в ФАС"])
def test_tier2_pauses_bulk_and_waits_for_review_without_opting_out(desk: Desk, text: str) -> None:
    with store.immediate(desk.db):
        bulk = outbox.submit(desk.db, desk.config, CUSTOMER, "Акция", now=NOON, priority=Priority.BULK,
                             message_class=MessageClass.ADVERTISING)
    inbox_id = desk.receive(CUSTOMER, text)
    row = contacts.get_by_phone(desk.db, CUSTOMER)
    assert row["bulk_paused_at"] == NOON and row["opted_out_at"] is None
    assert desk.inbox(inbox_id)["state"] == InState.REVIEW
    assert desk.replies(CUSTOMER) == []
    # the claim keeps the paused number's bulk message back, with the reason, until staff lift the pause
    from gateway.store import modems as store_modems

    modem_id = store_modems.upsert_identity(desk.db, "356938030000005", NOON)
    rules = outbox.ClaimPolicy(desk.config, _caps(), clock_ok=lambda: True)
    result = outbox.claim(desk.db, modem_id, NOON, rules)
    assert not isinstance(result, outbox.Claimed)
    held = q.get(desk.db, bulk)
    assert held["state"] == OutState.QUEUED and held["next_attempt_at"] > NOON
    assert "awaits staff review" in held["last_error"]
    contacts.opt_in(desk.db, CUSTOMER, "staff review", NOON + 1)  # staff decide it was no opt-out
    later = outbox.claim(desk.db, modem_id, held["next_attempt_at"], rules)
    assert isinstance(later, outbox.Claimed) and later.id == bulk


def _caps():  # noqa: ANN202
    from gateway import policy

    return policy.Caps(1000, 10000, 100000)


# --- registration -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "lang", "owner"), [
    ("REG Anna 89161110001", Lang.EN, AGENT), ("рег Мария A002", Lang.RU, OTHER_AGENT),
    (f"РЕГ Светлана {AGENT_CODE}", Lang.RU, AGENT), ("PEГ Елена", Lang.RU, None),
])
def test_registration_creates_a_consenting_customer_owned_by_the_inviter(desk: Desk, text: str, lang: Lang,
                                                                         owner: str | None) -> None:
    inbox_id = desk.receive(STRANGER, text)
    row = contacts.get_by_phone(desk.db, STRANGER)
    name = grammar.parse(text).name
    assert (row["name"], row["role"], row["consent_advertising"], row["lang"]) == (name, "customer", 1, str(lang))
    agent = contacts.get_by_phone(desk.db, owner) if owner else None
    assert row["agent_id"] == (agent["id"] if agent else None)
    event = contacts.consent_history(desk.db, STRANGER)[-1]
    assert (event["action"], event["source"], event["inbox_id"]) == ("granted", "sms registration", inbox_id)
    assert desk.replies(STRANGER) == [reply("reg_welcome", lang, name=name)]
    if owner:
        assert desk.notices(owner) == [reply("reg_agent_notify", Lang.RU, name=name, phone=STRANGER)]


def test_registration_twice_and_without_a_name(desk: Desk) -> None:
    desk.receive(CUSTOMER, "РЕГ Ольга")
    assert desk.replies(CUSTOMER) == [reply("reg_already", Lang.RU, name="Ольга")]
    desk.receive(STRANGER, "РЕГ")
    assert desk.replies(STRANGER) == [reply("reg_usage", Lang.RU)]
    assert contacts.get_by_phone(desk.db, STRANGER) is None


def test_registration_after_an_opt_out_turns_the_bare_contact_into_a_customer(desk: Desk) -> None:
    desk.receive(STRANGER, "стоп")
    desk.receive(STRANGER, "РЕГ Нина 89161110001")
    row = contacts.get_by_phone(desk.db, STRANGER)
    assert row["name"] == "Нина" and row["opted_out_at"] is None and row["agent_id"] is not None


# --- orders -----------------------------------------------------------------------------------------------


def _orders(desk: Desk) -> list[dict]:
    return [dict(r) for r in desk.db.execute("SELECT * FROM orders ORDER BY id")]


@pytest.mark.parametrize("text", [
    f"{AGENT_CODE} SPO123 K 31234 2 40001 1",
    f"{AGENT_CODE} СПО123 К 31234 2 40001 1",                 # Cyrillic look-alikes
    f"  {AGENT_CODE}, spo 123, k: 31234 - 2; 40001 x1 ",
    "89161110001 SPO123 K 31234 2 40001 1",                   # consultant by phone
])
def test_full_order_is_stored_replied_notified_and_credited(desk: Desk, text: str) -> None:
    inbox_id = desk.receive(CUSTOMER, text)
    [order] = _orders(desk)
    agent = contacts.get_by_phone(desk.db, AGENT)
    customer = contacts.get_by_phone(desk.db, CUSTOMER)
    assert (order["inbox_id"], order["phone"], order["contact_id"], order["agent_id"]) == (
        inbox_id, CUSTOMER, customer["id"], agent["id"])
    assert (order["form"], order["spo"], order["payment"], order["refuse_reserve"], order["status"]) == (
        "full", "123", "credit", 0, "new")
    assert order["total_kop"] == 2 * 59900 + 19950 and order["points"] == 2 * 12.5 + 4.0
    lines = cq.order_lines(desk.db, order["id"])
    assert [(x["code"], x["qty"], x["price_kop"]) for x in lines] == [("31234", 2, 59900), ("40001", 1, 19950)]
    [entry] = [dict(r) for r in desk.db.execute("SELECT * FROM bonus_ledger")]
    assert (entry["agent_id"], entry["order_id"], entry["amount_kop"], entry["percent"]) == (
        agent["id"], order["id"], round(139750 * 0.05), 5.0)
    assert desk.replies(CUSTOMER) == [
        reply("order_accepted", Lang.RU, order_id=order["number"], items=2) + " Сумма: 1397,50 руб."]
    [notice] = desk.notices(AGENT)
    assert order["number"] in notice and "31234x2, 40001x1" in notice and "Ольга" in notice
    assert "бонус 69,88 руб." in notice


def test_refuse_reserve_and_immediate_payment(desk: Desk) -> None:
    desk.receive(CUSTOMER, f"{AGENT_CODE} SPO7 NR 22222 3")
    [order] = _orders(desk)
    assert (order["payment"], order["refuse_reserve"], order["total_kop"]) == ("immediate", 1, 3 * 34900)


@pytest.mark.parametrize(("text", "lang"), [("ЗАКАЗ 31234 2", Lang.RU), ("order 31234 2", Lang.EN),
                                             ("ЗAKAЗ 31234 2", Lang.RU), ("Re: заказ 31234 - 2 шт", Lang.RU)])
def test_short_order_from_a_registered_customer_goes_to_the_owning_agent(desk: Desk, text: str,
                                                                         lang: Lang) -> None:
    desk.receive(CUSTOMER, text)
    [order] = _orders(desk)
    assert order["agent_id"] == contacts.get_by_phone(desk.db, AGENT)["id"] and order["form"] == "short"
    assert desk.replies(CUSTOMER) == [
        reply("order_accepted", lang, order_id=order["number"], items=1) + commands._text(
            "order_total", lang, total=commands.money(119800, lang))]
    assert len(desk.notices(AGENT)) == 1 and desk.count("bonus_ledger") == 1


def test_short_order_from_an_unknown_number_asks_to_register(desk: Desk) -> None:
    desk.receive(STRANGER, "ЗАКАЗ 31234 2")
    assert desk.replies(STRANGER) == [reply("not_registered", Lang.RU)]
    assert desk.count("orders") == 0


def test_bonus_percent_comes_from_the_settings_table(desk: Desk) -> None:
    cq.set_setting(desk.db, commands.BONUS_PERCENT_KEY, "10", NOON)
    desk.receive(CUSTOMER, "ЗАКАЗ 40001 2")
    assert [r[0] for r in desk.db.execute("SELECT amount_kop FROM bonus_ledger")] == [3990]


MALFORMED = [
    (f"{AGENT_CODE} SPO123 31234 2", "order_missing_payment"),
    (f"{AGENT_CODE} SPO123 K 99999 1 88888 2", "order_unknown_code"),
    (f"{AGENT_CODE} SPO123 K 31234 0", "order_qty_zero"),
    (f"{AGENT_CODE} SPO123 K 31234 -2", "order_qty_negative"),
    (f"{AGENT_CODE} SPO123 K 31234 1.5", "order_qty_not_number"),
    (f"{AGENT_CODE} SPO123 K 31234 150", "order_qty_too_big"),
    (f"{AGENT_CODE} SPO123 K 31234", "order_missing_qty"),
    (f"{AGENT_CODE} SPO123 K 123 2", "order_bad_code"),
    (f"{AGENT_CODE} SPO123 K помада 2", "order_letter_for_code"),
    ("7654321 SPO1 K 31234 1", "order_unknown_consultant"),
    ("12 SPO1 K 31234 1", "order_bad_consultant"),
    (f"{AGENT_CODE} K 31234 1", "order_missing_spo"),
    (f"{AGENT_CODE} SPO123 R K 31234 1", "order_refuse_before_payment"),
    (f"{AGENT_CODE} SPO123 K 31234 1 31234 2", "order_duplicate_code"),
    (f"{AGENT_CODE} SPO123 K", "order_no_items"),
    ("SPO123 K 31234 1", "order_missing_consultant"),
    ("ЗАКАЗ 31234", "order_missing_qty"),
    ("ЗАКАЗ 55555 1", "order_unknown_code"),
]


@pytest.mark.parametrize(("text", "kind"), MALFORMED)
def test_malformed_order_gets_a_precise_reply_and_creates_nothing(desk: Desk, text: str, kind: str) -> None:
    inbox_id = desk.receive(CUSTOMER, text)
    [answer] = desk.replies(CUSTOMER)
    parsed = grammar.parse(text)
    errors = [parsed] if isinstance(parsed, grammar.OrderError) else grammar.validate_order(
        parsed, lambda c: cq.catalogue_get(desk.db, c), consultants=lambda k: commands._find_agent(desk.db, k))
    assert errors and f"order_{errors[0].kind.value}" == kind
    assert answer == grammar.order_error_reply(errors, Lang.RU)
    assert "Пример:" in answer
    assert (desk.count("orders"), desk.count("order_lines"), desk.count("bonus_ledger")) == (0, 0, 0)
    assert desk.notices(AGENT) == [] and desk.inbox(inbox_id)["command"] == "order_error"


def test_unknown_codes_are_listed_together(desk: Desk) -> None:
    desk.receive(CUSTOMER, f"{AGENT_CODE} SPO123 K 99999 1 31234 1 88888 2")
    assert "99999, 88888" in desk.replies(CUSTOMER)[0]


# --- balance ----------------------------------------------------------------------------------------------


def test_balance_for_an_agent_is_bonus_and_this_months_points(desk: Desk) -> None:
    desk.receive(CUSTOMER, "ЗАКАЗ 31234 2")
    desk.receive(CUSTOMER, "ЗАКАЗ 40001 1")
    desk.receive(AGENT, "БАЛАНС")
    bonus = round(119800 * 0.05) + round(19950 * 0.05)
    assert desk.replies(AGENT) == [reply("balance", Lang.RU, balance=f"бонусы {commands.money(bonus, Lang.RU)}, "
                                                                     f"баллы за месяц 29")]
    desk.now += 31 * 86400   # next month: the points start again, the bonus stays
    desk.receive(AGENT, "bal")
    assert desk.replies(AGENT)[-1] == reply("balance", Lang.EN,
                                            balance=f"bonus {commands.money(bonus, Lang.EN)}, points this month 0")


def test_balance_for_a_customer_lists_open_orders(desk: Desk) -> None:
    desk.receive(CUSTOMER, "БАЛАНС")
    assert desk.replies(CUSTOMER) == [commands._text("orders_none", Lang.RU)]
    desk.receive(CUSTOMER, "ЗАКАЗ 31234 2")
    desk.db.execute("UPDATE orders SET status = 'ready'")
    desk.receive(CUSTOMER, "ЗАКАЗ 40001 1")
    desk.receive(CUSTOMER, "баланс")
    assert desk.replies(CUSTOMER)[-1] == "Ваши заказы: 00002 - принят, 199,50 руб.; 00001 - готов к выдаче, 1198,00 руб."
    desk.receive(STRANGER, "BAL")
    assert desk.replies(STRANGER) == [reply("not_registered", Lang.EN)]


# --- agent broadcast --------------------------------------------------------------------------------------


def _customers(desk: Desk) -> dict[str, str]:
    """Four more customers of the first agent in various consent states, one of the other agent."""
    agent_id = contacts.get_by_phone(desk.db, AGENT)["id"]
    other_id = contacts.get_by_phone(desk.db, OTHER_AGENT)["id"]
    people = {"+79164440001": "consented", "+79164440002": "opted out", "+79164440003": "no consent",
              "+79164440004": "other agent's"}
    for phone, kind in people.items():
        contacts.ensure(desk.db, phone, NOON, name=kind, agent_id=other_id if "other" in kind else agent_id)
        if kind != "no consent":
            contacts.record_consent(desk.db, phone, MessageClass.ADVERTISING, True, "form", NOON)
        if kind == "opted out":
            contacts.opt_out(desk.db, phone, "web", NOON)
    return people


def test_agent_broadcast_reaches_only_own_consented_customers(desk: Desk) -> None:
    _customers(desk)
    inbox_id = desk.receive(AGENT, "ВСЕМ Новый каталог уже у меня!")
    rows = [dict(r) for r in desk.db.execute("SELECT * FROM outbox WHERE reply_to IS NULL ORDER BY phone")]
    assert [r["phone"] for r in rows] == [CUSTOMER, "+79164440001"]
    assert {(r["body"], r["priority"], r["class"]) for r in rows} == {
        ("Новый каталог уже у меня! Отказ: СТОП", Priority.BULK, "advertising")}  # how to stop, always
    assert desk.replies(AGENT) == [reply("broadcast_sent", Lang.RU, count=2)]
    [logged] = [dict(r) for r in desk.db.execute("SELECT * FROM agent_broadcasts")]
    assert (logged["inbox_id"], logged["recipients"]) == (inbox_id, 2)


def test_agent_broadcast_daily_cap(desk: Desk) -> None:
    cq.set_setting(desk.db, commands.BROADCAST_CAP_KEY, "2", NOON)
    for i in range(3):
        desk.receive(AGENT, f"ALL news {i}")
    assert desk.replies(AGENT)[-1] == commands._text("broadcast_capped", Lang.EN, cap=2)
    assert desk.count("agent_broadcasts") == 2
    desk.now += 86400
    desk.receive(AGENT, "ALL next day")
    assert desk.count("agent_broadcasts") == 3


def test_an_agent_broadcast_about_restricted_goods_is_held_for_the_office(desk: Desk) -> None:
    _customers(desk)
    inbox_id = desk.receive(AGENT, "ВСЕМ Скидка на вино и пиво!")
    assert desk.inbox(inbox_id)["state"] == InState.INBOX
    assert desk.count("agent_broadcasts") == 0
    assert not [r for r in desk.db.execute("SELECT 1 FROM outbox WHERE reply_to IS NULL")]
    assert "не отправлена" in desk.replies(AGENT)[-1]


def test_a_customers_all_goes_to_the_staff_inbox(desk: Desk) -> None:
    inbox_id = desk.receive(CUSTOMER, "Всем спасибо!")
    assert desk.inbox(inbox_id)["state"] == InState.INBOX
    assert desk.replies(CUSTOMER) == [] and desk.count("agent_broadcasts") == 0


# --- polls ------------------------------------------------------------------------------------------------


def test_poll_replies_are_tallied_for_numbers_the_poll_was_sent_to(desk: Desk) -> None:
    poll = cq.create_poll(desk.db, "Придёте на презентацию?", ["ДА", "НЕТ"], NOON - 60, NOON + 86400, NOON)
    voters = [f"+7916555000{i}" for i in range(4)]
    for phone in voters:
        cq.add_poll_recipient(desk.db, poll, phone, NOON)
    for phone, answer in zip(voters, ["да", "Нет, спасибо", "ДА!", "yes"]):
        desk.receive(phone, answer)
    assert cq.poll_tally(desk.db, poll) == {"ДА": 3, "НЕТ": 1}
    assert all(desk.replies(p) == [reply("poll_thanks", grammar.detect_lang(a, Lang.RU))]
               for p, a in zip(voters, ["да", "Нет, спасибо", "ДА!", "yes"]))
    desk.receive(voters[0], "нет")   # a later answer replaces the earlier one
    assert cq.poll_tally(desk.db, poll) == {"ДА": 2, "НЕТ": 2}
    inbox_id = desk.receive(STRANGER, "да")   # the poll was not sent to this number
    assert desk.inbox(inbox_id)["state"] == InState.INBOX
    desk.now = NOON + 86400 + 1   # closed
    inbox_id = desk.receive(voters[1], "да")
    assert desk.inbox(inbox_id)["state"] == InState.INBOX and cq.poll_tally(desk.db, poll)["НЕТ"] == 2


def test_poll_linked_to_a_campaign_finds_its_recipients_through_the_outbox(desk: Desk) -> None:
    poll = cq.create_poll(desk.db, "Какой цвет?", ["1", "2", "3"], NOON - 60, NOON + 3600, NOON, campaign_id=77)
    message = outbox.submit(desk.db, desk.config, CUSTOMER, "Какой цвет? 1, 2 или 3", now=NOON,
                            priority=Priority.BULK, campaign_id=77)
    desk.db.execute("UPDATE outbox SET state = 'delivered' WHERE id = ?", [message])
    desk.receive(CUSTOMER, "2")
    assert cq.poll_tally(desk.db, poll) == {"1": 0, "2": 1, "3": 0}


# --- what is never answered, loop protection ---------------------------------------------------------------


def test_anything_else_goes_to_the_inbox_without_a_reply(desk: Desk) -> None:
    inbox_id = desk.receive(CUSTOMER, "Когда будет доставка?")
    assert desk.inbox(inbox_id)["state"] == InState.INBOX and desk.replies(CUSTOMER) == []


@pytest.mark.parametrize("text", ["Автоответ: я в отпуске до понедельника", "Auto-reply: I am out of office",
                                  "Вы отписаны от рассылки. Вернуться: отправьте СТАРТ"])
def test_machine_replies_are_never_answered(desk: Desk, text: str) -> None:
    inbox_id = desk.receive(CUSTOMER, text)
    assert desk.inbox(inbox_id)["state"] == InState.IGNORED and desk.replies(CUSTOMER) == []


def test_operator_and_short_code_senders_are_stored_but_never_answered(desk: Desk) -> None:
    ids = [desk.receive(sender, "STOP") for sender in ("MTS", "BeelineInfo", "900")]
    assert {desk.inbox(i)["state"] for i in ids} == {InState.IGNORED}
    assert desk.count("outbox") == 0 and desk.count("consent_events") == 1  # the seed's


def test_loop_protection_caps_replies_per_number_per_ten_minutes(desk: Desk) -> None:
    for _ in range(8):
        desk.receive(STRANGER, "HELP")
        desk.now += 30
    assert len(desk.replies(STRANGER)) == desk.config.sending.auto_replies_per_10min == 5
    desk.now = NOON + 601 + 4 * 30   # the first five replies have aged out
    desk.receive(STRANGER, "HELP")
    assert len(desk.replies(STRANGER)) == 6


def test_capped_stop_still_opts_out(desk: Desk) -> None:
    for _ in range(5):
        desk.receive(CUSTOMER, "HELP")
        desk.now += 1   # the same text in the same second would be the same PDU (a re-read)
    desk.receive(CUSTOMER, "STOP")
    assert contacts.get_by_phone(desk.db, CUSTOMER)["opted_out_at"] == NOON + 5
    assert len(desk.replies(CUSTOMER)) == 5


def test_replies_are_linked_and_pinned_to_the_receiving_modem(desk: Desk) -> None:
    from gateway.store import modems

    modem = modems.upsert_identity(desk.db, "356938035643809", NOON)
    inbox_id = desk.receive(STRANGER, "HELP", modem_id=modem)
    [row] = [dict(r) for r in desk.db.execute("SELECT * FROM outbox")]
    assert (row["reply_to"], row["pinned_modem_id"], row["priority"], row["class"], row["idempotency_key"]) == (
        inbox_id, modem, Priority.TRANSACTIONAL, "service", f"reply:{inbox_id}:0")


# --- idempotency and crash safety ---------------------------------------------------------------------------


def test_handling_a_message_twice_changes_nothing_the_second_time(desk: Desk) -> None:
    inbox_id = desk.receive(CUSTOMER, "ЗАКАЗ 31234 2")
    before = [desk.count(t) for t in ("orders", "order_lines", "bonus_ledger", "outbox", "consent_events")]
    commands.handle_inbound(desk.db, desk.config, inbox_id, now=NOON + 5)
    desk.db.execute("UPDATE inbox SET state = 'new' WHERE id = ?", [inbox_id])  # even forced back to new
    commands.handle_inbound(desk.db, desk.config, inbox_id, now=NOON + 5)
    assert [desk.count(t) for t in ("orders", "order_lines", "bonus_ledger", "outbox", "consent_events")] == before
    assert desk.count("orders") == 1 and len(desk.replies(CUSTOMER)) == 1


def test_the_same_pdu_read_again_is_not_a_new_message(desk: Desk) -> None:
    [pdu] = pdus(CUSTOMER, "СТОП")
    first = inbound.accept_pdu(desk.db, None, pdu, NOON)
    assert first is not None
    commands.handle_inbound(desk.db, desk.config, first, now=NOON)
    assert inbound.accept_pdu(desk.db, None, pdu, NOON + 1) is None
    assert desk.count("inbox") == 1 and len(desk.replies(CUSTOMER)) == 1
    assert sum(e["action"] == "withdrawn" for e in contacts.consent_history(desk.db, CUSTOMER)) == 1


def test_handle_pending_takes_messages_left_new_by_a_crash(desk: Desk) -> None:
    ids = []
    for text in ("ЗАКАЗ 31234 1", "HELP", "стоп"):
        [pdu] = pdus(CUSTOMER, text, reference=len(ids) + 1)
        ids.append(inbound.accept_pdu(desk.db, None, pdu, NOON + len(ids)))
    assert commands.handle_pending(desk.db, desk.config, now=NOON + 10) == 3
    assert {desk.inbox(i)["state"] for i in ids} == {InState.HANDLED}
    assert commands.handle_pending(desk.db, desk.config, now=NOON + 20) == 0
    assert desk.count("orders") == 1 and len(desk.replies(CUSTOMER)) == 3


def test_a_failure_midway_leaves_nothing_behind_and_keeps_the_message(desk: Desk,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cq, "credit_bonus", broken)
    inbox_id = desk.receive(CUSTOMER, "ЗАКАЗ 31234 2")   # fails after the order rows were written
    assert (desk.count("orders"), desk.count("order_lines"), desk.count("outbox")) == (0, 0, 0)
    row = desk.inbox(inbox_id)
    assert (row["state"], row["command"], row["body"]) == (InState.INBOX, "error", "ЗАКАЗ 31234 2")


def test_a_partial_multipart_order_is_kept_for_staff_not_executed(desk: Desk) -> None:
    text = "ЗАКАЗ " + " ".join(f"{code} 1" for code in ("31234", "40001", "22222") * 8)
    parts = pdus(CUSTOMER, text, reference=9)
    assert len(parts) >= 2
    inbound.accept_pdu(desk.db, None, parts[0], NOON)
    [inbox_id] = inbound.flush_partial(desk.db, NOON + inbound.PARTIAL_TIMEOUT_S + 1)
    commands.handle_inbound(desk.db, desk.config, inbox_id, now=NOON + inbound.PARTIAL_TIMEOUT_S + 1)
    row = desk.inbox(inbox_id)
    assert (row["partial"], row["state"], row["parts_received"]) == (1, InState.INBOX, 1)
    assert row["body"] and text.startswith(row["body"])
    assert desk.count("orders") == 0 and desk.replies(CUSTOMER) == []


def test_multipart_order_is_joined_and_placed_once(desk: Desk) -> None:
    codes = ["31234", "40001", "22222"]
    text = f"{AGENT_CODE} SPO123 K " + " ".join(f"{c} 1" for c in codes) + " " + "спасибо " * 30
    parts = pdus(CUSTOMER, text, reference=11)
    assert len(parts) >= 2
    results = [inbound.accept_pdu(desk.db, None, p, NOON) for p in reversed(parts)]
    assert results[:-1] == [None] * (len(parts) - 1) and results[-1] is not None
    commands.handle_inbound(desk.db, desk.config, results[-1], now=NOON)
    [order] = _orders(desk)
    assert [x["code"] for x in cq.order_lines(desk.db, order["id"])] == codes


@pytest.mark.parametrize("text", ["STOP do not reply", "Отпишите меня, я в отпуске и мне надоело"])
def test_opt_out_words_win_over_auto_reply_wording(desk: Desk, text: str) -> None:
    assert grammar_looks_automatic(text)  # the texts really trip the machine-reply filter
    inbox_id = desk.receive(CUSTOMER, text)
    row = contacts.get_by_phone(desk.db, CUSTOMER)
    assert row["opted_out_at"] is not None or row["bulk_paused_at"] is not None
    assert desk.inbox(inbox_id)["state"] == InState.REVIEW
    assert desk.replies(CUSTOMER) == []  # a machine-looking text is never answered


def grammar_looks_automatic(text: str) -> bool:
    from gateway import grammar

    return grammar.looks_automatic(text)


def test_registration_consent_names_its_text_and_keeps_the_sms_as_evidence(desk: Desk) -> None:
    desk.receive("+79165559999", "РЕГ Светлана")
    [event] = contacts.consent_history(desk.db, "+79165559999")
    assert (event["source"], event["text_version"]) == ("sms registration", commands.REG_CONSENT_VERSION)
    assert event["evidence"] == "РЕГ Светлана" and event["inbox_id"] is not None
    assert "СТОП" in desk.replies("+79165559999")[-1]  # the welcome says how to stop what was agreed to
