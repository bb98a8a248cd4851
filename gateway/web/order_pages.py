"""Order pages (issues 5 and 7): the list with filters and paging, an order with its lines and the customer's SMS,
the status change that texts the customer, and the orders and bonus box of the agent's cabinet.

Admins and operators see and change every order; an agent only the orders credited to them (`orders.agent_id`,
the owning agent of the customer when the order came in). The owner check happens here, before anything is read
or changed, and again in `commands.set_order_status`. An order someone may not see answers 404, like one that
does not exist.

The detail page is `/orders/view?id=N` and the change is `POST /orders/status` (order id in the form): the
route table then has no new placeholder name, which the page-guard tests of `tests/test_web.py` fill from a
fixed list.
"""

from __future__ import annotations

from typing import Any

import bottle

from gateway import commands, sms
from gateway.errors import UserInputError
from gateway.grammar import Lang
from gateway.store import contacts as store_contacts
from gateway.store import commands as cq
from gateway.store import web as store_web
from gateway.web import i18n, security
from gateway.web.core import Web, int_or, page

PAGE_SIZE = 50
CABINET_ORDERS = 10
HISTORY = 30
STATUS_FILTERS = ("all", *cq.ORDER_FILTERS)  # "all" means no filter; the rest are the store's allow-list
STATUS_KEYS = {str(s): f"ord.status_{s}" for s in commands.OrderStatus}  # status → its translation key

MESSAGES: dict[str, tuple[str, str]] = {
    "ord.number": ("Заказ", "Order"),
    "ord.customer": ("Клиент", "Customer"),
    "ord.agent": ("Агент", "Agent"),
    "ord.all_agents": ("все агенты", "all agents"),
    "ord.total": ("Сумма", "Total"),
    "ord.points": ("Баллы", "Points"),
    "ord.status": ("Статус", "Status"),
    "ord.items": ("Позиций", "Items"),
    "ord.lines": ("Состав заказа", "Items"),
    "ord.code": ("Код", "Code"),
    "ord.product": ("Товар", "Product"),
    "ord.qty": ("Кол-во", "Qty"),
    "ord.price": ("Цена", "Price"),
    "ord.bonus": ("Бонус агента", "Agent's bonus"),
    "ord.coupon": ("Купон", "Coupon"),
    "ord.note": ("Приписка покупателя", "Customer's note"),
    "ord.form": ("Форма заказа", "Order form"),
    "ord.form_full": ("полная (консультант, СПО)", "full (consultant, SPO)"),
    "ord.form_short": ("короткая (зарегистрированный клиент)", "short (registered customer)"),
    "ord.consultant": ("Консультант / СПО", "Consultant / SPO"),
    "ord.payment": ("Оплата", "Payment"),
    "ord.payment_credit": ("в кредит", "on credit"),
    "ord.payment_immediate": ("сразу", "immediate"),
    "ord.refuse_reserve": ("без резерва", "no reserve"),
    "ord.sms": ("SMS заказа", "The order SMS"),
    "ord.history": ("Переписка с клиентом", "SMS with the customer"),
    "ord.change": ("Изменить статус", "Change the status"),
    "ord.change_help": ("Клиент получит SMS о новом статусе.", "The customer gets an SMS about the new status."),
    "ord.changed": ("Статус изменён, SMS клиенту поставлено в очередь.",
                    "The status is changed; the SMS to the customer is queued."),
    "ord.final": ("Этот статус окончательный.", "This status is final."),
    "ord.open": ("открытые", "open"),
    "ord.status_new": ("новый", "new"),
    "ord.status_confirmed": ("подтверждён", "confirmed"),
    "ord.status_ready": ("готов к выдаче", "ready for pick-up"),
    "ord.status_done": ("выдан", "handed over"),
    "ord.status_cancelled": ("отменён", "cancelled"),
    "ord.points_month": ("Баллы за этот месяц", "Points this month"),
    "ord.open_count": ("Открытых заказов", "Open orders"),
    "ord.all_mine": ("Все мои заказы →", "All my orders →"),
    "ord.from_customer": ("от клиента", "from the customer"),
    "ord.to_customer": ("клиенту", "to the customer"),
}
i18n.MESSAGES.update(MESSAGES)


def money(kop: int | None, lang: str) -> str:
    """Kopecks as the office writes a price."""
    return commands.money(int(kop or 0), Lang.EN if lang == "en" else Lang.RU)


