"""Web page latency on a large database: `python -m gateway.bench web --messages 1000000`.

Fills a fresh database (30 days of history: `--messages` outbound messages with their parts, a fifth as many
inbound, contacts, 200 campaigns, 2 modems), then renders each page in-process through the WSGI app as a
signed-in admin and prints `<page>_p50_ms` and `<page>_p95_ms` for the dashboard, the campaign list and the
inbox. Target: p95 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from gateway import auth, config as configuration, store
from gateway.states import Role
from gateway.store import modems, users
from gateway.store import web as store_web

PAGES = {"dashboard": "/", "campaigns": "/campaigns", "inbox": "/inbox"}


def fill(config: configuration.Config, messages: int, now: float) -> None:
    """Create the benchmark's data."""
    db = store.connect(config.database.path)
    uid = users.add_user(db, "bench", auth.hash_password("bench-password"), Role.ADMIN, now)
    modem_ids = [modems.upsert_identity(db, f"35693803000{i:04d}", now, name=f"sim{i + 1}", profile="generic")
                 for i in range(2)]
    for mid in modem_ids:
        modems.update_status(db, mid, now, status="online", rssi=20, signal_dbm=-73, operator="MTS RUS")
    campaign_ids: list[int] = []
    try:
        from gateway import campaigns
    except ImportError:
        campaigns = None  # type: ignore[assignment]
    if campaigns is not None:
        for i in range(200):
            campaign_ids.append(campaigns.create(db, config, name=f"Кампания {i}", message_class="advertising",
                                                 kind="bulk", now=now, actor="bench", body=f"Акция {i}! СТОП — отказ",
                                                 filters={"role": ["customer"]}))
    store_web.bench_fill(db, now=now, messages=messages, inbound=messages // 5, contacts=max(100, min(50_000, messages // 20)),
                         modem_ids=modem_ids, campaign_ids=campaign_ids)
    store_web.create_session(db, "bench-session-token", uid, "csrf", now, "127.0.0.1")
    db.close()


def get(app: Any, path: str) -> int:
    """One in-process GET as the signed-in admin; returns the HTTP status."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "localhost",
               "SERVER_PORT": "80", "HTTP_HOST": "localhost", "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO(),
               "wsgi.url_scheme": "http", "HTTP_COOKIE": "smsgw_session=bench-session-token"}
    status: list[str] = []
    body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    if not body:
        raise RuntimeError(f"{path}: empty page")
    return int(status[0].split()[0])


def run(messages: int, rounds: int = 30) -> dict[str, float]:
    """Fill, then time every page `rounds` times; returns the figures."""
    from gateway.web import make_app

    with tempfile.TemporaryDirectory() as tmp:
        config = configuration.parse({"database": {"path": str(Path(tmp) / "bench.db")}})
        now = time.time()
        started = time.perf_counter()
        fill(config, messages, now)
        filled = time.perf_counter() - started
        app = make_app(config, clock=time.time)
        figures: dict[str, float] = {"fill_s": round(filled, 1)}
        for name, path in PAGES.items():
            assert get(app, path) == 200, path  # warm-up (templates compile, connection opens)
            times = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                code = get(app, path)
                times.append((time.perf_counter() - t0) * 1000)
                if code != 200:
                    raise RuntimeError(f"{path}: HTTP {code}")
            times.sort()
            figures[f"{name}_p50_ms"] = round(statistics.median(times), 1)
            figures[f"{name}_p95_ms"] = round(times[max(0, int(len(times) * 0.95) - 1)], 1)
        return figures


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.bench web", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000, help="outbound messages in the history")
    parser.add_argument("--rounds", type=int, default=30, help="requests per page")
    args = parser.parse_args(argv)
    for key, value in run(args.messages, args.rounds).items():
        print(f"{key}: {value}")
    return 0
