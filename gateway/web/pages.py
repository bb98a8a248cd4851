"""The HTML pages: dashboard, outbox and uncertain messages, inbox and replies, opt-outs, users, settings,
audit log, compose, the agent's cabinet, and the pages whose domain modules are still to come."""

from __future__ import annotations

import csv
import importlib.util
import io
import re
import urllib.parse
from datetime import datetime
from typing import Any

import bottle

from gateway import auth, outbox, overrides, sms, store
from gateway.config import QuietHours
from gateway.errors import UserInputError
from gateway.states import MessageClass, Priority, Role
from gateway.store import contacts as store_contacts
from gateway.store import inbox as store_inbox
from gateway.store import outbox as store_outbox
from gateway.store import settings as store_settings
from gateway.store import users
from gateway.store import web as store_web
from gateway.web import security, views
from gateway.web.core import Web, int_or, json_response, page

STAFF = (Role.ADMIN, Role.OPERATOR)
PAGE_SIZE = 50
# User-chosen filters map through these allow-lists; nothing a browser sends is pasted into SQL.
OUTBOX_FILTERS: dict[str, tuple[str, ...]] = {
    "all": (), "open": ("queued", "sending", "held", "uncertain"), "queued": ("queued",), "sent": ("sent",),
    "delivered": ("delivered",), "undelivered": ("undelivered",), "failed": ("failed",),
    "cancelled": ("cancelled",), "uncertain": ("uncertain",), "held": ("held",),
}
AUDIT_FILTERS = {"actor": "actor", "action": "action"}
AGENT_CAP_KEY = "web.agent_daily_cap"
AGENT_CAP_DEFAULT = 50
MAX_RECIPIENTS = 5000

AGENT_REPLY_WINDOW_S = 72 * 3600  # an agent may answer a customer's SMS for three days


def feature(module: str) -> bool:
    """True when a domain module (written by another issue) is installed."""
    return importlib.util.find_spec(f"gateway.{module}") is not None


def agent_cap(db: store.Database) -> int:
    """Messages an agent may queue per office day."""
    value = store_web.get_setting(db, AGENT_CAP_KEY)
    return int(value) if value and value.isdigit() else AGENT_CAP_DEFAULT


def split_numbers(text: str) -> list[str]:
    """Numbers pasted one per line or separated by commas/semicolons (blank pieces dropped)."""
    return [p.strip() for p in re.split(r"[\n\r,;]+", text) if p.strip()]


