"""Contact list filters (role, owner, tag, consent state, text, paging; allow-lists only; agents scoped), consent
recorded on the contact page (grant, withdraw = opt-out, re-subscribe only with the tick, audit, CSRF, agent
scope, escaping, and the claim honouring it), the translated registration state and the agents' Orders link."""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from gateway import contacts as contact_base
from gateway import modem as modem_module
from gateway import outbox, overrides, policy, store
from gateway.errors import UserInputError
from gateway.states import MessageClass, OutState, Priority, Role
from gateway.store import contacts, modems, settings, users
from gateway.store import outbox as q
from gateway.web import contact_pages, i18n, make_app, views
from tests.harness import FakeClock
from tests.test_web_support import PASSWORD, Client, add_user, make_web_config

T0 = 1_760_000_000.0
NAMES = re.compile(r'<a href="/contacts/\d+">([^<]*)</a>')


@pytest.fixture
def env(tmp_path: Path) -> dict[str, Any]:
    config = make_web_config(tmp_path, quiet_hours={"start": "00:00", "end": "00:00"})
    clock = FakeClock(T0)
    db = store.connect(config.database.path)
    anna = contacts.ensure(db, "+79161110001", T0, name="Анна", role="agent", agent_code="A1")
    irina = contacts.ensure(db, "+79161110002", T0, name="Ирина", role="agent", agent_code="A2")
    olga = contacts.ensure(db, "+79162220001", T0, name="Ольга", agent_id=anna, tags='["vip", "весна"]')
    maria = contacts.ensure(db, "+79162220002", T0, name="Мария", agent_id=irina, tags='["vip"]')
    vera = contacts.ensure(db, "+79162220003", T0, name="Вера", agent_id=anna)
    petr = contacts.ensure(db, "+79162220004", T0, name="Пётр", tags='["весна"]')
    contacts.record_consent(db, "+79162220001", MessageClass.ADVERTISING, True, "paper form", T0)
    contacts.record_consent(db, "+79162220002", MessageClass.ADVERTISING, True, "paper form", T0)
    contacts.opt_out(db, "+79162220002", "sms", T0)
    ids = {"admin": add_user(db, "admin", Role.ADMIN), "oper": add_user(db, "oper", Role.OPERATOR),
           "anna": add_user(db, "anna", Role.AGENT, contact_id=anna),
           "irina": add_user(db, "irina", Role.AGENT, contact_id=irina)}
    return {"config": config, "db": db, "app": make_app(config, clock=clock), "clock": clock, "users": ids,
            "anna": anna, "irina": irina, "olga": olga, "maria": maria, "vera": vera, "petr": petr}


def signed_in(app: Any, name: str) -> Client:
    client = Client(app)
    assert client.login(name, PASSWORD).status == 303
    return client


def listed(client: Client, **params: Any) -> tuple[int, list[str]]:
    resp = client.get("/contacts?" + urllib.parse.urlencode(params))
    return resp.status, sorted(NAMES.findall(resp.text))


def audit_of(db: store.Database, action: str) -> list[dict[str, Any]]:
    rows = [r for r in users.audit_entries(db, 1000) if r["action"] == action]
    return [{**r, "detail": json.loads(r["detail"] or "{}")} for r in rows]


# --- the list's filters --------------------------------------------------------------------------------------------


def test_each_filter_narrows_the_list(env) -> None:
    oper = signed_in(env["app"], "oper")
    assert listed(oper) == (200, sorted(["Анна", "Ирина", "Ольга", "Мария", "Вера", "Пётр"]))
    assert listed(oper, role="agent") == (200, ["Анна", "Ирина"])
    assert listed(oper, role="customer")[1] == sorted(["Ольга", "Мария", "Вера", "Пётр"])
    assert listed(oper, agent=env["anna"]) == (200, sorted(["Ольга", "Вера"]))
    assert listed(oper, agent=env["irina"]) == (200, ["Мария"])
    assert listed(oper, agent="none") == (200, sorted(["Анна", "Ирина", "Пётр"]))
    assert listed(oper, tag="vip") == (200, sorted(["Ольга", "Мария"]))
    assert listed(oper, tag="весна") == (200, sorted(["Ольга", "Пётр"]))
    assert listed(oper, tag="нет такого") == (200, [])
    assert listed(oper, consent="granted") == (200, ["Ольга"])
    assert listed(oper, consent="opted_out") == (200, ["Мария"])
    assert listed(oper, consent="not_granted") == (200, sorted(["Анна", "Ирина", "Вера", "Пётр"]))


