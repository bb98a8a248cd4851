"""Headless Chromium against `smsgw demo`: compose a campaign to a segment (the demo's "vip" customers), start it,
and watch its statistics on the campaign page reach "delivered" for every recipient while every simulated phone
gets its own personalised text. Screenshot: tests/artifacts/campaign.png."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway import store
from tests.harness import wait_until
from tests.test_browser import ARTIFACTS, browser, gateway, signed_in  # noqa: F401  (fixtures: a demo of our own)

pytestmark = pytest.mark.timeout(180)
TEXT = "{first_name}, для вас VIP-скидка 15% до воскресенья! {stop_hint}"


def customers(config: Any) -> list[tuple[str, str, list[str]]]:
    """(phone, name, tags) of the demo's customers, as seeded."""
    db = store.connect(config.database.path)
    try:
        return [(r["phone"], r["name"], json.loads(r["tags"]))
                for r in db.execute("SELECT phone, name, tags FROM contacts WHERE role = 'customer' ORDER BY phone")]
    finally:
        db.close()


def test_campaign_to_a_segment_completes_on_the_simulator(browser: Any, gateway: dict[str, Any]) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    net = gateway["network"]
    everyone = customers(gateway["config"])
    vip = [(phone, name) for phone, name, tags in everyone if "vip" in tags]
    others = [phone for phone, _, tags in everyone if "vip" not in tags]
    assert len(vip) == 4 and len(others) == 4
    page = signed_in(browser, gateway)
    expect(page.locator(".modem .badge.online")).to_have_count(2, timeout=30_000)

    page.goto(gateway["url"] + "compose")
    form = "form[action='/campaigns'] "
    page.fill(form + "input[name=name]", "VIP-неделя")
    page.fill(form + "input[name=tags]", "vip")
    page.select_option(form + "select[name=role]", "customer")  # a change: the recipient count is asked for
    page.fill(form + "textarea[name=text]", TEXT)
    page.check(form + "input[name=kind][value=advertising]")
    expect(page.locator(form + ".segment-line")).to_contain_text("4 получателей")
    page.click(form + "button[type=submit]")
    page.wait_for_url("**/campaigns/*")
    expect(page.locator("#campaign-state")).to_have_text("черновик")
    shown = page.text_content("main") or ""
    assert any(f"{name}, для вас VIP-скидка" in shown for _, name in vip), shown  # the personalised preview

    page.check("input[name=legal]")
    page.click("form[action$='/start'] button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("#campaign-state")).to_have_text("идёт")
    # no reload from here on: the page refreshes its statistics itself
    expect(page.locator("#delivered-line")).to_have_text("доставлено 4 из 4", timeout=90_000)
    expect(page.locator("#delivered")).to_have_text("4")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "campaign.png"), full_page=True)

    for phone, name in vip:
        wanted = f"{name}, для вас VIP-скидка 15% до воскресенья! Отказ от рассылки: СТОП"
        wait_until(lambda: any(m.text == wanted for m in net.phone(phone).inbox), 30, f"{phone} to get its text")
    for phone in others:
        assert not any("VIP-скидка" in m.text for m in net.phone(phone).inbox), phone
    page.goto(gateway["url"] + "campaigns")
    row = page.locator("tr", has_text="VIP-неделя")
    expect(row).to_contain_text("4 / 4")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]  # type: ignore[attr-defined]


def test_settings_and_contact_import_in_the_browser(browser: Any, gateway: dict[str, Any], tmp_path: Any) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    page = signed_in(browser, gateway)
    page.goto(gateway["url"] + "settings")
    expect(page.locator("#pacing article")).to_have_count(2, timeout=30_000)
    modem = page.locator("#pacing article", has_text="sim1")
    expect(modem.locator(".in-force").first).to_contain_text("30")            # per_minute = 30 in the demo config
    expect(modem.locator(".in-force").first).to_contain_text("из файла настроек")
    modem.locator("input[name=per_minute]").fill("20")
    modem.locator("button[type=submit]").first.click()
    expect(page.locator(".notice[role=status]")).to_contain_text("30 секунд")
    modem = page.locator("#pacing article", has_text="sim1")
    expect(modem.locator(".in-force").first).to_contain_text("20")
    expect(modem.locator(".in-force").first).to_contain_text("сохранено здесь")
    page.screenshot(path=str(ARTIFACTS / "settings.png"), full_page=True)

    csv_file = tmp_path / "клиенты.csv"
    csv_file.write_bytes("Телефон;ФИО;Теги\r\n+79167770001;Вера;осень\r\n12345;Ошибка;\r\n".encode("cp1251"))
    page.goto(gateway["url"] + "contacts/import")
    page.set_input_files("form.upload-form input[name=file]", str(csv_file))
    page.click("form.upload-form button[type=submit]")
    expect(page.locator("#n-created")).to_have_text("1")
    expect(page.locator("#n-skipped")).to_have_text("1")
    expect(page.locator(".report tr.skipped")).to_contain_text("12345")
    page.screenshot(path=str(ARTIFACTS / "contact-import.png"), full_page=True)
    page.click("form.confirm-import button[type=submit]")
    expect(page.locator("h2").first).to_have_text("Импорт выполнен")
    page.goto(gateway["url"] + "contacts?q=" + "Вера")
    expect(page.locator("main table")).to_contain_text("+79167770001")
