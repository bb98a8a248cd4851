"""Serve the WSGI app with waitress in a background thread, with the webhook dispatcher beside it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from waitress.server import create_server

from gateway.config import Config
from gateway.web import make_app
from gateway.web.webhooks import Dispatcher

log = logging.getLogger("gateway.web")


class WebServer:
    """A waitress server running in its own thread; `close()` stops it."""

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.time,
                 sim_control_url: str | None = None, webhooks: bool = True) -> None:
        self.server = create_server(make_app(config, clock=clock, sim_control_url=sim_control_url),
                                    host=config.web.bind, port=config.web.port, threads=4, ident="smsgw",
                                    clear_untrusted_proxy_headers=True, max_request_body_size=8 * 1024 * 1024)
        self.thread = threading.Thread(target=self.server.run, name="web", daemon=True)
        self.dispatcher = Dispatcher(config, clock=clock) if webhooks else None

    @property
    def port(self) -> int:
        """The port actually bound (useful when the config asked for 0)."""
        return int(self.server.effective_port)

    def start(self) -> "WebServer":
        """Start serving (and delivering webhooks)."""
        self.thread.start()
        if self.dispatcher:
            self.dispatcher.start()
        log.info("web page on http://%s:%d/", self.server.effective_host, self.port)
        return self

    def close(self) -> None:
        """Stop serving and wait for the threads.

        The sockets are closed by the server's own loop thread (through its trigger): closing them from here
        while that thread polls them makes the poll fail with EBADF and print a traceback.
        """
        if self.dispatcher:
            self.dispatcher.stop()
        server = self.server

        def shut() -> None:
            for channel in list(server._map.values()):  # the listening socket, the trigger, open connections
                channel.close()

        if self.thread.is_alive():
            server.trigger.pull_trigger(shut)
            self.thread.join(timeout=5)
        else:
            server.close()
        server.task_dispatcher.shutdown()


def serve(config: Config, *, clock: Callable[[], float] = time.time, sim_control_url: str | None = None,
          webhooks: bool = True) -> WebServer:
    """Start the web page for config."""
    return WebServer(config, clock=clock, sim_control_url=sim_control_url, webhooks=webhooks).start()
