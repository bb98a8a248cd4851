"""The LAN web page: `make_app()` builds a plain WSGI callable (bottle); `server.serve()` runs it in waitress.

Until the web issue lands, the app serves only `/health` (JSON, 200/503 from modem and queue state) and a
notice page; it shows no data, so there is nothing to put behind a login yet.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import bottle

from gateway import store
from gateway.config import Config
from gateway.store import modems as store_modems
from gateway.store import outbox as store_outbox


def make_app(config: Config, *, clock: Callable[[], float] = time.time) -> bottle.Bottle:
    """The WSGI application."""
    app = bottle.Bottle()

    @app.get("/health")
    def health() -> str:
        db = store.connect(config.database.path, migrate=False)
        try:
            modems = store_modems.list_modems(db)
            counts = store_outbox.counts(db)
        finally:
            db.close()
        online = [m for m in modems if m["status"] == "online"]
        ok = bool(online) or not config.modems
        bottle.response.status = 200 if ok else 503
        bottle.response.content_type = "application/json"
        return json.dumps({"ok": ok, "modems_online": len(online), "modems_known": len(modems),
                           "queue": {k: v for k, v in counts.items() if v}})

    @app.get("/")
    def index() -> str:
        bottle.response.content_type = "text/html; charset=utf-8"
        return ("<!doctype html><meta charset=utf-8><title>smsgw</title>"
                "<h1>smsgw работает / is running</h1>"
                "<p>Веб-интерфейс появится в следующей версии. The web interface arrives in a later version; "
                "use <code>smsgw status</code> meanwhile.</p>")

    return app