def test_filters_combine_with_the_search_and_stay_in_the_url(env) -> None:
    oper = signed_in(env["app"], "oper")
    assert listed(oper, tag="vip", consent="granted") == (200, ["Ольга"])
    assert listed(oper, tag="vip", agent=env["irina"], role="customer") == (200, ["Мария"])
    assert listed(oper, q="Вер", agent=env["anna"]) == (200, ["Вера"])
    assert listed(oper, q="Вер", consent="granted") == (200, [])
    # the form shows the chosen filters again, so the URL is all a bookmark needs
    page = oper.get(f"/contacts?tag=vip&consent=granted&agent={env['anna']}&role=customer").text
    assert 'name="tag" value="vip"' in page
    assert '<option value="granted" selected>' in page and '<option value="customer" selected>' in page
    assert f'<option value="{env["anna"]}" selected>' in page


def test_paging_keeps_the_filters(env) -> None:
    db = env["db"]
    for i in range(55):
        contacts.ensure(db, f"+7916333{i:04d}", T0, name=f"Клиент {i:02d}", tags='["много"]')
    oper = signed_in(env["app"], "oper")
    first = oper.get("/contacts?tag=" + urllib.parse.quote("много"))
    assert len(NAMES.findall(first.text)) == contact_pages.PAGE_SIZE
    nxt = re.search(r'href="/contacts\?([^"]+)" rel="next"', first.text)
    assert nxt and 'rel="prev"' not in first.text
    query = nxt.group(1).replace("&amp;", "&")
    assert urllib.parse.parse_qs(query) == {"tag": ["много"], "offset": ["50"]}
    second = oper.get("/contacts?" + query)
    assert len(NAMES.findall(second.text)) == 5 and 'rel="next"' not in second.text and 'rel="prev"' in second.text
    shown = set(NAMES.findall(first.text)) | set(NAMES.findall(second.text))
    assert shown == {f"Клиент {i:02d}" for i in range(55)}


@pytest.mark.parametrize("params", [
    {"role": "customer' OR 1=1 --"}, {"role": "role"}, {"consent": "1) OR (1"}, {"consent": "opted_out_at"},
    {"agent": "1 OR 1=1"}, {"agent": "-1"}, {"agent": "agent_id"}, {"offset": "-5"}, {"offset": "1; DROP"},
    {"offset": "99999999999999999999999"},
])
def test_an_injected_column_or_operator_is_refused(env, params: dict[str, str]) -> None:
    oper = signed_in(env["app"], "oper")
    resp = oper.get("/contacts?" + urllib.parse.urlencode(params))
    assert resp.status == 400 and "Недопустимое значение фильтра" in resp.text
    assert NAMES.findall(resp.text) == []
    assert env["db"].execute("SELECT count(*) FROM contacts").fetchone()[0] == 6


def test_unknown_parameters_are_ignored_and_text_is_only_ever_a_value(env) -> None:
    oper = signed_in(env["app"], "oper")
    assert listed(oper, sort="phone; DROP TABLE contacts", where="1=1")[0] == 200
    assert listed(oper, tag="x' OR '1'='1") == (200, [])
    assert listed(oper, q="%' OR 1=1 --") == (200, [])
    assert env["db"].execute("SELECT count(*) FROM contacts").fetchone()[0] == 6


def test_find_checks_its_allow_lists(env) -> None:
    db = env["db"]
    with pytest.raises(UserInputError):
        contact_base.find(db, consent="consent_advertising = 1 OR 1")
    with pytest.raises(UserInputError):
        contact_base.find(db, role="x")
    with pytest.raises(UserInputError):
        contact_base.find(db, agent_id=env["anna"], unowned=True)
    got = contact_base.find(db, tag="vip", consent="opted_out")
    assert [c["name"] for c in got] == ["Мария"]


def test_an_agent_lists_only_their_own_customers_whatever_the_url_says(env) -> None:
    anna = signed_in(env["app"], "anna")
    own = sorted(["Ольга", "Вера"])
    assert listed(anna) == (200, own)
    assert listed(anna, agent=env["irina"]) == (200, own)
    assert listed(anna, agent="none") == (200, own)
    assert listed(anna, tag="vip") == (200, ["Ольга"])
    assert listed(anna, consent="opted_out") == (200, [])      # Мария is Ирина's
    assert listed(anna, q="Мар", agent=env["irina"]) == (200, [])
    page = anna.get("/contacts").text
    assert 'name="agent"' not in page and "Ирина" not in page
    irina = signed_in(env["app"], "irina")
    assert listed(irina, agent=env["anna"]) == (200, ["Мария"])


