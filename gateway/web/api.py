"""The JSON API under `/api/v1` (API keys, no cookies), its OpenAPI document, `/metrics` and `/health`.

Authentication: `Authorization: Bearer <key>` (or `X-API-Key: <key>`); keys are created by an admin on the
settings page and stored only as digests. The API never reads the session cookie, so CSRF does not apply to it.
"""

from __future__ import annotations

import json
from typing import Any

import bottle

from gateway import outbox, sms, store
from gateway.errors import UserInputError
from gateway.states import MessageClass, Priority
from gateway.store import contacts as store_contacts
from gateway.store import modems as store_modems
from gateway.store import outbox as store_outbox
from gateway.store import users
from gateway.store import web as store_web
from gateway.web.core import Web, int_or, json_response

MAX_JSON = 64 * 1024
MAX_INBOX_PAGE = 500


class ApiError(Exception):
    """An API request refused with a status and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _key(web: Web) -> dict[str, Any]:
    header = bottle.request.get_header("Authorization") or ""
    token = header[7:].strip() if header.lower().startswith("bearer ") else (
        bottle.request.get_header("X-API-Key") or "").strip()
    if not token:
        raise ApiError(401, "an API key is required: Authorization: Bearer <key>")
    row = store_web.api_key_by_token(web.db(), token)
    if row is None:
        raise ApiError(401, "unknown or revoked API key")
    store_web.touch_api_key(web.db(), row["id"], web.now())
    return row


def _body() -> dict[str, Any]:
    raw = bottle.request.body.read(MAX_JSON + 1)
    if len(raw) > MAX_JSON:
        raise ApiError(413, f"the JSON body is larger than {MAX_JSON} bytes")
    try:
        data = json.loads(raw.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def _text_field(data: dict[str, Any], name: str, required: bool = True, limit: int = 10_000) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise ApiError(400, f"'{name}' must be a non-empty string")
    if len(value) > limit:
        raise ApiError(400, f"'{name}' is longer than {limit} characters")
    return value


def message_json(db: store.Database, row: dict[str, Any]) -> dict[str, Any]:
    """The API's view of an outbound message, with its parts."""
    return {
        "id": row["id"], "to": row["phone"], "state": row["state"], "class": row["class"],
        "priority": "transactional" if row["priority"] == Priority.TRANSACTIONAL else "bulk",
        "parts_total": row["parts_total"], "encoding": row["encoding"], "attempts": row["attempts"],
        "error": row["last_error"], "idempotency_key": row["idempotency_key"], "created_at": row["created_at"],
        "sent_at": row["sent_at"], "done_at": row["done_at"],
        "parts": [{"seq": p["seq"], "state": p["state"], "status": p["status"], "sent_at": p["sent_at"],
                   "report_at": p["report_at"]} for p in store_outbox.parts(db, row["id"])],
    }


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 description of `/api/v1`."""
    err = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "smsgw API", "version": "1",
                 "description": "Send SMS through the office gateway, read replies, keep contacts in sync. "
                                "Webhooks (configured on the settings page) POST JSON events signed with "
                                "HMAC-SHA256: header X-Smsgw-Signature = 'sha256=' + hex(HMAC(secret, "
                                "timestamp + '.' + body)), header X-Smsgw-Timestamp; retried with exponential "
                                "back-off until a 2xx answer."},
        "components": {
            "securitySchemes": {"key": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
                "SendRequest": {"type": "object", "required": ["to", "text"], "properties": {
                    "to": {"type": "string", "example": "+79161234567"},
                    "text": {"type": "string"},
                    "class": {"type": "string", "enum": ["service", "advertising"], "default": "service"},
                    "priority": {"type": "string", "enum": ["transactional", "bulk"], "default": "transactional"},
                    "idempotency_key": {"type": "string", "description": "a repeat returns the first message"},
                    "not_before": {"type": "number", "description": "Unix time; send no earlier"}}},
                "Message": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "to": {"type": "string"},
                    "state": {"type": "string", "enum": ["queued", "sending", "sent", "delivered", "undelivered",
                                                         "failed", "cancelled", "uncertain", "held"]},
                    "parts_total": {"type": "integer"}, "error": {"type": ["string", "null"]},
                    "parts": {"type": "array", "items": {"type": "object"}}}},
                "Contact": {"type": "object", "required": ["phone"], "properties": {
                    "phone": {"type": "string"}, "name": {"type": "string"},
                    "advertising_consent": {"type": "boolean"},
                    "consent_source": {"type": "string", "description": "required with advertising_consent"}}},
                "Inbound": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "from": {"type": "string"}, "text": {"type": ["string", "null"]},
                    "received_at": {"type": "number"}, "partial": {"type": "boolean"}, "state": {"type": "string"}}},
            }},
        "security": [{"key": []}],
        "paths": {
            "/api/v1/messages": {"post": {
                "summary": "Queue one SMS",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/SendRequest"}}}},
                "responses": {"201": {"description": "queued", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Message"}}}},
                              "200": {"description": "the idempotency key was used before: that message"},
                              "400": err, "401": err}}},
            "/api/v1/messages/{id}": {"get": {
                "summary": "A message's status and its parts' delivery",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "the message", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Message"}}}}, "404": err, "401": err}}},
            "/api/v1/contacts": {"post": {
                "summary": "Create or update a contact by phone number",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Contact"}}}},
                "responses": {"200": {"description": "updated"}, "201": {"description": "created"},
                              "400": err, "401": err}}},
            "/api/v1/inbox": {"get": {
                "summary": "Inbound messages after an id, oldest first",
                "parameters": [{"name": "since_id", "in": "query", "schema": {"type": "integer", "default": 0}},
                               {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 100,
                                                                           "maximum": MAX_INBOX_PAGE}}],
                "responses": {"200": {"description": "messages and the next since_id", "content": {
                    "application/json": {"schema": {"type": "object", "properties": {
                        "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Inbound"}},
                        "next_since_id": {"type": "integer"}}}}}}, "401": err}}},
        },
    }


def inbound_json(row: dict[str, Any]) -> dict[str, Any]:
    """The API's (and the webhook's) view of an inbound message."""
    return {"id": row["id"], "from": row["phone"], "sender_kind": row.get("sender_kind"), "text": row["body"],
            "sent_at": row.get("sent_at"), "received_at": row["received_at"], "partial": bool(row.get("partial")),
            "state": row.get("state")}


def register(app: bottle.Bottle, web: Web) -> None:
    """Add `/api/v1`, `/metrics` and `/health`."""

    def api(handler: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> str:
            try:
                key = _key(web)
                return handler(key, *args, **kwargs)
            except ApiError as exc:
                return json_response({"error": str(exc)}, exc.status)
            except UserInputError as exc:
                return json_response({"error": str(exc)}, 400)

        return wrapped

    @app.post("/api/v1/messages")
    @api
    def send(key: dict[str, Any]) -> str:
        data = _body()
        to = _text_field(data, "to", limit=64)
        text = _text_field(data, "text")
        klass = data.get("class", "service")
        if klass not in ("service", "advertising"):
            raise ApiError(400, "'class' must be 'service' or 'advertising'")
        try:
            priority = Priority.parse(str(data.get("priority", "transactional")))
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        idem = _text_field(data, "idempotency_key", required=False, limit=200)
        not_before = data.get("not_before")
        if not_before is not None and (isinstance(not_before, bool) or not isinstance(not_before, (int, float))):
            raise ApiError(400, "'not_before' must be a Unix time in seconds")
        db = web.db()
        now = web.now()
        existing = store_web.outbox_id_by_key(db, f"api:{key['id']}:{idem}") if idem else None
        with store.immediate(db):
            message_id = outbox.submit(db, web.config, str(to), str(text), now=now, priority=priority,
                                       message_class=MessageClass(klass), not_before=not_before,
                                       idempotency_key=f"api:{key['id']}:{idem}" if idem else None,
                                       created_by=f"api:{key['name']}")
            if existing is None:
                users.audit(db, f"api:{key['name']}", "api.send", now, target=str(message_id), length=len(str(text)))
        row = store_outbox.get(db, message_id)
        assert row is not None
        return json_response(message_json(db, row), 200 if existing else 201)

    @app.get("/api/v1/messages/<message_id:int>")
    @api
    def status(key: dict[str, Any], message_id: int) -> str:
        db = web.db()
        row = store_outbox.get(db, message_id)
        if row is None:
            raise ApiError(404, f"no message {message_id}")
        return json_response(message_json(db, row))

    @app.post("/api/v1/contacts")
    @api
    def contact_upsert(key: dict[str, Any]) -> str:
        data = _body()
        raw = _text_field(data, "phone", limit=64)
        try:
            phone = sms.normalise_number(str(raw), web.config.office.default_region)
        except sms.InvalidNumber as exc:
            raise ApiError(400, str(exc)) from None
        name = _text_field(data, "name", required=False, limit=200)
        consent = data.get("advertising_consent")
        if consent is not None and not isinstance(consent, bool):
            raise ApiError(400, "'advertising_consent' must be true or false")
        source = _text_field(data, "consent_source", required=False, limit=200)
        if consent is not None and not source:
            raise ApiError(400, "'consent_source' is required with 'advertising_consent' (where it was given)")
        db = web.db()
        now = web.now()
        actor = f"api:{key['name']}"
        with store.immediate(db):
            existing = store_contacts.get_by_phone(db, phone)
            contact_id = store_contacts.ensure(db, phone, now, **({"name": name} if name else {}))
            if existing is not None and name is not None and name != existing["name"]:
                store_contacts.update(db, contact_id, {"name": name}, now)
            if consent is not None:
                store_contacts.record_consent(db, phone, MessageClass.ADVERTISING, consent, f"api: {source}", now)
            users.audit(db, actor, "api.contact_upsert", now, target=phone, created=existing is None)
        row = store_contacts.get_by_phone(db, phone) or {}
        return json_response({"id": contact_id, "phone": phone, "name": row.get("name"),
                              "advertising_consent": bool(row.get("consent_advertising")),
                              "opted_out": row.get("opted_out_at") is not None}, 201 if existing is None else 200)

    @app.get("/api/v1/inbox")
    @api
    def inbox(key: dict[str, Any]) -> str:
        since = int_or(bottle.request.query.get("since_id"), 0) or 0
        limit = max(1, min(MAX_INBOX_PAGE, int_or(bottle.request.query.get("limit"), 100) or 100))
        rows = store_web.inbox_since(web.db(), since, limit)
        return json_response({"messages": [inbound_json(r) for r in rows],
                              "next_since_id": rows[-1]["id"] if rows else since})

    @app.get("/api/v1/openapi.json")
    def openapi_doc() -> str:
        return json_response(openapi())

    @app.get("/health")
    def health() -> str:
        db = web.db()
        modems = store_modems.list_modems(db)
        queue = store_web.open_counts(db)
        online = [m for m in modems if m["status"] == "online"]
        ok = bool(online) or not web.config.modems
        return json_response({"ok": ok, "modems_online": len(online), "modems_known": len(modems),
                              "queue": {k: v for k, v in queue.items() if v}}, 200 if ok else 503)

    @app.get("/metrics")
    def metrics() -> str:
        if web.user() is None:
            try:
                _key(web)
            except ApiError as exc:
                return json_response({"error": str(exc)}, exc.status)
        bottle.response.content_type = "text/plain; version=0.0.4; charset=utf-8"
        return prometheus(web)


def _label(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus(web: Web) -> str:
    """The gateway's gauges in the Prometheus text exposition format."""
    db = web.db()
    midnight = web.local_midnight()
    lines = ["# HELP smsgw_outbox_messages Outbound messages by state.", "# TYPE smsgw_outbox_messages gauge"]
    for state, n in sorted(store_web.outbox_state_counts(db).items()):
        lines.append(f'smsgw_outbox_messages{{state="{_label(state)}"}} {n}')
    lines += ["# HELP smsgw_inbox_messages Inbound messages by handling state.", "# TYPE smsgw_inbox_messages gauge"]
    for state, n in sorted(store_web.inbox_state_counts(db).items()):
        lines.append(f'smsgw_inbox_messages{{state="{_label(state)}"}} {n}')
    modems = store_modems.list_modems(db)
    lines += ["# HELP smsgw_modem_up 1 when the modem is online.", "# TYPE smsgw_modem_up gauge"]
    for m in modems:
        lines.append(f'smsgw_modem_up{{modem="{_label(m["name"] or m["id"])}",imei="{_label(m["imei"])}"}} '
                     f'{int(m["status"] == "online")}')
    lines += ["# HELP smsgw_modem_signal_dbm Last signal strength.", "# TYPE smsgw_modem_signal_dbm gauge"]
    for m in modems:
        if m["signal_dbm"] is not None:
            lines.append(f'smsgw_modem_signal_dbm{{modem="{_label(m["name"] or m["id"])}"}} {m["signal_dbm"]}')
    lines += ["# HELP smsgw_modem_parts_sent_today SMS parts submitted since the office's midnight.",
              "# TYPE smsgw_modem_parts_sent_today gauge"]
    for m in modems:
        lines.append(f'smsgw_modem_parts_sent_today{{modem="{_label(m["name"] or m["id"])}"}} '
                     f'{store_outbox.sent_since(db, m["id"], midnight)}')
    lines += ["# HELP smsgw_webhook_deliveries Webhook deliveries by state.", "# TYPE smsgw_webhook_deliveries gauge"]
    for state, n in sorted(store_web.delivery_counts(db).items()):
        lines.append(f'smsgw_webhook_deliveries{{state="{state}"}} {n}')
    return "\n".join(lines) + "\n"
