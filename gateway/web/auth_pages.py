"""Sign in, sign out, and the language switch."""

from __future__ import annotations

import functools
import math
from typing import Any

import bottle

from gateway import auth
from gateway.store import users
from gateway.store import web as store_web
from gateway.web import i18n, security
from gateway.web.core import Web, page, safe_next


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when the name is unknown, so both answers take the same time."""
    return auth.hash_password(security.new_token())


def _cookie(name: str, value: str, max_age: int | None = None) -> None:
    bottle.response.set_cookie(name, value, path="/", httponly=True, samesite="strict", max_age=max_age)


def register(app: bottle.Bottle, web: Web) -> None:
    """Add the sign-in routes."""

    def login_form(error: str = "", status: int = 200, username: str = "") -> str:
        token = security.new_token()
        _cookie(security.LOGIN_CSRF_COOKIE, token, max_age=3600)
        bottle.response.status = status
        return web.render("login.tpl", error=error, login_csrf=token, username=username,
                          next=safe_next(web.query("next")))

    @app.get("/login")
    def login_get() -> str:
        if web.user() is not None:
            bottle.redirect(safe_next(web.query("next")), 303)
        t = web.t()
        return login_form(t("login.expired") if web.query("expired") else "")

    @app.post("/login")
    def login_post() -> Any:
        req = bottle.request
        t = web.t()
        if not security.origin_ok(req.get_header("Origin"), req.get_header("Referer"), req.get_header("Host")):
            bottle.abort(403, "cross-origin request refused")
        if not security.same_token(req.forms.get("csrf"), req.get_cookie(security.LOGIN_CSRF_COOKIE)):
            return login_form(t("login.csrf"), 403)
        username = web.form("username").strip()[:100]
        password = web.form("password")
        db = web.db()
        now = web.now()
        failures, locked_until = store_web.throttle_state(db, username)
        if locked_until is not None and locked_until > now:
            minutes = max(1, math.ceil((locked_until - now) / 60)) if locked_until < security.HARD_LOCK_UNTIL else 0
            users.audit(db, username or "?", "login.refused_locked", now, ip=req.remote_addr)
            text = t("login.locked", minutes=minutes) if minutes else t("login.failed")
            return login_form(text, 429, username)
        row = users.get_user(db, username) if username else None
        # Counted as a failure before the (slow) password check and forgiven on success: parallel guesses each
        # see the others' count, so four server threads cannot quadruple the free tries.
        count = store_web.record_failure(db, username, None, now)
        store_web.set_lock(db, username, security.lock_after(count, now))
        ok = False
        if len(password.encode("utf-8")) <= security.MAX_PASSWORD_BYTES:
            ok = auth.verify_password(password, row["password_hash"] if row else _dummy_hash())
        if not ok or row is None or row["disabled"]:
            users.audit(db, username or "?", "login.failed", now, ip=req.remote_addr, failures=count)
            return login_form(t("login.failed"), 401, username)
        # Rotate: whatever session the browser had ends; a new token is issued.
        old = web.session_token()
        if old:
            store_web.delete_session(db, old)
        token = security.new_token()
        store_web.clear_failures(db, username)
        store_web.create_session(db, token, row["id"], security.new_token(), now, req.remote_addr)
        purge_idle = now - web.config.web.session_idle_minutes * 60
        store_web.purge_sessions(db, purge_idle, now - web.config.web.session_absolute_hours * 3600)
        users.audit(db, row["username"], "login", now, ip=req.remote_addr)
        _cookie(security.SESSION_COOKIE, token)
        bottle.response.delete_cookie(security.LOGIN_CSRF_COOKIE, path="/")
        bottle.redirect(safe_next(req.forms.get("next")), 303)

    @app.post("/logout")
    @page(web)
    def logout(user: security.User) -> None:
        token = web.session_token()
        if token:
            store_web.delete_session(web.db(), token)
        web.audit("logout")
        bottle.response.delete_cookie(security.SESSION_COOKIE, path="/")
        bottle.redirect("/login", 303)

    @app.post("/lang")
    @page(web)
    def set_lang(user: security.User) -> None:
        lang = web.form("lang")
        if lang not in i18n.LANGS:
            lang = "en" if user.lang == "ru" else "ru"
        users.update_user(web.db(), user.id, web.now(), lang=lang)
        web.audit("user.lang", target=user.username, lang=lang)
        bottle.redirect(safe_next(web.form("next")), 303)
