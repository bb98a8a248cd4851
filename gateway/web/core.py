"""The web app's shared machinery: per-thread database, the signed-in user, rendering, guards and helpers."""

from __future__ import annotations

import functools
import json
import threading
import time
import urllib.parse
import zoneinfo
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import bottle

from gateway import store
from gateway.config import Config
from gateway.states import Role
from gateway.store import web as store_web
from gateway.web import i18n, security

WEB_DIR = Path(__file__).resolve().parent.parent.parent / "web"
MAX_FORM_FIELD = 10_000     # characters; longer fields are refused, never truncated silently


class Web:
    """Everything a request handler needs: config, clock, database connections, templates, the simulator URL."""

    def __init__(self, config: Config, clock: Callable[[], float], web_dir: Path,
                 sim_control_url: str | None) -> None:
        self.config = config
        self.clock = clock
        self.web_dir = web_dir
        self.templates = [str(web_dir / "templates")]
        self.sim_control_url = sim_control_url.rstrip("/") if sim_control_url else None
        self.hosts = security.HostPolicy(config.web)
        self.zone = zoneinfo.ZoneInfo(config.office.timezone)
        self._local = threading.local()
        self._migrated = False
        self._lock = threading.Lock()
        self.extras: dict[str, Any] = {}

    def db(self) -> store.Database:
        """This thread's connection (opened on first use; the schema is migrated once per app)."""
        db = getattr(self._local, "db", None)
        if db is None:
            with self._lock:
                migrate = not self._migrated
                self._migrated = True
            db = store.connect(self.config.database.path, migrate=migrate)
            self._local.db = db
        return db

    def now(self) -> float:
        """The app's clock."""
        return float(self.clock())

    def local_midnight(self, now: float | None = None) -> float:
        """Unix time of the office's last midnight."""
        moment = datetime.fromtimestamp(self.now() if now is None else now, self.zone)
        return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()

    def fmt_time(self, ts: float | None) -> str:
        """A time as the office reads it: DD.MM.YYYY HH:MM in the office's zone."""
        if ts is None:
            return "—"
        return datetime.fromtimestamp(float(ts), self.zone).strftime("%d.%m.%Y %H:%M")

    # --- the request ------------------------------------------------------------------------------------

    def session_token(self) -> str | None:
        """The session cookie's token, if any."""
        return bottle.request.get_cookie(security.SESSION_COOKIE) or None

    def user(self) -> security.User | None:
        """The signed-in user of this request (sessions past their idle or absolute limit are ended)."""
        environ = bottle.request.environ
        if "smsgw.user" in environ:
            return environ["smsgw.user"]
        user = None
        token = self.session_token()
        if token:
            db = self.db()
            row = store_web.get_session(db, token)
            now = self.now()
            web = self.config.web
            if row is not None:
                idle = now - row["last_seen"] > web.session_idle_minutes * 60
                old = now - row["created_at"] > web.session_absolute_hours * 3600
                if idle or old or row["u_disabled"]:
                    store_web.delete_session(db, token)
                    environ["smsgw.expired"] = True
                else:
                    req = bottle.request
                    # A page refreshing itself (GET …part) is not a person at the keyboard: an open dashboard
                    # must not keep an unattended session alive past its idle limit.
                    polling = req.method == "GET" and req.path.endswith(".part")
                    if now - row["last_seen"] > 5 and not polling:  # spare the disk a write per request
                        store_web.touch_session(db, token, now)
                    user = security.User(row["user_id"], row["u_username"], Role(row["u_role"]),
                                         row["u_lang"] or i18n.pick_language(bottle.request.get_header("Accept-Language")),
                                         row["u_contact_id"], row["csrf"])
        environ["smsgw.user"] = user
        return user

    def lang(self) -> str:
        """The language of this request: the user's choice, else the browser's."""
        user = self.user()
        return user.lang if user else i18n.pick_language(bottle.request.get_header("Accept-Language"))

    def t(self) -> Callable[..., str]:
        """The translator of this request."""
        return i18n.translator(self.lang())

    def render(self, name: str, **values: Any) -> str:
        """Render a template with the layout's common values."""
        user = self.user()
        lang = self.lang()
        common = {
            "t": i18n.translator(lang), "lang": lang, "user": user, "csrf": user.csrf if user else "",
            "path": bottle.request.path, "office": self.config.office.name, "fmt_time": self.fmt_time,
            "demo": bool(self.sim_control_url), "urlq": lambda v: urllib.parse.quote(str(v), safe="+"), "notice": "", "error": "", "features": self.extras.get("features", {}),
        }
        common.update(values)
        bottle.response.content_type = "text/html; charset=utf-8"
        return bottle.template(name, template_lookup=self.templates, **common)

    def form(self, name: str, default: str = "") -> str:
        """A form field as text (UTF-8 decoded); too long a field is a 400, never silently cut."""
        value = bottle.request.forms.getunicode(name)
        if value is None:
            return default
        if len(value) > MAX_FORM_FIELD:
            bottle.abort(400, "field too long")
        return value

    def query(self, name: str, default: str = "") -> str:
        """A query-string parameter as text."""
        value = bottle.request.query.getunicode(name)
        return default if value is None else value[:MAX_FORM_FIELD]

    def audit(self, action: str, target: str | None = None, **detail: Any) -> None:
        """Write one audit line for the signed-in user."""
        from gateway.store import users

        user = self.user()
        users.audit(self.db(), user.username if user else "anonymous", action, self.now(), target=target, **detail)

    # --- guards -----------------------------------------------------------------------------------------

    def check_post(self, user: security.User | None) -> None:
        """Refuse a POST whose Origin is foreign or whose CSRF token is wrong."""
        req = bottle.request
        if not security.origin_ok(req.get_header("Origin"), req.get_header("Referer"), req.get_header("Host")):
            bottle.abort(403, "cross-origin request refused")
        given = req.forms.get("csrf") or req.get_header("X-CSRF-Token")
        if user is None or not security.same_token(given, user.csrf):
            bottle.abort(403, "missing or wrong CSRF token")


