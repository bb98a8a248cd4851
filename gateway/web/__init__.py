"""The LAN web page: `make_app()` builds a plain WSGI callable (bottle); `server.serve()` runs it in waitress.

Pages are server-rendered SimpleTemplates from `web/templates` (escaping kept: no `{{!…}}` on anything a user
or an SMS wrote) with plain JS from `web/static` for live refresh and previews; no CDN. Every page is behind a
login; the JSON API under `/api/v1` uses API keys instead of cookies. Security rules: `gateway.web.security`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import bottle

from gateway.config import Config
from gateway.web import security
from gateway.web.core import WEB_DIR, Web

bottle.BaseRequest.MEMFILE_MAX = 1024 * 1024   # request bodies above 1 MiB spool to disk; uploads are capped below
MAX_BODY = 5 * 1024 * 1024                     # a CSV upload larger than this is refused (413)


class App(bottle.Bottle):
    """A bottle app that refuses foreign Host headers and adds the security headers to every response."""

    web: Web

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self.web.hosts.allows(environ.get("HTTP_HOST")):
            start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8"),
                                               *security.SECURITY_HEADERS.items()])
            return [b"Unknown host name / \xd0\x9d\xd0\xb5\xd0\xb8\xd0\xb7\xd0\xb2\xd0\xb5\xd1\x81\xd1\x82\xd0\xbd"
                    b"\xd0\xbe\xd0\xb5 \xd0\xb8\xd0\xbc\xd1\x8f \xd1\x81\xd0\xb5\xd1\x80\xd0\xb2\xd0\xb5\xd1\x80\xd0\xb0\n"]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            start_response("413 Payload Too Large", [("Content-Type", "text/plain; charset=utf-8"),
                                                     *security.SECURITY_HEADERS.items()])
            return [b"request body too large\n"]

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            extra = [(k, v) for k, v in security.SECURITY_HEADERS.items() if k.lower() not in present]
            return start_response(status, headers + extra, exc_info) if exc_info else start_response(
                status, headers + extra)

        return super().__call__(environ, start)


def make_app(config: Config, *, clock: Callable[[], float] = time.time, sim_control_url: str | None = None,
             web_dir: Path | None = None) -> bottle.Bottle:
    """The WSGI application; `sim_control_url` (the simulator's control API) turns on the demo's phone panel."""
    from gateway.web import api, auth_pages, pages, phones

    app = App()
    web = Web(config, clock, web_dir or WEB_DIR, sim_control_url)
    app.web = web
    static_root = str(web.web_dir / "static")

    @app.get("/static/<path:path>")
    def static(path: str) -> Any:
        response = bottle.static_file(path, root=static_root)
        response.set_header("Cache-Control", "max-age=300")
        return response

    auth_pages.register(app, web)
    try:
        from gateway.web import campaign_pages
    except ImportError:  # the campaigns module is not part of this build
        pass
    else:
        campaign_pages.register(app, web)
    try:
        from gateway.web import contact_pages
    except ImportError:  # the contacts module is not part of this build
        pass
    else:
        contact_pages.register(app, web)
    try:
        from gateway.web import order_pages
    except ImportError:  # the orders module is not part of this build
        pass
    else:
        order_pages.register(app, web)
    pages.register(app, web)
    api.register(app, web)
    phones.register(app, web)
    return app
