"""Campaign pages on the campaigns module (issue 6): list with progress, detail with statistics and actions,
and creating a campaign for a segment from the compose page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import bottle

from gateway import campaigns, segments
from gateway.errors import UserInputError
from gateway.states import Role
from gateway.store import campaigns as cstore
from gateway.web import security
from gateway.web.core import Web, int_or, page

STAFF = (Role.ADMIN, Role.OPERATOR)
ACTIONS = {"pause": campaigns.pause, "resume": campaigns.resume, "cancel": campaigns.cancel}
ROLES = ("customer", "agent")


def segment_filters(web: Web) -> dict[str, Any]:
    """Segment filters from the compose form, through the segments module's validation."""
    filters: dict[str, Any] = {}
    role = web.form("role")
    if role in ROLES:
        filters["role"] = [role]
    tags = [t.strip() for t in web.form("tags").split(",") if t.strip()]
    if tags:
        filters["tags_any"] = tags
    agent = int_or(web.form("agent_id"))
    if agent:
        filters["agent_id"] = agent
    if web.form("kind") != "service":
        filters["consent"] = "advertising"
    return segments.validate(filters)


def progress(db: Any, campaign_id: int) -> dict[str, int]:
    """Messages of a campaign: total, finished, delivered, failed."""
    counts = cstore.message_counts(db, campaign_id)
    total = sum(counts.values())
    open_ = sum(counts.get(s, 0) for s in ("queued", "held", "sending", "uncertain"))
    return {"total": total, "done": total - open_, "delivered": counts.get("delivered", 0),
            "failed": counts.get("failed", 0) + counts.get("undelivered", 0)}


def register(app: bottle.Bottle, web: Web) -> None:
    """Add the campaign pages."""

    @app.get("/campaigns")
    @page(web, *STAFF)
    def campaign_list(user: security.User) -> str:
        db = web.db()
        rows = [{**c, "progress": progress(db, c["id"])} for c in cstore.list_campaigns(db, limit=50)]
        return web.render("campaigns.tpl", title=web.t()("nav.campaigns"), rows=rows)

    def detail_page(campaign_id: int, **extra: Any) -> str:
        db = web.db()
        try:
            c = campaigns.get(db, campaign_id)
        except UserInputError:
            bottle.response.status = 404
            return web.render("message.tpl", title=web.t()("common.not_found"), text="")
        preview = None
        if c["state"] in ("draft", "held"):
            try:
                preview = campaigns.preview(db, web.config, campaign_id, now=web.now())
            except UserInputError as exc:
                extra.setdefault("error", str(exc))
        return web.render("campaign.tpl", title=c["name"], c=c, stats=campaigns.stats(db, campaign_id),
                          progress=progress(db, campaign_id), preview=preview, legal=campaigns.LEGAL_NOTICE, **extra)

    @app.get("/campaigns/<campaign_id:int>")
    @page(web, *STAFF)
    def campaign_detail(user: security.User, campaign_id: int) -> str:
        return detail_page(campaign_id)

    @app.get("/ui/campaign/<campaign_id:int>.part")
    @page(web, *STAFF)
    def campaign_part(user: security.User, campaign_id: int) -> str:
        db = web.db()
        try:
            c = campaigns.get(db, campaign_id)
        except UserInputError:
            bottle.response.status = 404
            return ""
        return web.render("campaign_part.tpl", c=c, stats=campaigns.stats(db, campaign_id),
                          progress=progress(db, campaign_id))

    @app.post("/campaigns/<campaign_id:int>/<action>")
    @page(web, *STAFF)
    def campaign_action(user: security.User, campaign_id: int, action: str) -> Any:
        db = web.db()
        now = web.now()
        try:
            if action == "start":
                campaigns.start(db, web.config, campaign_id, now=now, actor=user.username,
                                acknowledge_legal=web.form("legal") == "1")
            elif action == "override" and user.is_admin:
                campaigns.override_hold(db, campaign_id, now=now, actor=user.username)
            elif action in ACTIONS:
                ACTIONS[action](db, campaign_id, now=now, actor=user.username)
            else:
                bottle.abort(400, "unknown action")
        except UserInputError as exc:
            bottle.response.status = 400
            return detail_page(campaign_id, error=str(exc))
        bottle.redirect(f"/campaigns/{campaign_id}", 303)

    @app.post("/campaigns")
    @page(web, *STAFF)
    def campaign_create(user: security.User) -> Any:
        db = web.db()
        now = web.now()
        text = web.form("text")
        kind = "service" if web.form("kind") == "service" else "advertising"
        when = web.form("when").strip()
        try:
            filters = segment_filters(web)
            start_at = None
            if when:
                try:
                    start_at = datetime.strptime(when, "%Y-%m-%dT%H:%M").replace(tzinfo=web.zone).timestamp()
                except ValueError:
                    raise UserInputError(web.t()("compose.bad_time")) from None
            name = web.form("name").strip() or text.strip()[:40] or "—"
            campaign_id = campaigns.create(db, web.config, name=name, message_class=kind, kind="bulk", now=now,
                                           actor=user.username, body=text, filters=filters,
                                           schedule="at" if start_at else "now", start_at=start_at)
        except UserInputError as exc:
            bottle.response.status = 400
            return web.render("message.tpl", title=web.t()("common.error"), text=str(exc))
        bottle.redirect(f"/campaigns/{campaign_id}", 303)

    @app.post("/ui/segment-count")
    @page(web, *STAFF, as_json=True)
    def segment_count(user: security.User) -> str:
        from gateway.web.core import json_response

        try:
            filters = segment_filters(web)
        except UserInputError as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response({"recipients": segments.count(web.db(), filters, now=web.now(),
                                                           zone=web.config.office.timezone)})