# --- recording consent on the contact page ---------------------------------------------------------------------


def consent(client: Client, contact_id: int, **form: Any) -> Any:
    values = {"kind": "advertising", "action": "grant", "source": "paper form", "text_version": "2026-01",
              "evidence": "анкета №123 в папке 2026"}
    values.update(form)
    return client.post(f"/contacts/{contact_id}/consent", values)


def test_staff_grant_advertising_consent_with_source_version_evidence_and_user(env) -> None:
    db, oper = env["db"], signed_in(env["app"], "oper")
    resp = consent(oper, env["vera"])
    assert resp.status == 303 and resp.location == f"/contacts/{env['vera']}"
    row = contacts.get(db, env["vera"])
    assert row["consent_advertising"] == 1 and row["opted_out_at"] is None
    [event] = contacts.consent_history(db, "+79162220003")
    assert (event["class"], event["action"], event["source"], event["text_version"], event["evidence"],
            event["user_id"]) == ("advertising", "granted", "paper form", "2026-01", "анкета №123 в папке 2026",
                                  env["users"]["oper"])
    [entry] = audit_of(db, "contact.consent")
    assert entry["actor"] == "oper" and entry["target"] == str(env["vera"])
    assert entry["detail"]["consent"] == "granted" and entry["detail"]["source"] == "paper form"
    page = oper.get(f"/contacts/{env['vera']}").text
    history = page.split("История согласий")[1]
    assert "бумажная анкета" in history and "oper" in history and "2026-01" in history
    assert "анкета №123 в папке 2026" in history


def test_a_grant_needs_evidence_and_allow_listed_values(env) -> None:
    db, oper = env["db"], signed_in(env["app"], "oper")
    for bad in ({"evidence": "  "}, {"source": "sms"}, {"source": "form'); DROP TABLE contacts; --"},
                {"kind": "politics"}, {"action": "maybe"}, {"evidence": "x" * 501}, {"text_version": "v" * 41}):
        resp = consent(oper, env["vera"], **bad)
        assert resp.status == 400 and 'role="alert"' in resp.text, bad
    assert contacts.consent_history(db, "+79162220003") == [] and not audit_of(db, "contact.consent")
    assert contacts.get(db, env["vera"])["consent_advertising"] == 0


def test_staff_withdrawing_advertising_consent_is_an_opt_out(env) -> None:
    db, admin = env["db"], signed_in(env["app"], "admin")
    assert consent(admin, env["olga"], action="withdraw", source="phone call", evidence="").status == 303
    row = contacts.get(db, env["olga"])
    assert row["opted_out_at"] == T0 and row["consent_advertising"] == 0
    last = contacts.consent_history(db, "+79162220001")[-1]
    assert (last["action"], last["source"], last["user_id"]) == ("withdrawn", "phone call", env["users"]["admin"])
    assert audit_of(db, "contact.consent")[0]["detail"]["change"] == "opt_out"
    assert "отписан" in admin.get(f"/contacts/{env['olga']}").text


def test_re_subscribing_an_opted_out_number_needs_the_explicit_tick(env) -> None:
    db, oper = env["db"], signed_in(env["app"], "oper")
    page = oper.get(f"/contacts/{env['maria']}").text
    assert 'name="resubscribe"' in page
    assert 'name="resubscribe"' not in oper.get(f"/contacts/{env['vera']}").text   # not opted out: no tick
    refused = consent(oper, env["maria"], evidence="звонила сама")
    assert refused.status == 400 and "сам попросил" in refused.text
    assert 'value="звонила сама"' in refused.text                                  # the form keeps what was typed
    assert contacts.get(db, env["maria"])["opted_out_at"] is not None
    assert len(contacts.consent_history(db, "+79162220002")) == 2
    db.execute("UPDATE contacts SET bulk_paused_at = ? WHERE id = ?", [T0, env["maria"]])
    assert consent(oper, env["maria"], evidence="звонила сама", resubscribe="1").status == 303
    row = contacts.get(db, env["maria"])
    assert row["opted_out_at"] is None and row["bulk_paused_at"] is None and row["consent_advertising"] == 1
    assert contacts.consent_history(db, "+79162220002")[-1]["user_id"] == env["users"]["oper"]
    assert audit_of(db, "contact.consent")[0]["detail"]["change"] == "opt_in"


