"""A campaign through the real workers and the simulator: own name and own coupon on every phone; stats add up."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from gateway import campaigns
from gateway.states import MessageClass
from gateway.store import campaigns as cstore
from gateway.store import contacts as cs
from tests.harness import FakeClock, Gateway, Network, make_config, wait_until

NOON = datetime(2026, 5, 20, 12, 0, tzinfo=ZoneInfo("Europe/Moscow")).timestamp()


def test_campaign_with_template_and_coupons_through_the_simulator(tmp_path: Path) -> None:
    clock = FakeClock(NOON, tick=0.001)  # daytime: bulk is not held back by quiet hours
    names = ["Ольга", "Мария", "Елена", "Наталья", "Светлана", "Татьяна", "Юлия", "Людмила", "Ирина", "Анна",
             "Вера", "Нина"]
    phones = [f"+7916333{i:04d}" for i in range(len(names))]
    with Network(clock=clock) as net:
        sims = [net.add_modem("generic"), net.add_modem("huawei-e173")]
        config = make_config(tmp_path, [s.path for s in sims])
        with Gateway(config, clock=clock) as gw:
            now = clock()
            agent = cs.ensure(gw.db, "+79160000001", now, name="Анна Петрова", role="agent")
            for i, (phone, name) in enumerate(zip(phones, names)):
                cs.ensure(gw.db, phone, now, name=name, agent_id=agent, tags=json.dumps(["весна"]))
                if i not in (10, 11):  # the last two never consented
                    cs.record_consent(gw.db, phone, MessageClass.ADVERTISING, True, "paper form", now)
            cs.opt_out(gw.db, phones[9], "sms", now)  # Анна said STOP
            cid = campaigns.create(gw.db, config, name="Весна", message_class="advertising", kind="bulk", now=now,
                                   actor="staff", filters={"tags_any": ["весна"]}, with_coupons=True,
                                   body="{first_name}, ваш купон {coupon} на −20%. {agent_name}. {stop_hint}")
            campaigns.start(gw.db, config, cid, now=clock(), actor="staff", acknowledge_legal=True)
            gw.online(2)
            gw.supervisor.poke()
            gw.wait_sent(9)
            codes = {cs.get(gw.db, c)["phone"]: code for c, code in cstore.coupon_codes(gw.db, cid, "once").items()}
            assert len(set(codes.values())) == 9
            for phone, name in zip(phones[:9], names):
                [message] = net.phone(phone).wait_inbox(1, 30)
                assert message.text == f"{name}, ваш купон {codes[phone]} на −20%. Анна Петрова. Отказ от рассылки: СТОП"
            for phone in phones[9:]:
                assert net.phone(phone).inbox == []
            cs.opt_out(gw.db, phones[0], "sms", clock())  # opted out afterwards
            assert campaigns.redeem_coupon(gw.db, codes[phones[1]], by="sms", now=clock()).ok
            stats = wait_until(lambda: (s := campaigns.stats(gw.db, cid)).delivered == 9 and s, 30,
                               "delivery reports")
    assert stats.targeted == 12 and stats.skipped == {"opted_out": 1, "no_consent": 2}
    assert stats.targeted == stats.queued_total + sum(stats.skipped.values())
    assert (stats.queued, stats.sent, stats.failed, stats.cancelled) == (0, 0, 0, 0)
    assert (stats.opted_out_after, stats.coupons_issued, stats.coupons_redeemed) == (1, 9, 1)
