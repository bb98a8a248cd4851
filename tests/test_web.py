"""In-process WSGI tests of the web page: login, roles, CSRF, Host, sessions, throttling, XSS, Cyrillic, pages."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import pytest

from gateway import store
from gateway.states import MessageClass, OutState, Role
from gateway.store import contacts, inbox, outbox as store_outbox, users
from gateway.store import web as store_web
from gateway.web import i18n, make_app
from tests.harness import FakeClock
from tests.test_web_support import PASSWORD, Client, add_user, make_web_config

T0 = 1_760_000_000.0
XSS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(2)>', "';alert(3);//", '<svg/onload=alert(4)>',
       "javascript:alert(5)", "{{!base}} %>"]


@pytest.fixture
def env(tmp_path: Path):
    config = make_web_config(tmp_path)
    clock = FakeClock(T0)
    db = store.connect(config.database.path)
    app = make_app(config, clock=clock)
    add_user(db, "admin", Role.ADMIN)
    add_user(db, "oper", Role.OPERATOR)
    agent_a = contacts.ensure(db, "+79161110001", T0, name="Анна", role="agent", agent_code="A1")
    agent_b = contacts.ensure(db, "+79161110002", T0, name="Ирина", role="agent", agent_code="A2")
    contacts.ensure(db, "+79162220001", T0, name="Ольга", agent_id=agent_a)
    contacts.ensure(db, "+79162220002", T0, name="Мария", agent_id=agent_b)
    add_user(db, "anna", Role.AGENT, contact_id=agent_a)
    add_user(db, "irina", Role.AGENT, contact_id=agent_b)
    return config, clock, db, app


def inbound(db: store.Database, phone: str, body: str, now: float = T0, state: str = "inbox") -> int:
    part = inbox.add_part(db, dedupe_key=f"{phone}:{body}:{now}", modem_id=None, sender=phone, concat_ref=None,
                          total=1, seq=1, pdu="00", text=body, sent_at=now, now=now)
    assert part is not None
    return inbox.add_message(db, phone=phone, sender_kind="international", modem_id=None, body=body, encoding="ucs2",
                             sent_at=now, now=now, parts_total=1, parts_received=1, partial=False, undecodable=False,
                             part_ids=[part], state=state)


def signed_in(app, name: str = "admin") -> Client:
    client = Client(app)
    assert client.login(name, PASSWORD).status == 303
    return client


SAMPLE = {"message_id": "1", "phone": "+79162220001", "inbox_id": "1", "user_id": "1", "key_id": "1", "hook_id": "1",
          "path": "app.css", "msisdn": "+79160000000",
          "campaign_id": "1", "action": "pause", "contact_id": "1", "modem_id": "1",
          "token": "x" * 22}
PUBLIC = {"/login", "/static/<path:path>", "/health", "/api/v1/openapi.json"}


def fill(rule: str) -> str:
    return re.sub(r"<(\w+)(?::[^>]*)?>", lambda m: urllib.parse.quote(SAMPLE[m.group(1)]), rule)


def test_every_page_needs_a_login(env) -> None:
    _, _, _, app = env
    client = Client(app)
    gets = [r.rule for r in app.routes if r.method == "GET" and r.rule not in PUBLIC]
    assert len(gets) >= 15
    for rule in gets:
        resp = client.get(fill(rule))
        if rule.startswith("/api/") or rule == "/metrics":
            assert resp.status == 401, rule
        elif rule.startswith("/ui/") or rule.startswith("/phones/api"):
            assert resp.status in (401, 303), rule
        else:
            assert resp.status == 303 and resp.location == "/login", (rule, resp.status)
            assert "next=" in (resp.header("Location") or "")


def test_every_post_refuses_a_missing_or_wrong_csrf_token(env) -> None:
    _, _, db, app = env
    client = signed_in(app)
    posts = [r.rule for r in app.routes if r.method == "POST" and r.rule != "/login" and not r.rule.startswith("/api/")]
    assert len(posts) >= 15
    before = db.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    for rule in posts:
        assert client.post(fill(rule), {"text": "x"}, csrf=False).status == 403, rule
        assert client.post(fill(rule), {"text": "x", "csrf": "forged"}).status == 403, rule
    # a foreign Origin is refused even with the right token
    assert client.post("/optouts/add", {"phone": "+79160000001"}, origin="http://evil.example").status == 403
    assert client.post("/optouts/add", {"phone": "+79160000001"}, origin="null").status == 403
    assert db.execute("SELECT count(*) FROM audit_log").fetchone()[0] == before
    assert contacts.get_by_phone(db, "+79160000001") is None
    # anonymous POSTs are refused too
    anon = Client(app)
    assert anon.post("/optouts/add", {"phone": "+79160000001"}, csrf=False).status in (401, 403)


def test_login_form_has_its_own_csrf_token(env) -> None:
    _, _, _, app = env
    client = Client(app)
    client.get("/login")
    resp = client.request("POST", "/login", form={"csrf": "nope", "username": "admin", "password": PASSWORD})
    assert resp.status == 403 and "smsgw_session" not in client.cookies


def test_host_header_allow_list(env) -> None:
    _, _, _, app = env
    for host, status in (("evil.example", 400), ("evil.example:8080", 400), ("localhost:8080", 303),
                         ("smsgw.local", 303), ("192.168.1.10:8080", 303), ("[::1]:8080", 303), ("", 400)):
        assert Client(app, host=host).get("/").status == status, host


def test_security_headers_and_cookie_flags(env) -> None:
    _, _, _, app = env
    client = Client(app)
    page = client.get("/login")
    csp = page.header("Content-Security-Policy") or ""
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert page.header("X-Frame-Options") == "DENY"
    client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    resp = client.request("POST", "/login", form={"csrf": token, "username": "admin", "password": PASSWORD})
    cookie = next(v for k, v in resp.headers if k.lower() == "set-cookie" and v.startswith("smsgw_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie.replace("samesite", "SameSite").replace("strict", "Strict")
    assert "<script>" not in client.get("/").text.split("</head>")[1]  # no inline scripts


def test_session_rotates_at_login_and_ends_at_logout(env) -> None:
    _, _, db, app = env
    client = signed_in(app)
    first = client.cookies["smsgw_session"]
    client.login("admin", PASSWORD)  # again, from a signed-in browser
    assert client.cookies["smsgw_session"] != first
    assert store_web.get_session(db, first) is None
    assert client.post("/logout").status == 303
    assert db.execute("SELECT count(*) FROM web_sessions").fetchone()[0] == 0
    client.cookies["smsgw_session"] = first
    assert client.get("/").status == 303


def test_idle_and_absolute_timeouts(env) -> None:
    config, clock, _, app = env
    client = signed_in(app)
    clock.advance(config.web.session_idle_minutes * 60 - 10)
    assert client.get("/").status == 200
    clock.advance(config.web.session_idle_minutes * 60 + 1)
    resp = client.get("/")
    assert resp.status == 303 and "expired=1" in (resp.header("Location") or "")
    client = signed_in(app)
    for _ in range(config.web.session_absolute_hours * 3 + 1):
        clock.advance(20 * 60)
        client.get("/outbox")
    assert client.get("/").status == 303


def test_login_throttle_per_account(env) -> None:
    _, clock, db, app = env
    client = Client(app)
    for _ in range(5):
        resp = client.login("admin", "wrong password!")
        assert resp.status == 401 and "Неверное имя пользователя или пароль" in resp.text
    locked = client.login("admin", PASSWORD)  # even the right password waits
    assert locked.status == 429 and "smsgw_session" not in client.cookies
    assert signed_in(app, "oper")  # other accounts are not affected
    clock.advance(31)
    assert client.login("admin", PASSWORD).status == 303
    # unknown names answer exactly like wrong passwords, and are throttled as well
    stranger = Client(app)
    assert "Неверное имя" in stranger.login("nobody", "whatever123").text
    for _ in range(5):
        stranger.login("nobody", "whatever123")
    assert stranger.login("nobody", "whatever123").status == 429
    assert db.execute("SELECT count(*) FROM audit_log WHERE action = 'login.failed'").fetchone()[0] >= 10


def test_xss_payloads_are_escaped_everywhere(env) -> None:
    _, _, db, app = env
    for i, payload in enumerate(XSS):
        inbound(db, f"+7916333000{i}", payload, state="review" if i % 2 else "inbox")
        store_outbox.enqueue(db, phone=f"+7916333000{i}", body=payload, message_class="service", priority=0, now=T0,
                             parts_total=1, encoding="ucs2", state=OutState.UNCERTAIN)
        contacts.ensure(db, f"+7916444000{i}", T0, name=payload, role="agent")
        users.audit(db, payload, payload, T0, target=payload, note=payload)
    client = signed_in(app)
    pages = ["/", "/inbox", "/outbox", "/uncertain", "/optouts", "/audit", "/users", "/settings"]
    pages += [f"/inbox/{urllib.parse.quote(f'+7916333000{i}')}" for i in range(len(XSS))]
    for path in pages:
        text = client.get(path).text
        for payload in XSS:
            assert payload not in text or not re.search(r"[<>\"']", payload), (path, payload)
        assert "<script>alert" not in text and "<img src=x" not in text and "<svg/onload" not in text, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/inbox").text


def test_cyrillic_round_trips(env) -> None:
    _, _, db, app = env
    inbound(db, "+79162220001", "Здравствуйте! Хочу заказать крем")
    client = signed_in(app)
    text = "Ольга, ваш заказ готов — ёЁ «кавычки» 😊"
    resp = client.post("/inbox/%2B79162220001/reply", {"text": text})
    assert resp.status == 303
    row = db.execute("SELECT body, reply_to, created_by FROM outbox ORDER BY id DESC LIMIT 1").fetchone()
    assert row["body"] == text and row["reply_to"] and row["created_by"] == "web:admin"
    thread = client.get("/inbox/%2B79162220001").text
    assert "Здравствуйте! Хочу заказать крем" in thread and "«кавычки» 😊" in thread
    # a Cyrillic user name through the users form
    assert client.post("/users", {"username": "Светлана", "password": "пароль-длинный-1", "role": "operator"}).status == 303
    assert users.get_user(db, "Светлана") is not None
    other = Client(app)
    assert other.login("Светлана", "пароль-длинный-1").status == 303


def test_agent_sees_only_own_customers(env) -> None:
    _, _, db, app = env
    inbound(db, "+79162220001", "от Ольги")
    inbound(db, "+79162220002", "от Марии")
    anna = signed_in(app, "anna")
    assert anna.get("/").location == "/cabinet"
    cabinet = anna.get("/cabinet").text
    assert "Ольга" in cabinet and "Мария" not in cabinet
    listing = anna.get("/inbox").text
    assert "от Ольги" in listing and "от Марии" not in listing
    assert anna.get("/inbox/%2B79162220002").status == 404
    assert anna.post("/inbox/%2B79162220002/reply", {"text": "hi"}).status == 404
    maria = contacts.get_by_phone(db, "+79162220002")["id"]
    olga = contacts.get_by_phone(db, "+79162220001")["id"]
    resp = anna.post("/cabinet/send", {"contact": [olga, maria], "text": "Скидка!", "kind": "advertising"})
    assert resp.status == 403
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    assert anna.post("/cabinet/send", {"contact": [olga], "text": "Скидка!", "kind": "advertising"}).status == 303
    assert db.execute("SELECT phone FROM outbox").fetchall()[0][0] == "+79162220001"
    for staff_only in ("/users", "/settings", "/audit", "/compose", "/uncertain", "/optouts", "/"):
        resp = anna.get(staff_only)
        assert resp.status in (403, 303), staff_only
    irina = signed_in(app, "irina")
    assert "Скидка!" not in irina.get("/outbox").text
    assert "Скидка!" in anna.get("/outbox").text


def test_agent_daily_cap(env) -> None:
    _, _, db, app = env
    store_web.set_setting(db, "web.agent_daily_cap", "2", T0)
    anna = signed_in(app, "anna")
    olga = contacts.get_by_phone(db, "+79162220001")["id"]
    assert anna.post("/cabinet/send", {"contact": [olga], "text": "1"}).status == 303
    assert anna.post("/cabinet/send", {"contact": [olga], "text": "2"}).status == 303
    resp = anna.post("/cabinet/send", {"contact": [olga], "text": "3"})
    assert resp.status == 400 and "лимит" in resp.text
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 2


def test_operator_is_not_admin(env) -> None:
    _, _, _, app = env
    oper = signed_in(app, "oper")
    assert oper.get("/").status == 200
    for path in ("/users", "/audit"):
        assert oper.get(path).status == 403
    settings = oper.get("/settings")  # quiet hours and pacing, read-only; no keys, webhooks or forms
    assert settings.status == 200 and "/settings/quiet-hours" not in settings.text
    assert "/settings/api-keys" not in settings.text and "/settings/webhooks" not in settings.text
    assert oper.post("/settings/quiet-hours", {"start": "21:00", "end": "09:00"}).status == 403
    assert oper.post("/users", {"username": "x1", "password": "long enough 1", "role": "admin"}).status == 403


def test_compose_queues_pasted_numbers_and_refuses_bad_ones(env) -> None:
    _, _, db, app = env
    client = signed_in(app, "oper")
    bad = client.post("/compose", {"numbers": "8 916 123-45-67\nabc\n=1+1", "text": "Акция!", "kind": "advertising"})
    assert bad.status == 400 and "abc" in bad.text and "=1+1" in bad.text
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    ok = client.post("/compose", {"numbers": "8 916 123-45-67, +7 (916) 123-45-68; 89161234567", "text": "Акция!",
                                  "kind": "advertising", "when": "2030-01-02T10:30"})
    assert ok.status == 303
    rows = db.execute("SELECT phone, class, priority, next_attempt_at FROM outbox ORDER BY phone").fetchall()
    assert [r[0] for r in rows] == ["+79161234567", "+79161234568"]
    assert all(r[1] == "advertising" and r[2] == 1 and r[3] > T0 for r in rows)
    assert "2" in client.get(ok.header("Location") or "/compose").text


def test_preview_counts_parts(env) -> None:
    _, _, _, app = env
    client = signed_in(app)
    resp = client.request("POST", "/ui/preview", form={"text": "Я" * 71, "numbers": "+79161234567\n+79161234568"},
                          headers={"X-CSRF-Token": client.csrf})
    data = resp.json()
    assert data["parts"] == 2 and data["recipients"] == 2 and data["total_parts"] == 4


def test_uncertain_resend_and_drop_are_audited(env) -> None:
    _, _, db, app = env
    ids = [store_outbox.enqueue(db, phone="+79161234567", body=f"m{i}", message_class="service", priority=1, now=T0,
                                parts_total=1, encoding="gsm7", state=OutState.UNCERTAIN) for i in range(2)]
    client = signed_in(app, "oper")
    assert "m0" in client.get("/uncertain").text
    assert client.post(f"/uncertain/{ids[0]}", {"action": "resend"}).status == 303
    assert client.post(f"/uncertain/{ids[1]}", {"action": "drop"}).status == 303
    assert store_outbox.get(db, ids[0])["state"] == "queued"
    assert store_outbox.get(db, ids[1])["state"] == "cancelled"
    actions = {r["action"] for r in users.audit_entries(db)}
    assert {"outbox.uncertain.resend", "outbox.uncertain.drop"} <= actions


def test_optout_review_confirm_and_dismiss(env) -> None:
    _, _, db, app = env
    first = inbound(db, "+79162220001", "не пишите мне больше", state="review")
    second = inbound(db, "+79162220002", "стоп, я подумаю", state="review")
    store_outbox.enqueue(db, phone="+79162220001", body="promo", message_class="advertising", priority=1, now=T0,
                         parts_total=1, encoding="gsm7")
    client = signed_in(app, "oper")
    page = client.get("/optouts").text
    assert "не пишите мне больше" in page
    assert client.post(f"/optouts/review/{first}", {"decision": "confirm"}).status == 303
    assert client.post(f"/optouts/review/{second}", {"decision": "dismiss"}).status == 303
    assert contacts.get_by_phone(db, "+79162220001")["opted_out_at"] is not None
    assert contacts.get_by_phone(db, "+79162220002")["opted_out_at"] is None
    assert db.execute("SELECT state FROM outbox").fetchone()[0] == "cancelled"
    assert inbox.get(db, first)["state"] == "handled" and inbox.get(db, second)["state"] == "read"
    assert client.post("/optouts/add", {"phone": "8 (916) 555-44-33"}).status == 303
    assert "+79165554433" in client.get("/optouts").text
    assert contacts.consent_history(db, "+79165554433")[-1]["action"] == "withdrawn"


def test_users_admin_rules(env) -> None:
    _, _, db, app = env
    client = signed_in(app)
    assert client.post("/users", {"username": "short", "password": "short", "role": "operator"}).status == 400
    assert client.post("/users", {"username": "agentx", "password": "long enough 1", "role": "agent"}).status == 400
    admin_id = users.get_user(db, "admin")["id"]
    resp = client.post(f"/users/{admin_id}", {"action": "save", "role": "operator"})
    assert resp.status == 400 and users.get_user(db, "admin")["role"] == "admin"  # the last admin stays
    oper = signed_in(app, "oper")
    oper_id = users.get_user(db, "oper")["id"]
    assert client.post(f"/users/{oper_id}", {"action": "password", "password": "a brand new one"}).status == 303
    assert oper.get("/").status == 303  # the changed account signs in afresh
    assert Client(app).login("oper", "a brand new one").status == 303
    assert client.post(f"/users/{oper_id}", {"action": "save", "role": "operator", "disabled": "1"}).status == 303
    assert Client(app).login("oper", "a brand new one").status == 401


def test_filters_go_through_allow_lists(env) -> None:
    _, _, db, app = env
    store_outbox.enqueue(db, phone="+79161234567", body="visible", message_class="service", priority=1, now=T0,
                         parts_total=1, encoding="gsm7")
    client = signed_in(app)
    assert "visible" in client.get("/outbox?state=" + urllib.parse.quote("queued' OR 1=1 --")).text
    assert "visible" not in client.get("/outbox?state=failed").text
    assert client.get("/audit?by=" + urllib.parse.quote("detail; DROP TABLE users") + "&q=x").status == 200
    assert users.count_users(db) >= 1
    assert client.get("/outbox?before=abc&phone=%27%3B").status == 200


def test_language_choice_and_default(env) -> None:
    _, _, db, app = env
    assert "Вход" in Client(app).get("/login").text
    english = Client(app).get("/login", headers={"Accept-Language": "en-US,en;q=0.9,ru;q=0.5"})
    assert "Sign in" in english.text
    client = signed_in(app)
    assert "Модемы и очередь" in client.get("/").text
    assert client.post("/lang", {"lang": "en", "next": "/"}).status == 303
    assert "Modems and queue" in client.get("/").text and users.get_user(db, "admin")["lang"] == "en"


def test_every_translation_key_exists_in_both_languages() -> None:
    root = Path(__file__).resolve().parent.parent
    used: set[str] = set()
    for path in [*(root / "web" / "templates").glob("*.tpl"), *(root / "gateway" / "web").glob("*.py")]:
        used.update(re.findall(r"""\bt\(\s*['"]([a-z_]+\.[a-z_0-9.]+)['"]""", path.read_text(encoding="utf-8")))
    assert len(used) > 80
    missing = sorted(k for k in used if k not in i18n.MESSAGES)
    assert not missing, missing
    assert all(ru and en for ru, en in i18n.MESSAGES.values())


