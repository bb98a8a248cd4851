"""Send-path throughput on simulated modems: `python -m gateway.bench send --modems N --messages M --latency S`.

Queues M single-part messages, starts the real workers on N simulated modems whose every submitted part takes
S seconds, and times until every message is `sent`. Prints:
  throughput_msg_s  messages per second over the whole run
  overhead_ms       gateway time per message per modem beyond the simulated latency
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
import time
from pathlib import Path

from gateway import config as configuration
from gateway import outbox, store
from gateway.simulator import Network
from gateway.store import outbox as q
from gateway.worker import Supervisor


def run(modems: int, messages: int, latency: float, profile: str = "generic") -> dict[str, float]:
    """Run one measurement and return its figures."""
    with tempfile.TemporaryDirectory() as tmp, Network() as net:
        sims = [net.add_modem(profile=profile) for _ in range(modems)]
        for sim in sims:
            sim.set_faults(latency_part=latency, dr_status="none", periodic_urcs=False)
        config = configuration.parse({
            "database": {"path": str(Path(tmp) / "bench.db")},
            "modems": [{"port": s.path, "per_minute": 60_000, "per_hour": 3_600_000, "per_day": 100_000_000}
                       for s in sims],
        })
        db = store.connect(config.database.path)
        now = time.time()
        with store.immediate(db):
            for i in range(messages):
                outbox.submit(db, config, f"+7916{2000000 + i:07d}", f"Benchmark message {i}", now=now)
        stopping = threading.Event()
        supervisor = Supervisor(config, stopping=stopping, clock_ok=lambda: True)
        supervisor.start()
        deadline = time.monotonic() + 60
        while not all(w.connected.is_set() for w in list(supervisor.workers.values())) or \
                len(supervisor.workers) < modems:
            if time.monotonic() > deadline:
                raise RuntimeError("the modems did not come online")
            stopping.wait(0.01)
        started = time.monotonic()
        supervisor.poke()
        while q.counts(db)["sent"] < messages:
            if time.monotonic() - started > 600:
                raise RuntimeError(f"only {q.counts(db)['sent']} of {messages} sent in 600 s")
            stopping.wait(0.02)
        elapsed = time.monotonic() - started
        supervisor.stop()
        db.close()
    per_message_per_modem = elapsed * modems / messages
    return {
        "throughput_msg_s": messages / elapsed,
        "overhead_ms": max(0.0, per_message_per_modem - latency) * 1000,
        "elapsed_s": elapsed,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.bench send", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modems", type=int, default=1)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per submitted part")
    parser.add_argument("--profile", default="generic")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    figures = run(args.modems, args.messages, args.latency, args.profile)
    print(f"modems: {args.modems}\nmessages: {args.messages}\nlatency_s: {args.latency}")
    for key, value in figures.items():
        print(f"{key}: {value:.1f}" if key != "overhead_ms" else f"{key}: {value:.2f}")
    return 0