def numbers_from_csv(data: bytes) -> list[str]:
    """Phone-looking cells of a CSV export (UTF-8 with or without BOM, or Excel's cp1251; `;` or `,`)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1251", errors="replace")
    dialect = ";" if text.count(";") > text.count(",") else ","
    found = []
    for row in csv.reader(io.StringIO(text), delimiter=dialect):
        for cell in row:
            cell = cell.strip().lstrip("'")
            if re.fullmatch(r"[+\d][\d\s()\-]{6,}", cell):
                found.append(cell)
                break
    return found


def normalise_all(raw: list[str], region: str) -> tuple[list[str], list[str]]:
    """(valid E.164 numbers without repeats, the inputs that are not numbers)."""
    good: dict[str, None] = {}
    bad = []
    for item in raw:
        try:
            good[sms.normalise_number(item, region)] = None
        except sms.InvalidNumber:
            bad.append(item)
    return list(good), bad


def quiet_text(hours: QuietHours) -> str:
    """Quiet hours as one audit-log value: "20:00-08:00" (+transactional)."""
    return f"{hours.start:%H:%M}-{hours.end:%H:%M}" + (" +transactional" if hours.transactional else "")


def register(app: bottle.Bottle, web: Web) -> None:
    """Add the HTML pages."""
    web.extras["features"] = {m: feature(m) for m in ("campaigns", "contacts", "commands", "catalogue", "templates")}

    # --- dashboard ------------------------------------------------------------------------------------------

    def dashboard_data() -> dict[str, Any]:
        return views.dashboard(web.db(), web.config, web.local_midnight())

    @app.get("/")
    @page(web)
    def index(user: security.User) -> str:
        if user.is_agent:
            bottle.redirect("/cabinet", 303)
        t = web.t()
        return web.render("dashboard.tpl", title=t("dash.title"), data=dashboard_data())

    @app.get("/ui/dashboard.part")
    @page(web, *STAFF)
    def dashboard_part(user: security.User) -> str:
        return web.render("dashboard_part.tpl", data=dashboard_data())

    @app.post("/ui/preview")
    @page(web, as_json=True)
    def preview(user: security.User) -> str:
        text = web.form("text")
        shape = sms.plan(text) if text else None
        recipients = len(split_numbers(web.form("numbers")))
        parts = shape.parts if shape else 0
        return json_response({
            "chars": len(text), "parts": parts, "encoding": str(shape.encoding) if shape else "",
            "units_left": shape.units_left if shape else 0, "recipients": recipients,
            "total_parts": parts * recipients,
        })

    # --- outbox and uncertain messages -------------------------------------------------------------------

    @app.get("/outbox")
    @page(web)
    def outbox_list(user: security.User) -> str:
        t = web.t()
        state = web.query("state", "all")
        states = OUTBOX_FILTERS.get(state, ())
        phone = web.query("phone").strip()
        norm = None
        if phone:
            try:
                norm = sms.normalise_number(phone, web.config.office.default_region)
            except sms.InvalidNumber:
                norm = phone
        rows = store_web.outbox_page(web.db(), states=states, phone=norm, before_id=int_or(web.query("before")),
                                     limit=PAGE_SIZE, agent_contact_id=user.contact_id if user.is_agent else None)
        if user.is_agent and user.contact_id is None:
            rows = []
        return web.render("outbox.tpl", title=t("out.title"), rows=rows, state=state, phone=phone,
                          filters=list(OUTBOX_FILTERS), page_size=PAGE_SIZE)

    @app.get("/uncertain")
    @page(web, *STAFF)
    def uncertain(user: security.User) -> str:
        t = web.t()
        rows = store_web.outbox_page(web.db(), states=("uncertain",), phone=None, before_id=None, limit=500)
        notice = t("unc.done") if web.query("done") else ""
        return web.render("uncertain.tpl", title=t("unc.title"), rows=rows, notice=notice)

    @app.post("/uncertain/<message_id:int>")
    @page(web, *STAFF)
    def uncertain_act(user: security.User, message_id: int) -> Any:
        action = web.form("action")
        if action not in ("resend", "drop"):
            bottle.abort(400, "action must be resend or drop")
        try:
            outbox.resolve_uncertain(web.db(), message_id, action, user.username, web.now())
        except UserInputError as exc:
            return web.render("message.tpl", title=web.t()("common.error"), text=str(exc))
        bottle.redirect("/uncertain?done=1", 303)

    # --- inbox -------------------------------------------------------------------------------------------

    def may_see_phone(user: security.User, phone: str) -> bool:
        if user.is_staff:
            return True
        return user.contact_id is not None and store_web.phone_owner(web.db(), phone) == user.contact_id

    @app.get("/inbox")
    @page(web)
    def inbox(user: security.User) -> str:
        t = web.t()
        waiting = web.query("waiting") == "1"
        rows: list[dict[str, Any]] = []
        if user.is_staff or user.contact_id is not None:
            rows = store_web.conversations(web.db(), limit=PAGE_SIZE, before_id=int_or(web.query("before")),
                                           only_waiting=waiting,
                                           agent_contact_id=user.contact_id if user.is_agent else None)
        return web.render("inbox.tpl", title=t("in.title"), rows=rows, waiting=waiting, page_size=PAGE_SIZE)

    @app.get("/inbox/<phone>")
    @page(web)
    def thread(user: security.User, phone: str) -> str:
        t = web.t()
        if not may_see_phone(user, phone):
            bottle.response.status = 404
            return web.render("message.tpl", title=t("common.not_found"), text="")
        db = web.db()
        messages = store_web.thread(db, phone)
        contact = store_contacts.get_by_phone(db, phone)
        notice = t("in.sent_ok") if web.query("sent") else ""
        return web.render("thread.tpl", title=t("in.thread", phone=phone), phone=phone, messages=messages,
                          contact=contact, notice=notice, text=web.query("text"))

    @app.post("/inbox/<phone>/reply")
    @page(web)
    def reply(user: security.User, phone: str) -> Any:
        t = web.t()
        if not may_see_phone(user, phone):
            bottle.abort(404, "not found")
        text = web.form("text")
        db = web.db()
        now = web.now()
        try:
            if user.is_agent:
                check_agent_cap(user, 1)
                # A reply answers the customer's own recent message; anything else is a mailing (cabinet).
                if not store_web.wrote_since(db, phone, now - AGENT_REPLY_WINDOW_S):
                    raise UserInputError(t("in.agent_reply_window"))
            with store.immediate(db):
                message_id = outbox.submit(db, web.config, phone, text, now=now, priority=Priority.TRANSACTIONAL,
                                           message_class=MessageClass.SERVICE,
                                           reply_to=store_web.latest_inbound_id(db, phone),
                                           created_by=f"web:{user.username}")
                store_web.mark_thread_read(db, phone, now)
                users.audit(db, user.username, "inbox.reply", now, target=phone, message_id=message_id,
                            length=len(text))
        except UserInputError as exc:
            bottle.response.status = 400
            contact = store_contacts.get_by_phone(db, phone)
            return web.render("thread.tpl", title=t("in.thread", phone=phone), phone=phone,
                              messages=store_web.thread(db, phone), contact=contact, error=str(exc), text=text)
        bottle.redirect(f"/inbox/{urllib.parse.quote(phone)}?sent=1", 303)

    @app.post("/inbox/<phone>/read")
    @page(web)
    def mark_read(user: security.User, phone: str) -> Any:
        if not may_see_phone(user, phone):
            bottle.abort(404, "not found")
        n = store_web.mark_thread_read(web.db(), phone, web.now())
        web.audit("inbox.read", target=phone, messages=n)
        bottle.redirect(f"/inbox/{urllib.parse.quote(phone)}", 303)

    # --- opt-outs --------------------------------------------------------------------------------------------

    @app.get("/optouts")
    @page(web, *STAFF)
    def optouts(user: security.User) -> str:
        t = web.t()
        db = web.db()
        search = web.query("q").strip()
        return web.render("optouts.tpl", title=t("opt.title"), review=store_web.review_messages(db),
                          rows=store_web.opted_out(db, phone_like=search or None, limit=500), q=search,
                          notice=t("opt.done") if web.query("done") else "")

    @app.post("/optouts/review/<inbox_id:int>")
    @page(web, *STAFF)
    def review_decide(user: security.User, inbox_id: int) -> Any:
        db = web.db()
        now = web.now()
        message = store_inbox.get(db, inbox_id)
        if message is None or message["state"] != "review":
            bottle.abort(404, "not waiting for review")
        decision = web.form("decision")
        with store.immediate(db):
            if decision == "confirm":
                store_contacts.opt_out(db, message["phone"], "staff review of an SMS", now, inbox_id=inbox_id,
                                       user_id=user.id)
                store_outbox.cancel_queued_for_phone(db, message["phone"], "recipient opted out", now)
                store_inbox.set_state(db, inbox_id, "handled", now, command="STOP")
            elif decision == "dismiss":
                store_web.dismiss_review(db, inbox_id, now)
                store_web.lift_bulk_pause(db, message["phone"], now)
            else:
                bottle.abort(400, "decision must be confirm or dismiss")
            users.audit(db, user.username, f"optout.review.{decision}", now, target=message["phone"],
                        inbox_id=inbox_id)
        bottle.redirect("/optouts?done=1" if decision == "confirm" else "/optouts", 303)

    @app.post("/optouts/add")
    @page(web, *STAFF)
    def optout_add(user: security.User) -> Any:
        t = web.t()
        db = web.db()
        now = web.now()
        try:
            phone = sms.normalise_number(web.form("phone"), web.config.office.default_region)
        except sms.InvalidNumber as exc:
            bottle.response.status = 400
            return web.render("optouts.tpl", title=t("opt.title"), review=store_web.review_messages(db),
                              rows=store_web.opted_out(db, phone_like=None, limit=500), q="", error=str(exc))
        with store.immediate(db):
            store_contacts.opt_out(db, phone, "staff, by hand", now, user_id=user.id)
            store_outbox.cancel_queued_for_phone(db, phone, "recipient opted out", now)
            users.audit(db, user.username, "optout.add", now, target=phone)
        bottle.redirect("/optouts?done=1", 303)

    # --- users ------------------------------------------------------------------------------------------

    def users_page(error: str = "", notice: str = "", status: int = 200) -> str:
        bottle.response.status = status
        db = web.db()
        return web.render("users.tpl", title=web.t()("users.title"), rows=users.list_users(db),
                          agents=store_web.agents(db), roles=[str(r) for r in Role], error=error, notice=notice)

    @app.get("/users")
    @page(web, Role.ADMIN)
    def users_list(user: security.User) -> str:
        return users_page(notice=web.t()("common.saved") if web.query("saved") else "")

    @app.post("/users")
    @page(web, Role.ADMIN)
    def users_add(user: security.User) -> Any:
        t = web.t()
        db = web.db()
        username = web.form("username").strip()
        password = web.form("password")
        role = web.form("role")
        contact_id = int_or(web.form("contact_id"))
        if not re.fullmatch(r"[\w.@-]{2,64}", username):
            return users_page("user name: 2–64 letters, digits, . _ @ -", status=400)
        if role not in {str(r) for r in Role}:
            return users_page("role?", status=400)
        problem = auth.password_problem(password, username)
        if problem or len(password.encode("utf-8")) > security.MAX_PASSWORD_BYTES:
            return users_page(problem or "password too long", status=400)
        if role == Role.AGENT and (contact_id is None or store_web.contact_by_id(db, contact_id) is None):
            return users_page(t("users.need_agent"), status=400)
        hashed = auth.hash_password(password)
        try:
            with store.immediate(db):
                users.add_user(db, username, hashed, Role(role), web.now(),
                               contact_id=contact_id if role == Role.AGENT else None)
                users.audit(db, user.username, "user.add", web.now(), target=username, role=role)
        except ValueError:
            return users_page(t("users.exists"), status=409)
        bottle.redirect("/users?saved=1", 303)

    @app.post("/users/<user_id:int>")
    @page(web, Role.ADMIN)
    def users_edit(user: security.User, user_id: int) -> Any:
        t = web.t()
        db = web.db()
        now = web.now()
        target = users.get_user_by_id(db, user_id)
        if target is None:
            bottle.abort(404, "no such user")
        action = web.form("action")
        changes: dict[str, Any] = {}
        if action == "save":
            role = web.form("role")
            if role not in {str(r) for r in Role}:
                return users_page("role?", status=400)
            contact_id = int_or(web.form("contact_id"))
            if role == Role.AGENT and (contact_id is None or store_web.contact_by_id(db, contact_id) is None):
                return users_page(t("users.need_agent"), status=400)
            changes = {"role": role, "contact_id": contact_id if role == Role.AGENT else None,
                       "disabled": 1 if web.form("disabled") == "1" else 0}
            losing_admin = target["role"] == Role.ADMIN and not target["disabled"] and (
                role != Role.ADMIN or changes["disabled"])
            if losing_admin and users.count_admins(db) <= 1:
                return users_page(t("users.last_admin"), status=400)
        elif action == "password":
            password = web.form("password")
            problem = auth.password_problem(password, target["username"])
            if problem or len(password.encode("utf-8")) > security.MAX_PASSWORD_BYTES:
                return users_page(problem or "password too long", status=400)
            changes = {"password_hash": auth.hash_password(password)}
        elif action == "unlock":
            store_web.clear_failures(db, target["username"])
            web.audit("user.unlock", target=target["username"])
            bottle.redirect("/users?saved=1", 303)
        else:
            bottle.abort(400, "unknown action")
        with store.immediate(db):
            users.update_user(db, user_id, now, **changes)
            if action == "password" or changes.get("disabled") or changes.get("role") != target["role"]:
                store_web.delete_user_sessions(db, user_id)  # a changed account signs in afresh
            users.audit(db, user.username, f"user.{action}", now, target=target["username"],
                        **{k: v for k, v in changes.items() if k != "password_hash"})
        bottle.redirect("/users?saved=1", 303)

    # --- settings: quiet hours and pacing (saved over the config), API keys, webhooks, the agents' cap ----------

    def pacing_rows(db: store.Database) -> list[views.Pacing]:
        from gateway.store import modems as store_modems

        return [views.pacing(db, web.config, m) for m in store_modems.list_modems(db)]

    def settings_page(user: security.User, **extra: Any) -> str:
        db = web.db()
        seen = {p.entry for p in pacing_rows(db)}
        unseen = [{"name": m.name, "port": m.port, "per_minute": m.per_minute, "per_hour": m.per_hour,
                   "per_day": m.per_day} for m in web.config.modems if m.name not in seen]
        admin = user.is_admin
        return web.render("settings.tpl", title=web.t()("set.title"), config=web.config, quiet=views.quiet(db, web.config),
                          pacing=pacing_rows(db), unseen=unseen, limits=overrides.PACING_LIMITS,
                          keys=store_web.list_api_keys(db) if admin else [],
                          hooks=store_web.list_webhooks(db) if admin else [],
                          agent_cap=agent_cap(db), new_key="", new_secret="", editable=admin,
                          values=extra.pop("values", {}), **extra)

    @app.get("/settings")
    @page(web, *STAFF)
    def settings(user: security.User) -> str:
        return settings_page(user, notice=web.t()("set.saved_soon") if web.query("saved") else "")

    def settings_refused(user: security.User, message: str, **values: Any) -> str:
        bottle.response.status = 400
        return settings_page(user, error=message, values=values)

    @app.post("/settings/quiet-hours")
    @page(web, Role.ADMIN)
    def settings_quiet(user: security.User) -> Any:
        db = web.db()
        now = web.now()
        before = views.quiet(db, web.config)
        if web.form("action") == "reset":
            with store.immediate(db):
                store_settings.delete(db, overrides.QUIET_KEY)  # no saved value: the config's hours apply
                users.audit(db, user.username, "settings.quiet_hours.reset", now,
                            before=quiet_text(before.hours), after=quiet_text(web.config.quiet_hours))
            bottle.redirect("/settings?saved=1", 303)
        start, end = web.form("start").strip(), web.form("end").strip()
        transactional = web.form("transactional") == "1"
        try:
            with store.immediate(db):
                overrides.save_quiet_hours(db, start=start, end=end, transactional=transactional, now=now)
                users.audit(db, user.username, "settings.quiet_hours", now, before=quiet_text(before.hours),
                            after=f"{start}-{end}" + (" +transactional" if transactional else ""))
        except UserInputError as exc:
            return settings_refused(user, web.t()("set.quiet_bad", reason=str(exc)),
                                    start=start, end=end, transactional=transactional)
        bottle.redirect("/settings?saved=1", 303)

    @app.post("/settings/pacing/<modem_id:int>")
    @page(web, Role.ADMIN)
    def settings_pacing(user: security.User, modem_id: int) -> Any:
        from gateway.store import modems as store_modems

        t = web.t()
        db = web.db()
        now = web.now()
        modem = next((m for m in store_modems.list_modems(db) if m["id"] == modem_id), None)
        if modem is None or not modem.get("name"):
            bottle.abort(404, "no such modem")
        label = str(modem["name"])  # the label comes from our own row, never from the form
        before = views.pacing(db, web.config, modem)
        caps: dict[str, int | None] = {}
        for key in views.CAP_FIELDS:
            raw = web.form(key).strip()
            if web.form("action") == "reset" or not raw:
                caps[key] = None     # blank: the config's (or the profile's) value applies again
                continue
            value = int_or(raw)
            if value is None:
                return settings_refused(user, t("set.pacing_bad", modem=label, reason=f"{key} must be a whole number, not {raw}"),
                                        modem=modem_id, **{key: raw})
            caps[key] = value
        if before.base is None:
            return settings_refused(user, t("set.pacing_unconfigured", modem=label), modem=modem_id)
        merged = [caps[k] or getattr(before.base, k) for k in views.CAP_FIELDS]
        if not merged[0] <= merged[1] <= merged[2]:  # the profiles' own rule: per minute ≤ per hour ≤ per day
            return settings_refused(user, t("set.pacing_order", modem=label), modem=modem_id,
                                    **{k: ("" if v is None else str(v)) for k, v in caps.items()})
        try:
            with store.immediate(db):
                overrides.save_pacing(db, label, now=now, **caps)
                users.audit(db, user.username, "settings.pacing", now, target=label,
                            before=before.saved or None, after={k: v for k, v in caps.items() if v is not None} or None)
        except UserInputError as exc:
            return settings_refused(user, t("set.pacing_bad", modem=label, reason=str(exc)), modem=modem_id,
                                    **{k: ("" if v is None else str(v)) for k, v in caps.items()})
        bottle.redirect("/settings?saved=1", 303)

    @app.post("/settings/agent-cap")
    @page(web, Role.ADMIN)
    def settings_agent_cap(user: security.User) -> Any:
        cap = int_or(web.form("cap"))
        if cap is None or not 0 <= cap <= 100_000:
            bottle.response.status = 400
            return settings_page(user, error="0…100000")
        store_web.set_setting(web.db(), AGENT_CAP_KEY, str(cap), web.now())
        web.audit("settings.agent_cap", value=cap)
        bottle.redirect("/settings?saved=1", 303)

    @app.post("/settings/api-keys")
    @page(web, Role.ADMIN)
    def api_key_add(user: security.User) -> str:
        name = web.form("name").strip()[:100] or "API"
        token = "smsgw_" + security.new_token()
        key_id = store_web.add_api_key(web.db(), name, token, user.username, web.now())
        web.audit("api_key.add", target=str(key_id), name=name)
        return settings_page(user, new_key=token)

    @app.post("/settings/api-keys/<key_id:int>/revoke")
    @page(web, Role.ADMIN)
    def api_key_revoke(user: security.User, key_id: int) -> Any:
        if store_web.revoke_api_key(web.db(), key_id, web.now()):
            web.audit("api_key.revoke", target=str(key_id))
        bottle.redirect("/settings?saved=1", 303)

    @app.post("/settings/webhooks")
    @page(web, Role.ADMIN)
    def webhook_add(user: security.User) -> str:
        t = web.t()
        url = web.form("url").strip()
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
            bottle.response.status = 400
            return settings_page(user, error=t("set.bad_url"))
        events = ",".join(e for e in ("inbound", "status") if web.form(f"event_{e}") == "1") or "inbound,status"
        secret = security.new_token()
        hook_id = store_web.add_webhook(web.db(), url, secret, events, user.username, web.now())
        web.audit("webhook.add", target=str(hook_id), url=url, events=events)
        return settings_page(user, new_secret=secret)

    @app.post("/settings/webhooks/<hook_id:int>/delete")
    @page(web, Role.ADMIN)
    def webhook_delete(user: security.User, hook_id: int) -> Any:
        if store_web.delete_webhook(web.db(), hook_id):
            web.audit("webhook.delete", target=str(hook_id))
        bottle.redirect("/settings?saved=1", 303)

    # --- audit log ----------------------------------------------------------------------------------------

    @app.get("/audit")
    @page(web, Role.ADMIN)
    def audit(user: security.User) -> str:
        by = web.query("by")
        column = AUDIT_FILTERS.get(by)
        value = web.query("q").strip()
        rows = store_web.audit_page(web.db(), column=column, value=value or None,
                                    before_id=int_or(web.query("before")), limit=PAGE_SIZE)
        return web.render("audit.tpl", title=web.t()("audit.title"), rows=rows, by=by if column else "",
                          q=value, page_size=PAGE_SIZE)

    # --- compose: pasted numbers or a CSV now; segments, tags and templates with the campaigns module ----------

    def compose_page(**extra: Any) -> str:
        values = {"numbers": "", "text": "", "kind": "advertising", "when": ""}
        values.update(extra.pop("values", {}))
        return web.render("compose.tpl", title=web.t()("compose.title"), values=values,
                          agents=store_web.agents(web.db()), segments=web.extras["features"].get("campaigns"), **extra)

    @app.get("/compose")
    @page(web, *STAFF)
    def compose(user: security.User) -> str:
        n = int_or(web.query("queued"))
        return compose_page(notice=web.t()("compose.queued", n=n) if n is not None else "")

    @app.post("/compose")
    @page(web, *STAFF)
    def compose_send(user: security.User) -> Any:
        t = web.t()
        values = {"numbers": web.form("numbers"), "text": web.form("text"), "kind": web.form("kind"),
                  "when": web.form("when")}
        raw = split_numbers(values["numbers"])
        upload = bottle.request.files.get("csv")
        if upload is not None and getattr(upload, "file", None) is not None:
            raw += numbers_from_csv(upload.file.read(2 * 1024 * 1024))
        numbers, bad = normalise_all(raw, web.config.office.default_region)

        def fail(message: str) -> str:
            bottle.response.status = 400
            return compose_page(values=values, error=message)

        if bad:
            return fail(t("compose.bad_numbers", numbers=", ".join(bad[:20])))
        if not numbers:
            return fail(t("compose.no_numbers"))
        if len(numbers) > MAX_RECIPIENTS:
            return fail(f"≤ {MAX_RECIPIENTS}")
        if not values["text"].strip():
            return fail(t("compose.empty"))
        not_before = None
        if values["when"].strip():
            try:
                local = datetime.strptime(values["when"].strip(), "%Y-%m-%dT%H:%M").replace(tzinfo=web.zone)
            except ValueError:
                return fail(t("compose.bad_time"))
            not_before = local.timestamp()
        kind = MessageClass.SERVICE if values["kind"] == "service" else MessageClass.ADVERTISING
        db = web.db()
        now = web.now()
        try:
            with store.immediate(db):
                for number in numbers:
                    outbox.submit(db, web.config, number, values["text"], now=now, priority=Priority.BULK,
                                  message_class=kind, not_before=not_before, created_by=f"web:{user.username}")
                users.audit(db, user.username, "compose.send", now, recipients=len(numbers), kind=str(kind),
                            scheduled=not_before)
        except UserInputError as exc:
            return fail(str(exc))
        bottle.redirect(f"/compose?queued={len(numbers)}", 303)

    # --- the agent's cabinet ------------------------------------------------------------------------------

    def check_agent_cap(user: security.User, wanted: int) -> None:
        db = web.db()
        cap = agent_cap(db)
        sent = store_web.agent_sent_since(db, user.username, web.local_midnight())
        if sent + wanted > cap:
            raise UserInputError(web.t()("cab.over_cap", left=max(0, cap - sent)))

    def cabinet_page(user: security.User, **extra: Any) -> str:
        t = web.t()
        db = web.db()
        customers = (store_web.agent_customers(db, user.contact_id, search=web.query("q") or None, limit=500)
                     if user.contact_id is not None else [])
        sent = store_web.agent_sent_since(db, user.username, web.local_midnight())
        orders_box = web.extras.get("cabinet_orders")  # set by order_pages: own orders, bonus, points
        extra.setdefault("orders_box", orders_box(user) if orders_box else None)
        return web.render("cabinet.tpl", title=t("cab.title"), customers=customers, sent=sent, cap=agent_cap(db),
                          linked=user.contact_id is not None, agent=store_web.contact_by_id(db, user.contact_id)
                          if user.contact_id else None, q=web.query("q"), **extra)

    @app.get("/cabinet")
    @page(web, Role.AGENT)
    def cabinet(user: security.User) -> str:
        n = int_or(web.query("queued"))
        return cabinet_page(user, notice=web.t()("compose.queued", n=n) if n is not None else "")

    @app.post("/cabinet/send")
    @page(web, Role.AGENT)
    def cabinet_send(user: security.User) -> Any:
        t = web.t()
        db = web.db()
        ids = [int_or(v) for v in bottle.request.forms.getall("contact")]
        text = web.form("text")
        # An agent's message to their customers is marketing whatever it is labelled: it needs their consent.
        kind = MessageClass.ADVERTISING

        def fail(message: str, status: int = 400) -> str:
            bottle.response.status = status
            return cabinet_page(user, error=message, text=text)

        if user.contact_id is None:
            return fail(t("cab.no_link"), 403)
        targets = []
        for contact_id in ids:
            contact = store_web.contact_by_id(db, contact_id) if contact_id is not None else None
            if contact is None or contact["agent_id"] != user.contact_id:
                web.audit("cabinet.refused", target=str(contact_id))
                return fail(t("cab.not_yours"), 403)
            targets.append(contact["phone"])
        if not targets:
            return fail(t("compose.no_numbers"))
        if not text.strip():
            return fail(t("compose.empty"))
        now = web.now()
        try:
            check_agent_cap(user, len(targets))
            with store.immediate(db):
                for phone in targets:
                    outbox.submit(db, web.config, phone, text, now=now, priority=Priority.BULK, message_class=kind,
                                  created_by=f"web:{user.username}")
                users.audit(db, user.username, "cabinet.send", now, recipients=len(targets), kind=str(kind))
        except UserInputError as exc:
            return fail(str(exc))
        bottle.redirect(f"/cabinet?queued={len(targets)}", 303)

    # --- pages of domains still being written (contacts, campaigns) ---------------------------------------

    for path, key, module in (("/contacts", "nav.contacts", "contacts"), ("/campaigns", "nav.campaigns", "campaigns")):
        if path in {r.rule for r in app.routes}:
            continue

        def placeholder(user: security.User, key: str = key, module: str = module) -> str:
            return web.render("todo.tpl", title_key=key, module=f"gateway/{module}.py")

        app.get(path)(page(web, *STAFF)(placeholder))