def test_service_consent_is_recorded_without_touching_the_opt_out(env) -> None:
    db, oper = env["db"], signed_in(env["app"], "oper")
    assert consent(oper, env["maria"], kind="service", source="web form", evidence="форма на сайте").status == 303
    row = contacts.get(db, env["maria"])
    assert row["consent_service"] == 1 and row["opted_out_at"] is not None
    assert consent(oper, env["maria"], kind="service", action="withdraw", evidence="").status == 303
    assert contacts.get(db, env["maria"])["consent_service"] == 0
    assert [e["class"] for e in contacts.consent_history(db, "+79162220002")][-2:] == ["service", "service"]


def test_consent_posts_need_the_csrf_token(env) -> None:
    db, oper = env["db"], signed_in(env["app"], "oper")
    form = {"kind": "advertising", "action": "grant", "source": "paper form", "evidence": "анкета"}
    assert oper.post(f"/contacts/{env['vera']}/consent", form, csrf=False).status == 403
    assert oper.post(f"/contacts/{env['vera']}/consent", {**form, "csrf": "forged"}).status == 403
    assert oper.post(f"/contacts/{env['vera']}/consent", form, origin="http://evil.example").status == 403
    assert contacts.consent_history(db, "+79162220003") == [] and not audit_of(db, "contact.consent")


def test_agents_record_consent_only_for_their_own_customers(env) -> None:
    db, anna = env["db"], signed_in(env["app"], "anna")
    assert consent(anna, env["vera"]).status == 303
    assert contacts.consent_history(db, "+79162220003")[-1]["user_id"] == env["users"]["anna"]
    for other in (env["maria"], env["petr"], 999_999):
        assert consent(anna, other, action="withdraw").status == 404
    assert contacts.get(db, env["maria"])["consent_advertising"] == 0 and len(
        contacts.consent_history(db, "+79162220002")) == 2
    assert contacts.consent_history(db, "+79162220004") == []
    assert [e["target"] for e in audit_of(db, "contact.consent")] == [str(env["vera"])]


def test_evidence_and_version_are_escaped_on_the_page(env) -> None:
    db, oper = env["db"], signed_in(env["app"], "oper")
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    assert consent(oper, env["vera"], evidence=evil, text_version="<b>v2</b>").status == 303
    assert contacts.consent_history(db, "+79162220003")[0]["evidence"] == evil   # stored as typed
    page = oper.get(f"/contacts/{env['vera']}").text
    assert "<script>alert(1)" not in page and "<img src=x" not in page and "<b>v2" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;v2&lt;/b&gt;" in page


def test_the_claim_honours_what_staff_recorded(env) -> None:
    db, config, oper = env["db"], env["config"], signed_in(env["app"], "oper")
    assert consent(oper, env["vera"]).status == 303                                      # granted by staff
    assert consent(oper, env["olga"], action="withdraw", evidence="").status == 303      # withdrawn by staff
    ad = {"priority": Priority.BULK, "message_class": MessageClass.ADVERTISING}
    to_vera = outbox.submit(db, config, "+79162220003", "Скидка 20%", now=T0 + 1, **ad)
    to_olga = outbox.submit(db, config, "+79162220001", "Скидка 20%", now=T0 + 2, **ad)
    modem_id = modems.upsert_identity(db, "356938030000005", T0)
    rules = outbox.ClaimPolicy(config, policy.Caps(1000, 10000, 100000), clock_ok=lambda: True)
    claimed = []
    while isinstance(c := outbox.claim(db, modem_id, T0 + 10, rules), outbox.Claimed):
        claimed.append(c.id)
    assert claimed == [to_vera]
    assert q.get(db, to_olga)["state"] == OutState.CANCELLED
    assert q.get(db, to_olga)["last_error"] == "recipient opted out"


# --- small polish ------------------------------------------------------------------------------------------------


def test_the_dashboard_translates_the_registration_state(env) -> None:
    db = env["db"]
    first = modems.upsert_identity(db, "356938035643809", T0, name="modem-1", profile="generic")
    modems.update_status(db, first, T0, status="online", registration="roaming (SMS only)")
    second = modems.upsert_identity(db, "356938035643810", T0, name="modem-2", profile="generic")
    modems.update_status(db, second, T0, status="online", registration="weird <state>")
    admin = signed_in(env["app"], "admin")
    page = admin.get("/").text
    assert "роуминг (только SMS)" in page and "weird &lt;state&gt;" in page
    assert admin.post("/lang", {"lang": "en", "next": "/"}).status == 303
    assert "<dd>roaming (SMS only)</dd>" in admin.get("/ui/dashboard.part").text
    # every state the modem code stores has a translation in both languages
    assert set(modem_module.REGISTRATION.values()) <= set(views.REGISTRATION_KEYS)
    assert all(key in i18n.MESSAGES for key in views.REGISTRATION_KEYS.values())