def test_templates_never_disable_escaping() -> None:
    root = Path(__file__).resolve().parent.parent / "web" / "templates"
    for path in root.glob("*.tpl"):
        for raw in re.findall(r"\{\{!([^}]*)\}\}", path.read_text(encoding="utf-8")):
            assert raw.strip() == "base", (path.name, raw)


def test_dashboard_shows_modems_and_live_fragment(env) -> None:
    from gateway.store import modems

    config, _, db, app = env
    mid = modems.upsert_identity(db, "356938035643809", T0, name="modem-3809", profile="generic", model="E173",
                                 manufacturer="huawei", iccid="8970101")
    modems.update_status(db, mid, T0, status="online", rssi=22, signal_dbm=-69, registration="home",
                         operator="MTS RUS", last_error=None)
    store_outbox.record_part(db, store_outbox.enqueue(db, phone="+79161234567", body="x", message_class="service",
                                                      priority=0, now=T0, parts_total=1, encoding="gsm7"),
                             1, mid, 5, T0)
    client = signed_in(app)
    page = client.get("/").text
    assert "MTS RUS" in page and "356938035643809" in page and "b4" in page and "-69 dBm" in page
    part = client.get("/ui/dashboard.part")
    assert part.status == 200 and "MTS RUS" in part.text and "<html" not in part.text
    assert re.search(r">\s*1 / \d+", part.text)  # sent today against the day's cap


