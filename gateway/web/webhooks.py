"""Webhooks: inbound messages and status changes of API-sent messages, POSTed as signed JSON with retries.

The dispatcher scans the database (it needs no hook in the workers): new inbox rows after a stored cursor,
and API-queued outbox rows changed since a stored time. Each event is recorded once (unique per kind, message
and state) with one delivery per subscribed webhook; deliveries are retried with exponential back-off until a
2xx answer or `MAX_ATTEMPTS`. Signature: `X-Smsgw-Signature: sha256=<hex HMAC-SHA256(secret, ts + "." + body)>`
with `X-Smsgw-Timestamp: ts`, so a receiver can reject replays.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from gateway import store
from gateway.config import Config
from gateway.store import web as store_web
from gateway.web.api import inbound_json

log = logging.getLogger("gateway.web.webhooks")
MAX_ATTEMPTS = 10
BASE_DELAY_S = 10.0
MAX_DELAY_S = 3600.0
STATUS_STATES = {"sent", "delivered", "undelivered", "failed", "cancelled", "uncertain", "held"}
BATCH = 200

Post = Callable[[str, bytes, dict[str, str]], int]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value of a body."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer (a failure), never a reason to send the signed body somewhere else."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


# No proxies from the environment and no redirects: the body goes to the configured address or nowhere.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST with a short timeout; returns the HTTP status (a 3xx counts as a failure; OSError on network failure)."""
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(req, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def backoff(attempts: int) -> float:
    """Delay before the next attempt after `attempts` failures."""
    return min(MAX_DELAY_S, BASE_DELAY_S * 2 ** max(0, attempts - 1))


class Dispatcher:
    """Finds events and delivers them; `run_once(now)` does one round (tests call it directly)."""

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.time, post: Post = http_post) -> None:
        self.config = config
        self.clock = clock
        self.post = post
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self._db: store.Database | None = None

    def db(self) -> store.Database:
        """The dispatcher's own connection."""
        if self._db is None:
            self._db = store.connect(self.config.database.path)
        return self._db

    def collect(self, now: float) -> int:
        """Record new events for subscribed kinds; returns how many."""
        db = self.db()
        kinds = store_web.wanted_kinds(db)
        found = 0
        with store.immediate(db):
            last = int(store_web.get_cursor(db, "inbound", float(latest_inbox_id(db))))
            for row in store_web.inbox_after(db, last, BATCH):
                last = row["id"]
                if "inbound" in kinds and row["state"] != "ignored":
                    payload = {"event": "inbound", **inbound_json(row)}
                    found += store_web.add_event(db, "inbound", row["id"], "", payload, now) is not None
            store_web.set_cursor(db, "inbound", float(last))
            since = store_web.get_cursor(db, "status", now)
            newest = since
            for row in store_web.api_status_changes(db, since, BATCH):
                newest = max(newest, row["updated_at"])
                if "status" in kinds and row["state"] in STATUS_STATES:
                    payload = {"event": "status", "id": row["id"], "to": row["phone"], "state": row["state"],
                               "parts_total": row["parts_total"], "error": row["last_error"],
                               "idempotency_key": _client_key(row["idempotency_key"])}
                    found += store_web.add_event(db, "status", row["id"], row["state"], payload, now) is not None
            store_web.set_cursor(db, "status", newest)
        return found

    def deliver(self, now: float) -> int:
        """Attempt every due delivery once; returns how many succeeded."""
        db = self.db()
        ok = 0
        for d in store_web.due_deliveries(db, now, BATCH):
            body = d["payload"].encode("utf-8")
            timestamp = str(int(now))
            headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "smsgw-webhook/1",
                       "X-Smsgw-Event": d["kind"], "X-Smsgw-Delivery": str(d["event_id"]),
                       "X-Smsgw-Timestamp": timestamp, "X-Smsgw-Signature": sign(d["secret"], timestamp, body)}
            try:
                status = self.post(d["url"], body, headers)
                error = None if 200 <= status < 300 else f"HTTP {status}"
            except (OSError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
            if error is None:
                store_web.delivery_done(db, d["id"], now)
                ok += 1
            else:
                attempts = d["attempts"] + 1
                next_at = None if attempts >= MAX_ATTEMPTS else now + backoff(attempts)
                store_web.delivery_retry(db, d["id"], next_at, error)
                log.warning("webhook delivery %d to %s failed (attempt %d): %s", d["id"], d["url"], attempts, error)
        return ok

    def run_once(self, now: float | None = None) -> int:
        """Collect and deliver once; returns successful deliveries."""
        moment = self.clock() if now is None else now
        self.collect(moment)
        return self.deliver(moment)

    def start(self, period: float = 1.0) -> "Dispatcher":
        """Run rounds in a background thread until `stop()`."""
        def loop() -> None:
            while not self.stopping.wait(period):
                try:
                    self.run_once()
                except Exception:  # one bad round must not end webhook delivery for good
                    log.exception("webhook round failed")
            if self._db is not None:
                self._db.close()

        self.thread = threading.Thread(target=loop, name="webhooks", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread."""
        self.stopping.set()
        if self.thread:
            self.thread.join(timeout=10)


def latest_inbox_id(db: store.Database) -> int:
    """The newest inbox id now (the starting point: history is not replayed to a new receiver)."""
    return store_web.inbox_since_newest(db)


def _client_key(key: str | None) -> str | None:
    """The client's own idempotency key (the stored one is prefixed `api:<key id>:`)."""
    if key and key.startswith("api:"):
        return key.split(":", 2)[2] if key.count(":") >= 2 else None
    return key