def json_response(data: Any, status: int = 200) -> str:
    """Serialise data as a JSON response body."""
    bottle.response.status = status
    bottle.response.content_type = "application/json; charset=utf-8"
    return json.dumps(data, ensure_ascii=False, default=str)


def page(web: Web, *roles: Role, as_json: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Guard a handler: signed in (else to /login, or 401 for JSON), role allowed, POST with CSRF and Origin."""
    allowed = set(roles) or set(Role)

    def wrap(handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = web.user()
            req = bottle.request
            if user is None:
                if as_json or req.method != "GET":
                    if req.method != "GET":
                        web.check_post(None)
                    return json_response({"error": "not signed in"}, 401)
                target = req.fullpath + (("?" + req.query_string) if req.query_string else "")
                reason = "&expired=1" if req.environ.get("smsgw.expired") else ""
                bottle.redirect("/login?next=" + urllib.parse.quote(target, safe="") + reason, 303)
            if req.method == "POST":
                web.check_post(user)
            if user.role not in allowed:
                bottle.response.status = 403
                if as_json:
                    return json_response({"error": "forbidden"}, 403)
                return web.render("message.tpl", title=web.t()("common.forbidden"), text="")
            return handler(user, *args, **kwargs)

        return guarded

    return wrap


def safe_next(target: str | None) -> str:
    """A post-login destination that stays on this site (a local path only).

    Browsers and urljoin drop tabs and newlines and read a backslash as a slash, so "/\t/evil.example" would
    become "//evil.example": any control character, space or backslash makes the target unsafe.
    """
    if (not target or not target.startswith("/") or any(ord(ch) <= 0x20 or ch == "\\" for ch in target)
            or target.startswith("//")):
        return "/"
    parts = urllib.parse.urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def int_or(value: str | None, default: int | None = None) -> int | None:
    """An integer from user input, or the default (also for values SQLite's 64-bit integers cannot hold)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return number if -(2**63) <= number < 2**63 else default


def now_ms() -> float:
    """Monotonic milliseconds (for timings)."""
    return time.perf_counter() * 1000
