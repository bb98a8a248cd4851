"""Issue 7's acceptance for orders, in real headless Chromium against `smsgw demo`: a virtual phone orders by SMS,
staff open the order, change its status, and the SMS reaches that phone from the SIM the order came in on; the
agent's cabinet shows the order and the bonus. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway import demo
from tests.test_browser import ARTIFACTS, browser, gateway, signed_in  # noqa: F401  (module-scoped fixtures)

pytestmark = pytest.mark.timeout(180)
CUSTOMER = "+79162220000"  # Ольга, a customer of the demo agent Анна


def test_change_an_orders_status_and_the_sms_reaches_the_phone(browser: Any, gateway: dict[str, Any]) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    phone = gateway["network"].phone(CUSTOMER)
    sim = gateway["modems"][1]
    phone.send(to=sim, text="ЗАКАЗ 31234 2")
    accepted = phone.wait_inbox(1, timeout=40)[-1]
    number = re.search(r"\d{5}", accepted.text)
    assert number and accepted.from_ == sim, accepted

    page = signed_in(browser, gateway)
    page.goto(gateway["url"] + "orders")
    row = page.locator("table.orders tr", has_text=number.group(0))
    expect(row).to_contain_text("Ольга")
    expect(row).to_contain_text("598,00 руб.")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "orders.png"), full_page=True)

    row.locator("a").first.click()
    expect(page.locator("h1")).to_contain_text(number.group(0))
    expect(page.locator(".thread")).to_contain_text("ЗАКАЗ 31234 2")
    page.select_option("#status-form select[name=status]", "ready")
    page.click("#status-form button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("SMS клиенту")
    expect(page.locator("#order-status")).to_have_text("готов к выдаче")

    told = phone.wait_inbox(2, timeout=40)[-1]
    assert told.text == f"Заказ {number.group(0)} готов к выдаче. Сумма 598,00 руб."
    assert told.from_ == sim  # pinned to the SIM the order came in on
    page.screenshot(path=str(ARTIFACTS / "order-detail.png"), full_page=True)
    assert not [e for e in page.console_errors if "Content Security Policy" in e]

    agent = signed_in(browser, gateway, user=demo.DEMO_AGENT)
    agent.goto(gateway["url"] + "cabinet")
    box = agent.locator(".cabinet-orders")
    expect(box).to_contain_text(number.group(0))
    expect(agent.locator("#bonus-balance")).to_have_text("29,90 руб.")  # 5 % of 598,00
    agent.screenshot(path=str(ARTIFACTS / "cabinet-orders.png"), full_page=True)
