"""Campaign enqueue speed: `python -m gateway.bench campaign --recipients N`.

Seeds N customers with advertising consent (names, agents, cities) in a fresh database file, then times one
campaign firing: resolve the segment, screen consent, assign a coupon to everyone, render a personal Cyrillic
text and plan its parts, and queue it all in one transaction. Prints:
  enqueue_s   seconds for that firing (target ≤ 3 s for 100,000 recipients)
  queued      messages queued
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from gateway import campaigns, store
from gateway import config as configuration
from gateway.states import MessageClass
from gateway.store import contacts as cs

NAMES = ("Ольга Иванова", "Мария", "Елена Сергеевна Смирнова", "Наталья", "", "Светлана Ким", "Юлия", "Татьяна")


def seed(db: store.Database, recipients: int, now: float) -> None:
    """N customers of 50 agents, every one with advertising consent."""
    with store.immediate(db):
        agents = [cs.insert(db, {"phone": f"+7916100{i:04d}", "name": f"Агент {i}", "role": "agent"}, now)
                  for i in range(50)]
        for i in range(recipients):
            phone = f"+79{200000000 + i:09d}"
            cs.insert(db, {"phone": phone, "name": NAMES[i % len(NAMES)], "role": "customer",
                           "agent_id": agents[i % len(agents)], "tags": json.dumps(["vip"] if i % 3 else []),
                           "attributes": json.dumps({"city": "Казань"})}, now)
            cs.record_consent(db, phone, MessageClass.ADVERTISING, True, "bench", now)


def run(recipients: int, directory: Path) -> dict[str, float]:
    """Seed, then time one firing; returns the figures."""
    config = configuration.parse({"database": {"path": str(directory / "bench.db")}})
    db = store.connect(config.database.path)
    now = time.time()
    seed(db, recipients, now)
    campaign_id = campaigns.create(
        db, config, name="bench", message_class="advertising", kind="bulk", now=now, actor="bench",
        body="{first_name}, для вас скидка 20% по купону {coupon}! Ваш консультант {agent_name}, {agent_phone}. "
             "{stop_hint}", filters={"role": ["customer"], "consent": "advertising"}, with_coupons=True)
    started = time.perf_counter()
    campaigns.start(db, config, campaign_id, now=now, actor="bench", acknowledge_legal=True)
    elapsed = time.perf_counter() - started
    stats = campaigns.stats(db, campaign_id)
    db.close()
    return {"enqueue_s": elapsed, "queued": stats.queued_total}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.bench campaign", description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        figures = run(args.recipients, Path(tmp))
    print(f"enqueue_s: {figures['enqueue_s']:.2f}")
    print(f"queued: {int(figures['queued'])}")
    return 0