def test_audit_log_records_changes(env) -> None:
    _, _, db, app = env
    client = signed_in(app)
    client.post("/settings/api-keys", {"name": "CRM"})
    client.post("/settings/webhooks", {"url": "http://crm.local/hook", "event_inbound": "1"})
    client.post("/settings/agent-cap", {"cap": "10"})
    actions = [r["action"] for r in users.audit_entries(db)]
    for action in ("login", "api_key.add", "webhook.add", "settings.agent_cap"):
        assert action in actions
    page = client.get("/audit?by=action&q=webhook").text
    assert "webhook.add" in page and "api_key.add" not in page


def test_campaign_for_a_segment_from_compose_to_detail(env) -> None:
    _, _, db, app = env
    contacts.record_consent(db, "+79162220001", MessageClass.ADVERTISING, True, "paper form", T0)
    client = signed_in(app, "oper")
    assert "Сегменту" in client.get("/compose").text
    count = client.request("POST", "/ui/segment-count", form={"role": "customer", "kind": "advertising"},
                           headers={"X-CSRF-Token": client.csrf})
    assert count.json() == {"recipients": 1}
    resp = client.post("/campaigns", {"name": "Весна <script>", "role": "customer", "text": "Скидка 20%! СТОП — отказ",
                                      "kind": "advertising"})
    assert resp.status == 303
    campaign = resp.location
    page = client.get(campaign).text
    assert "Весна &lt;script&gt;" in page and "черновик" in page
    refused = client.post(campaign + "/start", {})  # advertising needs the legal acknowledgement
    assert refused.status == 400
    assert client.post(campaign + "/start", {"legal": "1"}).status == 303
    assert [tuple(r) for r in db.execute("SELECT phone, class FROM outbox")] == [("+79162220001", "advertising")]
    running = client.get(campaign).text
    number = campaign.rsplit("/", 1)[1]
    assert f'data-refresh="/ui/campaign/{number}.part"' in running  # the statistics refresh themselves
    part = client.get(f"/ui/campaign/{number}.part")
    assert part.status == 200 and "<html" not in part.text and "доставлено 0 из 1" in part.text
    assert "идёт" in part.text and client.get("/ui/campaign/999.part").status == 404
    assert signed_in(app, "anna").get(f"/ui/campaign/{number}.part").status == 403
    listing = client.get("/campaigns").text
    assert "Весна &lt;script&gt;" in listing and "0 / 1" in listing
    assert client.post(campaign + "/pause").status == 303
    assert "приостановлена" in client.get(campaign).text
    assert client.post(campaign + "/resume").status == 303
    assert client.post(campaign + "/cancel").status == 303
    assert db.execute("SELECT state FROM outbox").fetchone()[0] == "cancelled"
    assert client.post(campaign + "/explode").status == 400