def test_keys_built_from_allow_listed_values_exist(env) -> None:
    keys = [*contact_pages.ROLE_KEYS.values(), *contact_pages.CONSENT_STATE_KEYS.values(),
            *contact_pages.KIND_KEYS.values(), *(contact_pages.source_key(s) for s in contact_base.CONSENT_SOURCES)]
    assert keys and all(k in i18n.MESSAGES for k in keys), [k for k in keys if k not in i18n.MESSAGES]
    assert contact_pages.source_key("sms") is None


def test_agents_menu_has_the_orders_link(env) -> None:
    anna = signed_in(env["app"], "anna")
    page = anna.get("/cabinet").text
    menu = page.split("<nav>")[1].split("</nav>")[0]
    assert 'href="/orders"' in menu and "Заказы" in menu
    assert anna.get("/orders").status == 200


def test_quiet_hours_reset_deletes_the_setting(env) -> None:
    db, config = env["db"], env["config"]
    admin = signed_in(env["app"], "admin")
    assert admin.post("/settings/quiet-hours", {"start": "21:00", "end": "09:00"}).status == 303
    assert settings.get(db, overrides.QUIET_KEY) is not None
    assert overrides.quiet_hours(db, config) != config.quiet_hours
    assert admin.post("/settings/quiet-hours", {"action": "reset"}).status == 303
    assert settings.get(db, overrides.QUIET_KEY) is None
    assert overrides.quiet_hours(db, config) == config.quiet_hours
    assert settings.delete(db, overrides.QUIET_KEY) is False


def test_an_erased_contact_can_withdraw_but_never_be_granted_again(env) -> None:
    db = env["db"]
    contact_base.erase(db, env["vera"], now=T0, actor="admin")
    with pytest.raises(UserInputError):
        contact_base.record_consent(db, env["vera"], "advertising", True, source="paper form", now=T0 + 1,
                                    actor="oper", user_id=env["users"]["oper"], evidence="анкета",
                                    resubscribe=True)
    with pytest.raises(UserInputError):
        contact_base.record_consent(db, env["vera"], "service", True, source="other", now=T0 + 1, actor="oper",
                                    user_id=None, evidence="анкета")
    change = contact_base.record_consent(db, env["vera"], "service", False, source="other", now=T0 + 2,
                                         actor="oper", user_id=None)
    assert change.kind == "consent" and not change.granted
    assert [e["action"] for e in contacts.consent_history(db, "+79162220003")] == ["withdrawn", "withdrawn"]


# --- proof of consent, subject access and erasure on request --------------------------------------------------------


def test_consent_history_downloads_as_csv_for_staff_and_the_owning_agent_only(env) -> None:
    olga = env["olga"]
    resp = signed_in(env["app"], "oper").get(f"/contacts/{olga}/consent.csv")
    assert resp.status == 200 and "text/csv" in resp.header("Content-Type")
    assert "paper form" in resp.text and "granted" in resp.text
    assert signed_in(env["app"], "anna").get(f"/contacts/{olga}/consent.csv").status == 200
    assert signed_in(env["app"], "irina").get(f"/contacts/{olga}/consent.csv").status == 404
    assert audit_of(env["db"], "contact.consent_export")


def test_personal_data_export_is_for_admins(env) -> None:
    olga = env["olga"]
    resp = signed_in(env["app"], "admin").get(f"/contacts/{olga}/data.json")
    assert resp.status == 200 and json.loads(resp.text)["contact"]["name"] == "Ольга"
    assert signed_in(env["app"], "oper").get(f"/contacts/{olga}/data.json").status == 403
    assert signed_in(env["app"], "anna").get(f"/contacts/{olga}/data.json").status == 403


