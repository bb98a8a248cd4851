"""Sample data of the campaigns domain for `smsgw demo`: attributes, a segment, a template, a draft campaign, and
every automation switched on (they are off by default everywhere else)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from gateway import campaigns, jobs, segments, store, templates
from gateway.config import Config
from gateway.store import contacts as cs

CITIES = ("Москва", "Казань", "Тула", "Омск")


def seed(db: store.Database, config: Config, now: float) -> None:
    """Add the sample segment, template and draft campaign; give customers cities and one a birthday today."""
    if segments.list_all(db):
        return  # seeded before
    today = datetime.fromtimestamp(now, ZoneInfo(config.office.timezone)).strftime("--%m-%d")
    customers = cs.search(db, role="customer", limit=1000)
    with store.immediate(db):
        for i, contact in enumerate(customers):
            attrs = {**json.loads(contact["attributes"]), "city": CITIES[i % len(CITIES)]}
            if i == 0:
                attrs["birthday"] = today
            cs.update(db, contact["id"], {"attributes": json.dumps(attrs, ensure_ascii=False),
                                          "tags": json.dumps(["весна"] if i % 2 == 0 else ["vip"])}, now)
    segments.save(db, "Клиенты с согласием на рекламу", {"role": ["customer"], "consent": "advertising"}, now=now)
    templates.save(db, "Весенняя скидка",
                   "{first_name}, весенняя скидка 20% по купону {coupon}! Ваш консультант {agent_name}, "
                   "{agent_phone}. {stop_hint}", now=now)
    campaigns.create(db, config, name="Весенняя скидка", message_class="advertising", kind="bulk", now=now,
                     actor="demo", template="Весенняя скидка", segment="Клиенты с согласием на рекламу",
                     with_coupons=True, coupon_prefix="SP")
    with store.immediate(db):
        for name in jobs.AUTOMATIONS:
            jobs.configure_automation(db, name, {"enabled": True}, now=now)
