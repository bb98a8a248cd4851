"""The web page in real headless Chromium against `smsgw demo` (simulated modems): sign in, compose and watch
the messages arrive, answer an inbound SMS, use the phone panel. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway import demo
from tests.conftest import ROOT, need_tool

pytestmark = pytest.mark.timeout(180)
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    need_tool("chromium", "browser tests drive Debian's chromium through Playwright")
    data = tmp_path_factory.mktemp("demo")
    info: dict[str, Any] = {}
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=demo.run, kwargs=dict(port=0, sim_control="127.0.0.1:0", data_dir=data,
                                                           ready=ready, stop=stop, info=info), daemon=True)
    thread.start()
    assert ready.wait(60), "the demo did not start"
    try:
        yield info
    finally:
        stop.set()
        thread.join(30)


@pytest.fixture(scope="module")
def browser(gateway: dict[str, Any]) -> Iterator[Any]:
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        exe = CHROMIUM if Path(CHROMIUM).exists() else None
        b = p.chromium.launch(executable_path=exe, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def signed_in(browser: Any, gateway: dict[str, Any], *, phone: bool = False, user: str = demo.DEMO_USER) -> Any:
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=size, locale="ru-RU")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(gateway["url"])
    assert "/login" in page.url
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", demo.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.console_errors = errors  # type: ignore[attr-defined]
    return page


def test_login_and_dashboard(browser: Any, gateway: dict[str, Any]) -> None:
    page = signed_in(browser, gateway)
    expect = pytest.importorskip("playwright.sync_api").expect
    expect(page.locator(".modem .badge.online")).to_have_count(2, timeout=30_000)
    assert page.locator(".modem").count() == 2
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    mobile = signed_in(browser, gateway, phone=True)
    mobile.wait_for_selector(".modem")
    mobile.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_compose_and_watch_it_arrive(browser: Any, gateway: dict[str, Any]) -> None:
    net = gateway["network"]
    page = signed_in(browser, gateway)
    page.goto(gateway["url"] + "compose")
    form = "form[action='/compose'] "
    page.fill(form + "textarea[name=numbers]", "+79162220000\n+79162220001")
    page.fill(form + "textarea[name=text]", "Весенняя скидка 20%! Отказ: СТОП")
    page.check(form + "input[name=kind][value=advertising]")
    expect = pytest.importorskip("playwright.sync_api").expect
    expect(page.locator(form + ".preview-line")).to_contain_text("2 получателей")
    page.screenshot(path=str(ARTIFACTS / "compose.png"), full_page=True)
    page.click("form[action='/compose'] button[type=submit]")
    page.wait_for_selector(".notice")
    for number in ("+79162220000", "+79162220001"):
        messages = net.phone(number).wait_inbox(1, timeout=30)
        assert messages[-1].text == "Весенняя скидка 20%! Отказ: СТОП"
    page.goto(gateway["url"] + "outbox")
    assert page.locator("text=Весенняя скидка").count() >= 2


def test_answer_an_inbound_message(browser: Any, gateway: dict[str, Any]) -> None:
    net = gateway["network"]
    customer = net.phone("+79162220002")
    customer.send(to=gateway["modems"][0], text="Здравствуйте, а когда будет <b>каталог</b>?")
    page = signed_in(browser, gateway)
    page.goto(gateway["url"] + "inbox")
    for _ in range(60):
        if page.locator("text=когда будет").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    assert "<b>каталог</b>" in page.text_content(".conversations")  # shown as text, not markup
    page.click("text=когда будет")
    page.fill("form.reply textarea[name=text]", "Каталог будет в пятницу, Наталья!")
    page.click("form.reply button[type=submit]")
    page.wait_for_selector(".notice")
    received = customer.wait_inbox(1, timeout=30)
    assert any(m.text == "Каталог будет в пятницу, Наталья!" for m in received)


def test_phone_panel_places_an_order(browser: Any, gateway: dict[str, Any]) -> None:
    page = signed_in(browser, gateway)
    page.goto(gateway["url"] + "phones")
    page.select_option("#phone-pick", "+79162220003")
    page.fill("#phone-text", "ЗАКАЗ 31234 2")
    page.click("#phone-send button[type=submit]")
    expect = pytest.importorskip("playwright.sync_api").expect
    expect(page.locator("#phone-status")).to_contain_text("Отправлено")
    page.wait_for_selector("#phone-inbox li", timeout=40_000)
    reply = page.text_content("#phone-inbox")
    assert re.search(r"[Зз]аказ|[Oo]rder|каталог|код", reply or ""), reply
    page.screenshot(path=str(ARTIFACTS / "phone-panel.png"), full_page=True)
    mobile = signed_in(browser, gateway, phone=True)
    mobile.goto(gateway["url"] + "phones")
    mobile.screenshot(path=str(ARTIFACTS / "phone-panel-phone.png"), full_page=True)
