"""Issue 5 acceptance end to end: virtual phones → simulated modem → the real workers → commands → replies back.

Each test runs the product's workers in-process (tests.harness.Gateway) with the command layer hooked in the way
the daemon hooks it, against the simulator over a pty; the phones' inboxes are what the customers would see.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from gateway import commands, grammar, inbound, outbox, store
from gateway.grammar import Lang
from gateway.simulator import pdu as pdul
from gateway.states import MessageClass, OutState, Priority
from gateway.store import commands as cq
from gateway.store import contacts
from gateway.store import modems as store_modems
from gateway.store import outbox as q
from tests.commands_kit import AGENT, AGENT_CODE, CUSTOMER, NOON, seed
from tests.harness import FakeClock, Gateway, Network, make_config, wait_until


def reply(key: str, lang: Lang, **values: object) -> str:
    return grammar.reply_text(key, lang, **values)


def gateway(config, clock) -> Gateway:  # noqa: ANN001
    """The workers with the command layer hooked in as the daemon does it."""
    return Gateway(config, clock=clock,
                   on_inbound=lambda db, inbox_id: commands.handle_inbound(db, config, inbox_id, now=clock()))


def settled(db: store.Database) -> bool:
    """Every outbound message reached the network (or was cancelled)."""
    c = q.counts(db)
    return c["queued"] + c["sending"] == 0


def test_commands_in_russian_and_english_round_trip_through_the_modem(tmp_path: Path) -> None:
    clock = FakeClock(NOON, tick=0.001)
    with Network(clock=clock) as net:
        sim = net.add_modem("generic")
        config = make_config(tmp_path, [sim.path])
        seed(store.connect(config.database.path))
        with gateway(config, clock) as gw:
            gw.online(1)
            to = sim.msisdn
            customer, agent = net.phone(CUSTOMER), net.phone(AGENT)

            # a multipart full order with Cyrillic look-alikes (СПО, К) from the customer
            order = f"{AGENT_CODE} СПО123 К 31234 2 40001 1 22222 1 " + "Спасибо! " * 4
            assert customer.send(to, order) > 1
            [accepted] = customer.wait_inbox(1, 30)
            [placed] = [dict(r) for r in gw.db.execute("SELECT * FROM orders")]
            assert accepted.text == reply("order_accepted", Lang.RU, order_id=placed["number"], items=3) + \
                f" Сумма: {commands.money(placed['total_kop'], Lang.RU)}"
            [summary] = agent.wait_inbox(1, 30)
            assert placed["number"] in summary.text and "31234x2, 40001x1, 22222x1" in summary.text

            # the short form in English, BAL for the agent
            customer.send(to, "ORDER 40001 2")
            assert customer.wait_inbox(2, 30)[-1].text.startswith("Order 00002 received: 1 items.")
            agent.send(to, "БAЛAHC")   # Latin A and H in a Russian word
            balance = [m.text for m in agent.wait_inbox(3, 30) if m.text.startswith("Ваш баланс")]
            assert balance and "бонусы 107,27 руб., баллы за месяц 44" in balance[0]

            # registration in both languages, the inviting agent is told
            net.phone("+79165550001").send(to, "REG Anna 89161110001")
            net.phone("+79165550002").send(to, f"рег Мария {AGENT_CODE}")
            assert [m.text for m in net.phone("+79165550001").wait_inbox(1, 30)] == [
                reply("reg_welcome", Lang.EN, name="Anna")]
            assert [m.text for m in net.phone("+79165550002").wait_inbox(1, 30)] == [
                reply("reg_welcome", Lang.RU, name="Мария")]
            notices = [m.text for m in agent.wait_inbox(5, 30)]
            assert reply("reg_agent_notify", Lang.RU, name="Anna", phone="+79165550001") in notices

            # the agent's broadcast reaches the consented customers (the two new ones and Ольга)
            agent.send(to, "ВСЕМ Новый каталог уже у меня")
            assert reply("broadcast_sent", Lang.RU, count=3) in [m.text for m in agent.wait_inbox(6, 30)]
            for phone in (CUSTOMER, "+79165550001", "+79165550002"):
                wait_until(lambda p=phone: any(m.text == "Новый каталог уже у меня Отказ: СТОП"
                                               for m in net.phone(p).inbox),
                           30, f"broadcast at {phone}")

            # a poll reply is tallied
            poll = cq.create_poll(gw.db, "Придёте?", ["ДА", "НЕТ"], clock() - 60, clock() + 3600, clock())
            cq.add_poll_recipient(gw.db, poll, "+79165550001", clock())
            net.phone("+79165550001").send(to, "Да!")
            assert net.phone("+79165550001").wait_inbox(3, 30)[-1].text == reply("poll_thanks", Lang.RU)
            assert cq.poll_tally(gw.db, poll) == {"ДА": 1, "НЕТ": 0}

            # HELP / СТОП / START
            stranger = net.phone("+79165550003")
            stranger.send(to, "help")
            assert stranger.wait_inbox(1, 30)[0].text == reply("help", Lang.EN)
            customer.send(to, "СТОП")
            wait_until(lambda: customer.inbox[-1].text == reply("optout", Lang.RU), 30, "opt-out confirmation")
            assert contacts.get_by_phone(gw.db, CUSTOMER)["opted_out_at"] is not None
            customer.send(to, "START")
            wait_until(lambda: customer.inbox[-1].text == reply("optin", Lang.EN), 30, "opt-in confirmation")
            assert contacts.get_by_phone(gw.db, CUSTOMER)["opted_out_at"] is None

            # replies went out through the SIM that received the requests, linked to them
            wait_until(lambda: settled(gw.db), 30, "outbox settled")
            rows = [dict(r) for r in gw.db.execute("SELECT * FROM outbox WHERE reply_to IS NOT NULL")]
            assert rows and {r["modem_id"] for r in rows} == {r["pinned_modem_id"] for r in rows} == {
                gw.db.execute("SELECT id FROM modems").fetchone()[0]}
        assert sim.stored() == []


MALFORMED = [
    f"{AGENT_CODE} SPO123 31234 2", f"{AGENT_CODE} SPO123 K 99999 1", f"{AGENT_CODE} SPO123 K 31234 0",
    f"{AGENT_CODE} SPO123 K 31234 -1", f"{AGENT_CODE} SPO123 K 31234 1,5", f"{AGENT_CODE} SPO123 K 31234 150",
    f"{AGENT_CODE} SPO123 K 31234", f"{AGENT_CODE} SPO123 K 12 1", f"{AGENT_CODE} SPO123 K тушь 1",
    "7654321 SPO1 K 31234 1", f"{AGENT_CODE} K 31234 1", f"{AGENT_CODE} SPO123 R K 31234 1",
    f"{AGENT_CODE} SPO123 K 31234 1 31234 1", f"{AGENT_CODE} SPO123 K",
]


def test_malformed_orders_each_get_a_precise_error_and_create_nothing(tmp_path: Path) -> None:
    clock = FakeClock(NOON, tick=0.001)
    with Network(clock=clock) as net:
        sim = net.add_modem("generic")
        config = make_config(tmp_path, [sim.path])
        seed(store.connect(config.database.path))
        with gateway(config, clock) as gw:
            gw.online(1)
            phones = [net.phone(f"+7916600{i:04d}") for i in range(len(MALFORMED))]
            for phone, text in zip(phones, MALFORMED):
                phone.send(sim.msisdn, text)
            kinds = set()
            for phone, text in zip(phones, MALFORMED):
                [answer] = phone.wait_inbox(1, 30)
                parsed = grammar.parse(text)
                errors = [parsed] if isinstance(parsed, grammar.OrderError) else grammar.validate_order(
                    parsed, lambda c: cq.catalogue_get(gw.db, c),
                    consultants=lambda k: commands._find_agent(gw.db, k))
                assert answer.text == grammar.order_error_reply(errors, Lang.RU), text
                kinds.add(errors[0].kind)
            assert len(kinds) >= 10
            assert cq.count_orders(gw.db) == 0
            assert gw.db.execute("SELECT count(*) FROM bonus_ledger").fetchone()[0] == 0


def test_kill_9_between_commit_and_sim_delete_gives_one_order_and_one_reply(tmp_path: Path) -> None:
    clock = FakeClock(NOON, tick=0.001)
    with Network(clock=clock) as net:
        sim = net.add_modem("generic")
        config = make_config(tmp_path, [sim.path])
        db = store.connect(config.database.path)
        seed(db)
        # The modem received the order while no daemon ran: it sits in the SIM store.
        customer = net.phone(CUSTOMER)
        customer.send(sim.msisdn, "ЗАКАЗ 31234 2")
        [stored] = sim.wait_stored(1)
        # The state a kill -9 leaves right after the commit and before AT+CMGD: the PDU read, committed and
        # handled (order, reply queued) — and still in the SIM.
        modem_id = store_modems.upsert_identity(db, sim.imei, clock())
        inbox_id = inbound.accept_pdu(db, modem_id, stored.pdu, clock())
        assert inbox_id is not None
        commands.handle_inbound(db, config, inbox_id, now=clock())
        assert cq.count_orders(db) == 1 and len(sim.stored()) == 1
        with gateway(config, clock) as gw:
            sim.wait_stored(0, timeout=30)   # the start-up sweep found it, saw it was stored, deleted it
            [answer] = customer.wait_inbox(1, 30)
            wait_until(lambda: settled(gw.db), 30, "outbox settled")
            assert cq.count_orders(gw.db) == 1
            assert gw.db.execute("SELECT count(*) FROM inbox").fetchone()[0] == 1
            assert gw.db.execute("SELECT count(*) FROM outbox WHERE reply_to IS NOT NULL").fetchone()[0] == 1
        assert answer.text.startswith("Заказ 00001 принят") and len(customer.inbox) == 1


def test_stop_from_a_number_with_50_queued_bulk_messages(tmp_path: Path) -> None:
    msk = dt.timezone(dt.timedelta(hours=3))
    night = dt.datetime(2026, 3, 10, 23, 0, tzinfo=msk).timestamp()   # quiet hours: bulk waits for the morning
    clock = FakeClock(night, tick=0.001)
    with Network(clock=clock) as net:
        sim = net.add_modem("generic")
        config = make_config(tmp_path, [sim.path])
        db = store.connect(config.database.path)
        seed(db)
        with store.immediate(db):
            bulk = [outbox.submit(db, config, CUSTOMER, f"Акция {i}", now=night, priority=Priority.BULK,
                                  message_class=MessageClass.ADVERTISING) for i in range(50)]
            control = outbox.submit(db, config, "+79167770001", "Акция для другого", now=night,
                                    priority=Priority.BULK)
        with gateway(config, clock) as gw:
            gw.online(1)
            customer = net.phone(CUSTOMER)
            customer.send(sim.msisdn, "Stop")
            assert [m.text for m in customer.wait_inbox(1, 30)] == [reply("optout", Lang.EN)]
            assert {q.get(gw.db, i)["state"] for i in bulk} == {OutState.CANCELLED}
            clock.set(dt.datetime(2026, 3, 11, 10, 0, tzinfo=msk).timestamp())   # morning: bulk may go
            gw.supervisor.poke()
            net.phone("+79167770001").wait_inbox(1, 30)
            wait_until(lambda: settled(gw.db), 30, "outbox settled")
        assert q.get(gw.db, control)["state"] in (OutState.SENT, OutState.DELIVERED)
        assert [m.text for m in customer.inbox] == [reply("optout", Lang.EN)]
        assert not [s for s in sim.submits if s.destination == CUSTOMER and s.text.startswith("Акция")]


def _random_text(rng: random.Random) -> str:
    alphabet = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВСТОРabcXYZ0123456789 .,!?;:-+()@€{}[]~\\^|\n😀🙏"
    return "".join(rng.choice(alphabet) for _ in range(rng.choice([1, 5, 20, 80, 200])))


def test_random_texts_and_bytes_through_the_simulator_are_all_stored(tmp_path: Path) -> None:
    rng = random.Random(5)
    clock = FakeClock(NOON, tick=0.001)
    with Network(clock=clock) as net:
        sim = net.add_modem("generic")
        config = make_config(tmp_path, [sim.path])
        seed(store.connect(config.database.path))
        with gateway(config, clock) as gw:
            gw.online(1)
            parts = 0
            texts = {}
            for i in range(200):
                number = f"+7916400{i:04d}"
                texts[number] = _random_text(rng)
                parts += net.phone(number).send(sim.msisdn, texts[number])
            raw = set()
            while len(raw) < 100:
                data = bytearray(rng.randbytes(rng.randint(1, 120)))
                data[0] &= 0xFC   # TP-MTI = SMS-DELIVER, so the network stores it verbatim
                raw.add(bytes(data))
            for i, data in enumerate(sorted(raw)):
                net.phone(f"+7916500{i:04d}").send_pdu(sim.msisdn, data.hex())
            expected = parts + len(raw)
            wait_until(lambda: gw.db.execute("SELECT count(*) FROM inbox_parts").fetchone()[0] >= expected, 60,
                       f"{expected} parts stored")
            worker = next(iter(list(gw.supervisor.workers.values())))
            assert worker.is_alive() and worker.connected.is_set()
            bodies = dict(gw.db.execute("SELECT phone, body FROM inbox WHERE phone LIKE '+7916400%'").fetchall())
            assert bodies == texts
            assert gw.db.execute("SELECT count(*) FROM inbox WHERE state = 'new' OR command = 'error'"
                                 ).fetchone()[0] == 0
            # still answering afterwards
            net.phone("+79165559999").send(sim.msisdn, "HELP")
            assert net.phone("+79165559999").wait_inbox(1, 30)[0].text == reply("help", Lang.EN)
        # each PDU stored exactly once, plus the HELP
        assert gw.db.execute("SELECT count(*) FROM inbox_parts").fetchone()[0] == expected + 1
