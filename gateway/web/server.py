"""Serve the WSGI app with waitress in a background thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from waitress.server import create_server

from gateway.config import Config
from gateway.web import make_app

log = logging.getLogger("gateway.web")


class WebServer:
    """A waitress server running in its own thread; `close()` stops it."""

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.time) -> None:
        self.server = create_server(make_app(config, clock=clock), host=config.web.bind, port=config.web.port,
                                    threads=4, ident="smsgw", clear_untrusted_proxy_headers=True)
        self.thread = threading.Thread(target=self.server.run, name="web", daemon=True)

    @property
    def port(self) -> int:
        """The port actually bound (useful when the config asked for 0)."""
        return int(self.server.effective_port)

    def start(self) -> "WebServer":
        """Start serving."""
        self.thread.start()
        log.info("web page on http://%s:%d/", self.server.effective_host, self.port)
        return self

    def close(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.close()
        self.thread.join(timeout=5)


def serve(config: Config, *, clock: Callable[[], float] = time.time) -> WebServer:
    """Start the web page for config."""
    return WebServer(config, clock=clock).start()
