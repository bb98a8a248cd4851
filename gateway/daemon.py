"""The composition root: config → logging → database → modem workers → web server; signals; systemd notify."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway import notify, store
from gateway.config import Config
from gateway.errors import SmsgwError

log = logging.getLogger("gateway.daemon")


@dataclass
class Daemon:
    """A running gateway; `start()` returns once everything is up, `stop()` shuts it down in order."""

    config: Config
    clock: Callable[[], float] = time.time
    stopping: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _stops: list[Callable[[], None]] = field(default_factory=list)
    web_server: object | None = None
    supervisor: object | None = None
    clock_ok: Callable[[], bool] | None = None

    def start(self) -> None:
        """Open and check the database, recover after a crash, start the workers and the web server."""
        db = store.connect(self.config.database.path, check=True)
        try:
            self._recover(db)
        finally:
            db.close()
        # The web page first: a port already in use stops the start before any modem is touched.
        self._start_web()
        self._start_workers()
        self._start_jobs()

    def _recover(self, db) -> None:
        from gateway import outbox

        outbox.recover_after_crash(db, self.config, now=self.clock())
        try:
            from gateway import commands
        except ImportError:
            return
        handled = commands.handle_pending(db, self.config, now=self.clock())
        if handled:
            log.info("handled %d inbound message(s) left unhandled by the previous run", handled)

    def _inbound_handler(self) -> Callable[[object, int], None] | None:
        """The command layer's entry point for each complete inbound message, when it is installed."""
        try:
            from gateway import commands
        except ImportError:
            log.warning("SMS commands are not part of this build: inbound messages only land in the inbox")
            return None
        config, clock = self.config, self.clock
        return lambda db, inbox_id: commands.handle_inbound(db, config, inbox_id, now=clock())

    def _start_jobs(self) -> None:
        try:
            from gateway import jobs
        except ImportError:
            return
        scheduler = jobs.start(self.config, clock=self.clock)
        self._stops.append(scheduler.stop)

    def _start_workers(self) -> None:
        from gateway import worker

        supervisor = worker.Supervisor(self.config, clock=self.clock, stopping=self.stopping,
                                       clock_ok=self.clock_ok, on_inbound=self._inbound_handler())
        supervisor.start()
        self.supervisor = supervisor
        self._stops.append(supervisor.stop)

    def _start_web(self) -> None:
        from gateway.web import server

        self.web_server = server.serve(self.config, clock=self.clock)
        self._stops.append(self.web_server.close)

    def healthy(self) -> bool:
        """Workers and the web server are alive (the systemd watchdog is fed only then)."""
        web = self.web_server
        return bool(self.supervisor and self.supervisor.healthy()) and (web is None or web.thread.is_alive())

    def stop(self) -> None:
        """Stop accepting work, let workers finish their current command, close everything."""
        self.stopping.set()
        for stop in reversed(self._stops):
            try:
                stop()
            except Exception:  # a failing stop must not keep the others from running
                log.exception("error while stopping")
        self._stops.clear()


def run(config: Config) -> int:
    """`smsgw run`: start, tell systemd READY, feed the watchdog, stop on SIGTERM/SIGINT."""
    daemon = Daemon(config)
    wake = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        daemon.stopping.set()
        wake.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        daemon.start()
    except OSError as exc:  # e.g. the web port is taken, the state directory is not writable
        daemon.stop()
        raise SmsgwError(f"cannot start: {exc}") from None
    notify.notify("READY=1\nSTATUS=running")
    log.info("smsgw running: %d modem(s) configured, web on %s:%d", len(config.modems), config.web.bind,
             config.web.port)
    interval = notify.watchdog_interval() or 5.0
    while not daemon.stopping.is_set():
        wake.wait(interval)
        if daemon.healthy():
            notify.notify("WATCHDOG=1")
        else:
            log.error("a worker or the web server stopped responding; withholding the watchdog ping")
    notify.notify("STOPPING=1")
    daemon.stop()
    log.info("smsgw stopped")
    return 0