def test_web_benchmark_prints_every_page() -> None:
    from gateway.bench import web as bench

    figures = bench.run(3000, rounds=3)
    for page in ("dashboard", "campaigns", "inbox"):
        assert 0 < figures[f"{page}_p50_ms"] <= figures[f"{page}_p95_ms"]


def test_contacts_search_history_edit_and_agent_scope(env) -> None:
    _, _, db, app = env
    contacts.record_consent(db, "+79162220001", MessageClass.ADVERTISING, True, "бумажная анкета", T0,
                            text_version="2026-01")
    olga = contacts.get_by_phone(db, "+79162220001")["id"]
    maria = contacts.get_by_phone(db, "+79162220002")["id"]
    oper = signed_in(app, "oper")
    found = oper.get("/contacts?q=" + urllib.parse.quote("Оль")).text
    assert "Ольга" in found and "Мария" not in found
    page = oper.get(f"/contacts/{olga}").text
    assert "бумажная анкета" in page and "2026-01" in page
    assert oper.post(f"/contacts/{olga}", {"name": "Ольга <Иванова>", "notes": "любит крем"}).status == 303
    assert contacts.get_by_phone(db, "+79162220001")["name"] == "Ольга <Иванова>"
    assert "Ольга &lt;Иванова&gt;" in oper.get("/contacts").text
    export = oper.get("/contacts/export.csv")
    assert export.status == 200 and "'+79162220001" in export.text
    anna = signed_in(app, "anna")
    assert "Мария" not in anna.get("/contacts").text and "Ольга" in anna.get("/contacts").text
    assert anna.get(f"/contacts/{maria}").status == 404
    assert anna.post(f"/contacts/{maria}", {"name": "x"}).status == 404
    assert anna.get("/contacts/export.csv").status == 403