def points(value: float | None) -> str:
    """Points without a useless fraction."""
    number = float(value or 0)
    return f"{number:.2f}".rstrip("0").rstrip(".") if number % 1 else str(int(number))


def register(app: bottle.Bottle, web: Web) -> None:
    """Add the order pages, and the cabinet's orders box (`web.extras["cabinet_orders"]`)."""

    def scope(user: security.User) -> int | None:
        """The agent whose orders this user is limited to (None: every order)."""
        return None if user.is_staff else (user.contact_id if user.contact_id is not None else -1)

    def visible(user: security.User, order: dict[str, Any] | None) -> bool:
        return order is not None and (user.is_staff or (user.contact_id is not None
                                                        and order["agent_id"] == user.contact_id))

    def common() -> dict[str, Any]:
        lang = web.lang()
        t = web.t()
        return {"money": lambda kop: money(kop, lang), "points": points,
                "status_name": lambda status: t(STATUS_KEYS.get(status, "ord.open" if status == "open" else status))}

    @app.get("/orders")
    @page(web)
    def order_list(user: security.User) -> str:
        t = web.t()
        db = web.db()
        status = web.query("status", "open")
        if status not in STATUS_FILTERS:
            status = "open"
        agent = int_or(web.query("agent")) if user.is_staff else None
        phone = web.query("phone").strip()
        norm = None
        if phone:
            try:
                norm = sms.normalise_number(phone, web.config.office.default_region)
            except sms.InvalidNumber:
                norm = phone  # shows nothing, and says so
        rows = cq.orders_page(db, agent_id=agent if user.is_staff else scope(user),
                              status=None if status == "all" else status, phone=norm,
                              before_id=int_or(web.query("before")), limit=PAGE_SIZE)
        return web.render("orders.tpl", title=t("nav.orders"), rows=rows, status=status, filters=STATUS_FILTERS,
                          agent=agent, agents=store_web.agents(db) if user.is_staff else [], phone=phone,
                          page_size=PAGE_SIZE, **common())

    def detail_page(user: security.User, order_id: int | None, **extra: Any) -> str:
        t = web.t()
        db = web.db()
        order = cq.order_detail(db, order_id) if order_id is not None else None
        if not visible(user, order):
            bottle.response.status = 404
            return web.render("message.tpl", title=t("common.not_found"), text="")
        assert order is not None
        # The conversation is shown to staff and to the agent who owns the customer; an agent named in the
        # order of someone else's customer sees the order, not that customer's other messages.
        customer = store_contacts.get_by_phone(db, order["phone"])
        own = user.is_staff or (customer is not None and customer["agent_id"] == user.contact_id)
        return web.render("orders_detail.tpl", title=f"{t('ord.number')} {order['number']}", o=order,
                          next_statuses=[str(s) for s in commands.next_statuses(order["status"])],
                          history=store_web.thread(db, order["phone"], limit=HISTORY) if own else [],
                          **common(), **extra)

    @app.get("/orders/view")
    @page(web)
    def order_view(user: security.User) -> str:
        notice = web.t()("ord.changed") if web.query("changed") else ""
        return detail_page(user, int_or(web.query("id")), notice=notice)

    @app.post("/orders/status")
    @page(web)
    def order_status(user: security.User) -> Any:
        db = web.db()
        order_id = int_or(web.form("order_id"))
        order = cq.order_get(db, order_id) if order_id is not None else None
        if not visible(user, order):
            if order is not None:
                web.audit("order.refused", target=order["number"])
            bottle.abort(404, "not found")
        assert order_id is not None
        try:
            commands.set_order_status(db, web.config, order_id, web.form("status"), now=web.now(),
                                      actor=user.username, agent_id=None if user.is_staff else user.contact_id)
        except UserInputError as exc:
            bottle.response.status = 400
            return detail_page(user, order_id, error=str(exc))
        bottle.redirect(f"/orders/view?id={order_id}&changed=1", 303)

    def cabinet_orders(user: security.User) -> dict[str, Any] | None:
        """The cabinet's box: bonus balance, this month's points, open orders, the newest orders."""
        if user.contact_id is None:
            return None
        db = web.db()
        summary = commands.agent_summary(db, web.config, user.contact_id, now=web.now())
        rows = cq.orders_page(db, agent_id=user.contact_id, limit=CABINET_ORDERS)
        return {"summary": summary, "rows": rows, **common()}

    web.extras["cabinet_orders"] = cabinet_orders
