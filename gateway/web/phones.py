"""The demo's phone panel: virtual phones of the simulator, proxied server-side so the page stays same-origin.

Only present when the app was built with `sim_control_url` (by `smsgw demo`). The browser talks to
`/phones/api/...` on this server; this module forwards to the simulator's JSON control API on loopback.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import bottle

from gateway.states import Role
from gateway.store import web as store_web
from gateway.web import security
from gateway.web.core import Web, json_response, page

STAFF = (Role.ADMIN, Role.OPERATOR)
_NUMBER = re.compile(r"\+?\d{3,15}")


class SimulatorDown(Exception):
    """The simulator's control API did not answer."""


def call(web: Web, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """One request to the simulator's control API; JSON in, JSON out."""
    assert web.sim_control_url
    data = json.dumps(body).encode("utf-8") if body is not None else None
    req = urllib.request.Request(web.sim_control_url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        try:
            return {"error": json.loads(exc.read().decode("utf-8")).get("error", str(exc)), "status": exc.code}
        except (ValueError, AttributeError):
            return {"error": str(exc), "status": exc.code}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SimulatorDown(str(exc)) from None


def register(app: bottle.Bottle, web: Web) -> None:
    """Add the phone panel (only when a simulator control URL is known)."""
    if not web.sim_control_url:
        return

    def number(raw: str) -> str:
        text = raw.strip().replace(" ", "")
        if not _NUMBER.fullmatch(text):
            bottle.abort(400, "not a phone number")
        return text if text.startswith("+") else "+" + text

    @app.get("/phones")
    @page(web, *STAFF)
    def phones_page(user: security.User) -> str:
        t = web.t()
        try:
            modems = call(web, "GET", "/modems")
            error = ""
        except SimulatorDown:
            modems, error = [], t("ph.unavailable")
        db = web.db()
        people = store_web.agents(db) + [
            c for a in store_web.agents(db) for c in store_web.agent_customers(db, a["id"], search=None, limit=20)]
        return web.render("phones.tpl", title=t("ph.title"), modems=modems, people=people, error=error)

    @app.get("/phones/api/modems")
    @page(web, *STAFF, as_json=True)
    def api_modems(user: security.User) -> str:
        try:
            return json_response(call(web, "GET", "/modems"))
        except SimulatorDown as exc:
            return json_response({"error": str(exc)}, 502)

    @app.get("/phones/api/<msisdn>/inbox")
    @page(web, *STAFF, as_json=True)
    def api_inbox(user: security.User, msisdn: str) -> str:
        target = urllib.parse.quote(number(msisdn), safe="")
        try:
            result = call(web, "GET", f"/phones/{target}/inbox")
        except SimulatorDown as exc:
            return json_response({"error": str(exc)}, 502)
        if isinstance(result, dict) and result.get("status") == 404:
            return json_response([])  # a phone that never received anything yet
        return json_response(result)

    @app.post("/phones/api/<msisdn>/send")
    @page(web, *STAFF, as_json=True)
    def api_send(user: security.User, msisdn: str) -> str:
        sender = number(msisdn)
        to = number(web.form("to"))
        text = web.form("text")
        if not text.strip():
            return json_response({"error": "empty text"}, 400)
        try:
            result = call(web, "POST", f"/phones/{urllib.parse.quote(sender, safe='')}/send", {"to": to, "text": text})
        except SimulatorDown as exc:
            return json_response({"error": str(exc)}, 502)
        web.audit("demo.phone_send", target=sender, to=to, length=len(text))
        return json_response(result, 400 if isinstance(result, dict) and "error" in result else 200)
