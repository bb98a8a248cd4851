"""In-process WSGI tests of the order pages: login and CSRF guards, staff list/detail/status change with the SMS
queued, agents limited to their own customers' orders, escaping, the cabinet's orders and bonus."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from gateway import commands, store
from gateway.states import Role
from gateway.store import commands as cq
from gateway.store import contacts, inbox, users
from gateway.web import i18n, make_app, order_pages
from tests.harness import FakeClock
from tests.test_web_support import PASSWORD, Client, add_user, make_web_config

T0 = 1_773_133_200.0  # 2026-03-10 12:00 Moscow
XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def order(db: store.Database, phone: str, agent_id: int | None, *, now: float = T0, body: str = "ЗАКАЗ 31234 2",
          lines: tuple[tuple[str, str, int, int, float], ...] = (("31234", "Тушь", 2, 59900, 12.5),)) -> int:
    """An order placed by SMS from a number (with its inbound message, so the page shows the SMS)."""
    part = inbox.add_part(db, dedupe_key=f"{phone}:{now}", modem_id=None, sender=phone, concat_ref=None, total=1,
                          seq=1, pdu="00", text=body, sent_at=now, now=now)
    assert part is not None
    inbox_id = inbox.add_message(db, phone=phone, sender_kind="international", modem_id=None, body=body,
                                 encoding="ucs2", sent_at=now, now=now, parts_total=1, parts_received=1,
                                 partial=False, undecodable=False, part_ids=[part], state="handled")
    contact = contacts.get_by_phone(db, phone)
    placed = cq.add_order(db, inbox_id=inbox_id, phone=phone, contact_id=contact["id"] if contact else None,
                          agent_id=agent_id, form="short", consultant=None, spo=None, payment=None,
                          refuse_reserve=False, status="new", lines=lines, now=now)
    if agent_id is not None:
        cq.credit_bonus(db, agent_id, placed["id"], round(placed["total_kop"] * 0.05), 5.0, "order", now)
    return int(placed["id"])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, Any]:
    config = make_web_config(tmp_path)
    db = store.connect(config.database.path)
    app = make_app(config, clock=FakeClock(T0 + 3600))
    add_user(db, "admin", Role.ADMIN)
    add_user(db, "oper", Role.OPERATOR)
    anna = contacts.ensure(db, "+79161110001", T0, name="Анна", role="agent", agent_code="A1")
    irina = contacts.ensure(db, "+79161110002", T0, name="Ирина", role="agent", agent_code="A2")
    contacts.ensure(db, "+79162220001", T0, name="Ольга", agent_id=anna)
    contacts.ensure(db, "+79162220002", T0, name=XSS, agent_id=irina)
    add_user(db, "anna", Role.AGENT, contact_id=anna)
    add_user(db, "irina", Role.AGENT, contact_id=irina)
    olga_order = order(db, "+79162220001", anna)
    xss_order = order(db, "+79162220002", irina, now=T0 + 60, body="ORDER 31234 1 " + XSS,
                      lines=(("40001", "Крем <b>", 1, 19950, 4.0),))
    return {"config": config, "db": db, "app": app, "anna": anna, "irina": irina, "olga_order": olga_order, "xss_order": xss_order}


def signed_in(app: Any, name: str) -> Client:
    client = Client(app)
    assert client.login(name, PASSWORD).status == 303
    return client


def status_messages(db: store.Database, order_id: int) -> list[str]:
    return [r[0] for r in db.execute("SELECT body FROM outbox WHERE idempotency_key LIKE ? ORDER BY id",
                                     [f"order-status:{order_id}:%"])]


def test_order_pages_need_a_login(env: dict[str, Any]) -> None:
    anon = Client(env["app"])
    for path in ("/orders", f"/orders/view?id={env['olga_order']}"):
        resp = anon.get(path)
        assert resp.status == 303 and resp.location == "/login"
        assert "next=" + urllib.parse.quote(path, safe="")[:10] in (resp.header("Location") or "")
    assert anon.post("/orders/status", {"order_id": env["olga_order"], "status": "ready"}, csrf=False).status in (
        401, 403)
    assert cq.order_get(env["db"], env["olga_order"])["status"] == "new"


def test_a_status_change_without_the_csrf_token_or_from_elsewhere_is_refused(env: dict[str, Any]) -> None:
    db, oid = env["db"], env["olga_order"]
    client = signed_in(env["app"], "oper")
    form = {"order_id": oid, "status": "ready"}
    assert client.post("/orders/status", form, csrf=False).status == 403
    assert client.post("/orders/status", {**form, "csrf": "forged"}).status == 403
    assert client.post("/orders/status", form, origin="http://evil.example").status == 403
    assert cq.order_get(db, oid)["status"] == "new" and status_messages(db, oid) == []


def test_staff_list_detail_and_status_change_texts_the_customer(env: dict[str, Any]) -> None:
    db, oid = env["db"], env["olga_order"]
    client = signed_in(env["app"], "oper")
    listing = client.get("/orders").text
    assert "00001" in listing and "00002" in listing and "Ольга" in listing and "1198,00 руб." in listing
    only_anna = client.get(f"/orders?agent={env['anna']}").text
    assert "00001" in only_anna and "00002" not in only_anna
    assert "00001" not in client.get("/orders?status=done").text
    assert "00001" in client.get("/orders?status=" + urllib.parse.quote("x' OR 1=1 --")).text  # unknown: open
    assert "00002" not in client.get("/orders?phone=%2B79162220001").text
    page = client.get(f"/orders/view?id={oid}").text
    assert "Тушь" in page and "ЗАКАЗ 31234 2" in page and "Анна" in page and "59,90 руб." in page
    assert 'name="status"' in page and ">готов к выдаче<" in page
    resp = client.post("/orders/status", {"order_id": oid, "status": "ready"})
    assert resp.status == 303 and resp.header("Location").endswith(f"/orders/view?id={oid}&changed=1")
    assert status_messages(db, oid) == ["Заказ 00001 готов к выдаче. Сумма 1198,00 руб."]
    page = client.get(f"/orders/view?id={oid}&changed=1").text
    assert "SMS клиенту поставлено в очередь" in page and "Заказ 00001 готов к выдаче" in page  # in the history
    assert client.post("/orders/status", {"order_id": oid, "status": "ready"}).status == 303  # a double click
    assert len(status_messages(db, oid)) == 1
    assert client.post("/orders/status", {"order_id": oid, "status": "done"}).status == 303
    assert "Этот статус окончательный" in client.get(f"/orders/view?id={oid}").text
    refused = client.post("/orders/status", {"order_id": oid, "status": "cancelled"})
    assert refused.status == 400 and "cannot become" in refused.text
    assert client.post("/orders/status", {"order_id": oid, "status": "shipped"}).status == 400
    assert client.post("/orders/status", {"order_id": "999", "status": "ready"}).status == 404
    assert client.get("/orders/view?id=999").status == 404 and client.get("/orders/view?id=abc").status == 404
    assert cq.order_get(db, oid)["status"] == "done" and len(status_messages(db, oid)) == 2
    assert [e["actor"] for e in users.audit_entries(db) if e["action"] == "order.status"] == ["oper", "oper"]


def test_an_agent_sees_and_changes_only_their_own_customers_orders(env: dict[str, Any]) -> None:
    db, mine, theirs = env["db"], env["olga_order"], env["xss_order"]
    anna = signed_in(env["app"], "anna")
    listing = anna.get("/orders").text
    assert "00001" in listing and "00002" not in listing
    assert "00002" not in anna.get(f"/orders?agent={env['irina']}&status=all").text  # the filter is not hers to set
    assert anna.get(f"/orders/view?id={theirs}").status == 404
    assert anna.post("/orders/status", {"order_id": theirs, "status": "cancelled"}).status == 404
    assert cq.order_get(db, theirs)["status"] == "new" and status_messages(db, theirs) == []
    assert any(e["action"] == "order.refused" and e["actor"] == "anna" for e in users.audit_entries(db))
    assert anna.get(f"/orders/view?id={mine}").status == 200
    assert anna.post("/orders/status", {"order_id": mine, "status": "confirmed"}).status == 303
    assert status_messages(db, mine) == ["Заказ 00001 подтверждён. Сумма 1198,00 руб."]
    irina = signed_in(env["app"], "irina")
    assert irina.get(f"/orders/view?id={mine}").status == 404


def test_customer_names_and_sms_text_are_escaped(env: dict[str, Any]) -> None:
    client = signed_in(env["app"], "admin")
    irina = signed_in(env["app"], "irina")
    for text in (client.get("/orders").text, client.get(f"/orders/view?id={env['xss_order']}").text,
                 irina.get("/cabinet").text):
        assert "<script>alert(1)" not in text and "<img src=x" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Крем &lt;b&gt;" in client.get(f"/orders/view?id={env['xss_order']}").text


def test_the_cabinet_shows_own_orders_bonus_and_points(env: dict[str, Any]) -> None:
    db = env["db"]
    anna = signed_in(env["app"], "anna")
    page = anna.get("/cabinet").text
    box = page[page.index("cabinet-orders"):]
    assert "00001" in box and "00002" not in box
    assert re.search(r'id="bonus-balance">59,90 руб\.<', box) and re.search(r'id="points-month">25<', box)
    commands.set_order_status(db, env["config"], env["olga_order"], "cancelled", now=T0 + 10, actor="oper")
    box = anna.get("/cabinet").text
    assert re.search(r'id="bonus-balance">0,00 руб\.<', box) and re.search(r'id="points-month">0<', box)


def test_every_order_page_word_is_in_both_languages() -> None:
    root = Path(__file__).resolve().parent.parent
    used: set[str] = set()
    for path in [*(root / "web" / "templates").glob("orders*.tpl"), root / "gateway" / "web" / "order_pages.py"]:
        used.update(re.findall(r"""\bt\(\s*['"]([a-z_]+\.[a-z_0-9.]+)['"]""", path.read_text(encoding="utf-8")))
    used.update([*order_pages.STATUS_KEYS.values(), "ord.open"])
    assert len(used) > 30
    assert not sorted(k for k in used if k not in i18n.MESSAGES)
    assert all(ru and en for ru, en in order_pages.MESSAGES.values())


def test_order_pages_in_english(env: dict[str, Any]) -> None:
    client = signed_in(env["app"], "admin")
    assert client.post("/lang", {"lang": "en", "next": "/orders"}).status == 303
    listing = client.get("/orders?status=all").text
    assert "<h1>Orders</h1>" in listing and "1198.00 RUB" in listing and ">new<" in listing
    page = client.get(f"/orders/view?id={env['olga_order']}").text
    assert "Change the status" in page and ">ready for pick-up<" in page and "The order SMS" in page
