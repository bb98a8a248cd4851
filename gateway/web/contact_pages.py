"""Contact pages on the contacts module (issue 6): search, a contact with its consent history, edit, CSV export.

Agents see and edit only their own customers (the owner check happens here, before any change)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import bottle

from gateway import contacts
from gateway.errors import UserInputError
from gateway.store import contacts as store_contacts
from gateway.web import security
from gateway.web.core import Web, int_or, page

PAGE_SIZE = 50


def register(app: bottle.Bottle, web: Web) -> None:
    """Add the contact pages."""

    def visible(user: security.User, contact: dict[str, Any] | None) -> bool:
        return contact is not None and (user.is_staff or (user.contact_id is not None
                                                          and contact["agent_id"] == user.contact_id))

    @app.get("/contacts")
    @page(web)
    def contact_list(user: security.User) -> str:
        q = web.query("q").strip()
        offset = max(0, int_or(web.query("offset"), 0) or 0)
        if user.is_agent and user.contact_id is None:
            rows: list[dict[str, Any]] = []
        else:
            rows = store_contacts.search(web.db(), q, agent_id=user.contact_id if user.is_agent else None,
                                         limit=PAGE_SIZE, offset=offset)
        return web.render("contacts.tpl", title=web.t()("nav.contacts"), rows=rows, q=q, offset=offset,
                          page_size=PAGE_SIZE)

    @app.get("/contacts/export.csv")
    @page(web, "admin", "operator")
    def contact_export(user: security.User) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "contacts.csv"
            n = contacts.export_csv(web.db(), path)
            data = path.read_bytes()
        web.audit("contact.export", rows=n)
        bottle.response.content_type = "text/csv; charset=utf-8"
        bottle.response.set_header("Content-Disposition", 'attachment; filename="contacts.csv"')
        return data

    def detail(user: security.User, contact_id: int, **extra: Any) -> str:
        db = web.db()
        contact = store_contacts.get(db, contact_id)
        if not visible(user, contact):
            bottle.response.status = 404
            return web.render("message.tpl", title=web.t()("common.not_found"), text="")
        assert contact is not None
        return web.render("contact.tpl", title=contact["name"] or contact["phone"], c=contact,
                          history=store_contacts.consent_history(db, contact["phone"]), **extra)

    @app.get("/contacts/<contact_id:int>")
    @page(web)
    def contact_detail(user: security.User, contact_id: int) -> str:
        return detail(user, contact_id, notice=web.t()("common.saved") if web.query("saved") else "")

    @app.post("/contacts/<contact_id:int>")
    @page(web)
    def contact_edit(user: security.User, contact_id: int) -> Any:
        db = web.db()
        if not visible(user, store_contacts.get(db, contact_id)):
            bottle.abort(404, "not found")
        try:
            contacts.edit(db, contact_id, now=web.now(), actor=user.username, name=web.form("name").strip()[:200],
                          notes=web.form("notes")[:2000])
        except UserInputError as exc:
            bottle.response.status = 400
            return detail(user, contact_id, error=str(exc))
        bottle.redirect(f"/contacts/{contact_id}?saved=1", 303)
