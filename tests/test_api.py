"""The JSON API (keys, send, status, contacts, inbox), OpenAPI, /metrics, /health and signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from gateway import store
from gateway.states import OutState, Role
from gateway.store import contacts, outbox as store_outbox
from gateway.store import web as store_web
from gateway.web import make_app
from gateway.web.webhooks import Dispatcher, backoff
from tests.harness import FakeClock
from tests.test_web import T0, inbound
from tests.test_web_support import Client, add_user, make_web_config


@pytest.fixture
def api(tmp_path: Path):
    config = make_web_config(tmp_path)
    clock = FakeClock(T0)
    db = store.connect(config.database.path)
    add_user(db, "admin", Role.ADMIN)
    token = "smsgw_test-key-0123456789"
    store_web.add_api_key(db, "CRM", token, "admin", T0)
    app = make_app(config, clock=clock)
    return config, clock, db, Client(app), {"Authorization": f"Bearer {token}"}


def call(client: Client, method: str, path: str, headers: dict[str, str], data: object = None):
    body = json.dumps(data).encode("utf-8") if data is not None else None
    return client.request(method, path, body=body, content_type="application/json", headers=headers, origin=None)


def test_keys_are_required_and_revocable(api) -> None:
    _, _, db, client, auth = api
    assert call(client, "GET", "/api/v1/inbox", {}).status == 401
    assert call(client, "GET", "/api/v1/inbox", {"Authorization": "Bearer nope"}).status == 401
    assert call(client, "GET", "/api/v1/inbox", auth).status == 200
    assert call(client, "GET", "/api/v1/inbox", {"X-API-Key": auth["Authorization"][7:]}).status == 200
    key_id = store_web.list_api_keys(db)[0]["id"]
    assert store_web.list_api_keys(db)[0]["last_used_at"] == T0
    store_web.revoke_api_key(db, key_id, T0)
    assert call(client, "GET", "/api/v1/inbox", auth).status == 401
    # the database holds only the digest
    assert "test-key" not in json.dumps([dict(r) for r in db.execute("SELECT * FROM api_keys")])


def test_send_status_and_idempotency(api) -> None:
    _, _, db, client, auth = api
    resp = call(client, "POST", "/api/v1/messages", auth,
                {"to": "8 916 123-45-67", "text": "Ваш заказ №5 готов", "idempotency_key": "order-5"})
    assert resp.status == 201, resp.text
    msg = resp.json()
    assert msg["to"] == "+79161234567" and msg["state"] == "queued" and msg["parts_total"] == 1
    again = call(client, "POST", "/api/v1/messages", auth,
                 {"to": "8 916 123-45-67", "text": "Ваш заказ №5 готов", "idempotency_key": "order-5"})
    assert again.status == 200 and again.json()["id"] == msg["id"]
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
    status = call(client, "GET", f"/api/v1/messages/{msg['id']}", auth)
    assert status.status == 200 and status.json()["state"] == "queued" and status.json()["parts"] == []
    assert call(client, "GET", "/api/v1/messages/999", auth).status == 404
    row = db.execute("SELECT body, created_by, priority, class FROM outbox").fetchone()
    assert row["body"] == "Ваш заказ №5 готов" and row["created_by"] == "api:CRM" and row["priority"] == 0


@pytest.mark.parametrize("body, fragment", [
    ({"to": "abc", "text": "x"}, "not a phone number"),
    ({"to": "+79161234567"}, "'text'"),
    ({"to": "+79161234567", "text": "x", "class": "spam"}, "'class'"),
    ({"to": "+79161234567", "text": "x", "priority": "urgent"}, "priority"),
    ({"to": "+79161234567", "text": "x", "not_before": "tomorrow"}, "not_before"),
    ([1, 2], "JSON object"),
])
def test_bad_requests_are_400_with_a_reason(api, body, fragment) -> None:
    _, _, db, client, auth = api
    resp = call(client, "POST", "/api/v1/messages", auth, body)
    assert resp.status == 400 and fragment in resp.json()["error"], resp.text
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    raw = client.request("POST", "/api/v1/messages", body=b"{not json", content_type="application/json",
                         headers=auth, origin=None)
    assert raw.status == 400


def test_contacts_upsert(api) -> None:
    _, _, db, client, auth = api
    resp = call(client, "POST", "/api/v1/contacts", auth, {"phone": "89161234567", "name": "Ольга"})
    assert resp.status == 201 and resp.json()["phone"] == "+79161234567"
    resp = call(client, "POST", "/api/v1/contacts", auth,
                {"phone": "+79161234567", "name": "Ольга Ивановна", "advertising_consent": True,
                 "consent_source": "CRM form 2026-01"})
    assert resp.status == 200 and resp.json()["advertising_consent"] is True
    assert contacts.get_by_phone(db, "+79161234567")["name"] == "Ольга Ивановна"
    assert contacts.consent_history(db, "+79161234567")[-1]["source"] == "api: CRM form 2026-01"
    missing = call(client, "POST", "/api/v1/contacts", auth, {"phone": "+79161234567", "advertising_consent": True})
    assert missing.status == 400 and "consent_source" in missing.json()["error"]


def test_inbox_since_id(api) -> None:
    _, _, db, client, auth = api
    ids = [inbound(db, "+79161234567", f"сообщение {i}", now=T0 + i) for i in range(5)]
    page = call(client, "GET", "/api/v1/inbox?limit=3", auth).json()
    assert [m["id"] for m in page["messages"]] == ids[:3] and page["messages"][0]["text"] == "сообщение 0"
    rest = call(client, "GET", f"/api/v1/inbox?since_id={page['next_since_id']}", auth).json()
    assert [m["id"] for m in rest["messages"]] == ids[3:]
    assert call(client, "GET", f"/api/v1/inbox?since_id={ids[-1]}", auth).json()["messages"] == []


def test_openapi_document(api) -> None:
    _, _, _, client, _ = api
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/v1/messages", "/api/v1/messages/{id}", "/api/v1/contacts", "/api/v1/inbox"} <= set(doc["paths"])


def test_metrics_and_health(api, tmp_path: Path) -> None:
    _, _, db, client, auth = api
    from gateway.store import modems

    mid = modems.upsert_identity(db, "356938035643809", T0, name="sim1", profile="generic")
    modems.update_status(db, mid, T0, status="online", rssi=20, signal_dbm=-73)
    store_outbox.enqueue(db, phone="+79161234567", body="x", message_class="service", priority=0, now=T0,
                         parts_total=1, encoding="gsm7")
    assert client.get("/metrics").status == 401
    text = call(client, "GET", "/metrics", auth).text
    assert 'smsgw_outbox_messages{state="queued"} 1' in text
    assert 'smsgw_modem_up{modem="sim1",imei="356938035643809"} 1' in text
    assert 'smsgw_modem_signal_dbm{modem="sim1"} -73' in text
    for line in text.splitlines():
        assert line.startswith("#") or len(line.rsplit(" ", 1)) == 2
    health = client.get("/health")
    assert health.status == 200 and health.json()["modems_online"] == 1 and health.json()["queue"] == {"queued": 1}
    modems.update_status(db, mid, T0, status="offline")
    assert client.get("/health").json()["modems_online"] == 0


def test_health_is_503_when_configured_modems_are_down(tmp_path: Path) -> None:
    data = {"database": {"path": str(tmp_path / "h.db")}, "modems": [{"port": "/dev/null"}]}
    from gateway import config as configuration

    config = configuration.parse(data)
    resp = Client(make_app(config)).get("/health")
    assert resp.status == 503 and resp.json()["ok"] is False


class Receiver:
    """A fake webhook receiver: records requests and answers with the statuses it is told."""

    def __init__(self, *answers: int | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[tuple[str, bytes, dict[str, str]]] = []

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.requests.append((url, body, headers))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_webhooks_are_signed_retried_and_deduplicated(api) -> None:
    config, clock, db, client, auth = api
    inbound(db, "+79160000000", "before the hook existed")
    store_web.add_webhook(db, "http://crm.local/hook", "s3cret", "inbound,status", "admin", T0)
    receiver = Receiver(OSError("connection refused"), 500, 200)
    hooks = Dispatcher(config, clock=clock, post=receiver)
    hooks.collect(T0)  # starts at the current end of the inbox: no history replay
    first = inbound(db, "+79161234567", "<b>Привет</b>", now=T0 + 1)
    assert hooks.run_once(T0 + 1) == 0
    assert hooks.run_once(T0 + 2) == 0  # not due yet (back-off)
    assert hooks.run_once(T0 + 1 + backoff(1)) == 0  # HTTP 500
    assert hooks.run_once(T0 + 1 + backoff(1) + backoff(2)) == 1
    bodies = [json.loads(b) for _, b, _ in receiver.requests]
    assert len(receiver.requests) == 3 and all(b["id"] == first for b in bodies)
    assert bodies[0] == {"event": "inbound", "id": first, "from": "+79161234567", "sender_kind": "international",
                         "text": "<b>Привет</b>", "sent_at": T0 + 1, "received_at": T0 + 1, "partial": False,
                         "state": "inbox"}
    _, body, headers = receiver.requests[-1]
    expected = hmac.new(b"s3cret", headers["X-Smsgw-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Smsgw-Signature"] == "sha256=" + expected and headers["X-Smsgw-Event"] == "inbound"
    hooks.run_once(T0 + 10_000)
    assert len(receiver.requests) == 3  # delivered once, never again
    # status changes of API-sent messages
    msg = call(client, "POST", "/api/v1/messages", auth, {"to": "+79161234567", "text": "hi", "idempotency_key": "k1"})
    store_outbox.finish(db, msg.json()["id"], OutState.FAILED, T0 + 10_001, "bad")
    hooks.run_once(T0 + 10_002)
    status = json.loads(receiver.requests[-1][1])
    assert status["event"] == "status" and status["state"] == "failed" and status["idempotency_key"] == "k1"
    hooks.run_once(T0 + 10_003)
    assert sum(json.loads(b)["event"] == "status" for _, b, _ in receiver.requests) == 1


def test_webhook_gives_up_after_max_attempts(api) -> None:
    from gateway.web import webhooks

    config, clock, db, _, _ = api
    store_web.add_webhook(db, "http://crm.local/hook", "s", "inbound", "admin", T0)
    receiver = Receiver(*([503] * webhooks.MAX_ATTEMPTS))
    hooks = Dispatcher(config, clock=clock, post=receiver)
    hooks.collect(T0)
    inbound(db, "+79161234567", "x", now=T0)
    now = T0
    for _ in range(webhooks.MAX_ATTEMPTS + 2):
        hooks.run_once(now)
        now += webhooks.MAX_DELAY_S + 1
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS
    assert store_web.delivery_counts(db)["failed"] == 1


def test_a_webhook_receiver_that_redirects_does_not_get_the_body_forwarded() -> None:
    import http.server
    import threading

    from gateway.web import webhooks

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/hook":
                self.send_response(302)
                self.send_header("Location", "/elsewhere")
                self.end_headers()
            else:
                self.send_response(200)
                self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        status = webhooks.http_post(f"http://127.0.0.1:{server.server_address[1]}/hook", b"{}", {})
    finally:
        server.shutdown()
    assert status == 302 and hits == ["/hook"]