def test_erasure_needs_the_admin_and_the_confirmation_and_keeps_the_proof(env) -> None:
    db, olga = env["db"], env["olga"]
    admin = signed_in(env["app"], "admin")
    assert admin.post(f"/contacts/{olga}/erase", {}).status == 400
    assert signed_in(env["app"], "oper").post(f"/contacts/{olga}/erase", {"confirm": "1"}).status == 403
    assert admin.post(f"/contacts/{olga}/erase", {"confirm": "1"}, csrf=False).status == 403
    assert admin.post(f"/contacts/{olga}/erase", {"confirm": "1"}).status == 303
    row = contacts.get(db, olga)
    assert row["name"] == "" and row["opted_out_at"] is not None and row["phone"] == "+79162220001"
    actions = [e["action"] for e in contacts.consent_history(db, "+79162220001")]
    assert actions == ["granted", "withdrawn"]  # the proof stays
    assert audit_of(db, "contact.erase")


def test_an_agent_cannot_lift_an_opt_out(env) -> None:
    db, maria = env["db"], env["maria"]  # Мария opted out; she belongs to Ирина
    resp = signed_in(env["app"], "irina").post(f"/contacts/{maria}/consent", {
        "kind": "advertising", "action": "grant", "source": "phone call", "evidence": "сказала по телефону",
        "resubscribe": "1"})
    assert resp.status == 400 and contacts.get(db, maria)["opted_out_at"] is not None


def test_an_agent_answers_only_a_customer_who_wrote_and_mails_only_as_advertising(env) -> None:
    from gateway import inbound  # noqa: F401  (the inbox row is written directly below)

    db, clock = env["db"], env["clock"]
    anna = signed_in(env["app"], "anna")
    assert anna.post("/inbox/%2B79162220003/reply", {"text": "Скидка 50% только сегодня!"}).status == 400
    db.execute("INSERT INTO inbox (phone, body, received_at, state) VALUES (?, ?, ?, 'inbox')",
               ["+79162220003", "Где мой заказ?", clock()])
    assert anna.post("/inbox/%2B79162220003/reply", {"text": "Завтра привезу"}).status == 303
    resp = anna.post("/cabinet/send", {"contact": str(env["vera"]), "text": "Новинки каталога", "kind": "service"})
    assert resp.status == 303, resp.text
    classes = [r[0] for r in db.execute("SELECT class FROM outbox WHERE body = 'Новинки каталога'")]
    assert classes == ["advertising"]  # labelled "service" by the agent, sent as what it is


def test_withdrawn_service_consent_stops_bulk_notices_but_not_replies(env) -> None:
    from gateway import policy as pol

    db, config = env["db"], env["config"]
    contacts.record_consent(db, "+79162220003", MessageClass.SERVICE, False, "phone call", T0)
    modem_id = modems.upsert_identity(db, "356938030000005", T0)
    notice = outbox.submit(db, config, "+79162220003", "Приём заказов открыт", now=T0, priority=Priority.BULK)
    reply = outbox.submit(db, config, "+79162220003", "Ваш заказ готов", now=T0)
    rules = outbox.ClaimPolicy(config, pol.Caps(100, 1000, 10000), clock_ok=lambda: True)
    claimed = outbox.claim(db, modem_id, T0 + 1, rules)
    assert isinstance(claimed, outbox.Claimed) and claimed.id == reply
    assert not isinstance(outbox.claim(db, modem_id, T0 + 2, rules), outbox.Claimed)
    assert q.get(db, notice)["last_error"] == "service consent withdrawn"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/evil.example", "//evil.example", "/\\evil.example",
                                    "https://evil.example/", "/ /evil.example"])
def test_login_never_redirects_off_site(env, target: str) -> None:
    client = Client(env["app"])
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    resp = client.request("POST", "/login", form={"csrf": token.group(1), "username": "oper", "password": PASSWORD,
                                                  "next": target})
    location = resp.header("Location") or ""
    assert resp.status == 303 and urllib.parse.urlsplit(location).netloc in ("", "localhost"), location
    assert urllib.parse.urlsplit(location).path == "/", location


def test_huge_ids_in_the_query_are_not_a_server_error(env) -> None:
    client = signed_in(env["app"], "admin")
    for path in ("/outbox?before=100000000000000000000000", "/inbox?before=100000000000000000000000",
                 "/orders?before=100000000000000000000000", "/audit?before=100000000000000000000000"):
        assert client.get(path).status < 500, path


def test_a_self_refreshing_dashboard_does_not_keep_a_session_alive(env) -> None:
    clock, idle = env["clock"], env["config"].web.session_idle_minutes * 60
    client = signed_in(env["app"], "oper")
    for _ in range(int(idle // 60) + 2):  # the page polls every minute while nobody touches it
        clock.advance(60)
        client.get("/ui/dashboard.part")
    resp = client.get("/contacts")
    assert resp.status == 303 and "/login" in (resp.header("Location") or "")
