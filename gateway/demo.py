"""`smsgw demo`: the real gateway on simulated modems, with sample data, on http://localhost:PORT.

Everything the demo creates lives in its data directory (a config file and the database); deleting that
directory resets the demo. The simulator's JSON control API (phones send and read SMS) is served too.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path

from gateway import config as configuration
from gateway import demo_data, store
from gateway.daemon import Daemon
from gateway.simulator import Network
from gateway.simulator.cli import parse_hostport
from gateway.simulator.control import ControlServer

log = logging.getLogger("gateway.demo")

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"
DEMO_AGENT = "anna"  # an agent's personal cabinet, same password


def _config_text(data_dir: Path, port: int, bind: str, link_dir: Path, modems: int) -> str:
    lines = [
        "# Written by `smsgw demo`: the gateway on simulated modems. Delete this directory to reset the demo.",
        f'[database]\npath = "{data_dir / "smsgw.db"}"',
        f'[web]\nbind = "{bind}"\nport = {port}',
        '[office]\nname = "Демо-офис"',
        "[sending]\n# The demo network is simulated: bulk need not wait for NTP.\nrequire_clock_sync = false",
        '[quiet_hours]\n# The demo sends at any hour so it can be tried in the evening; an office keeps 20:00-08:00.\n'
        'start = "00:00"\nend = "00:00"',
    ]
    for i in range(modems):
        lines.append(f'[[modems]]\nname = "sim{i + 1}"\nport = "{link_dir / f"modem{i}"}"\nper_minute = 30')
    return "\n".join(lines) + "\n"


def seed(db: store.Database, config: configuration.Config, now: float) -> None:
    """Sample data: a demo login, agents and customers with consent, a catalogue (only when the database is new),
    then the campaigns domain's sample segment, template, draft coupon campaign and automations (`demo_data`)."""
    from gateway.store import users

    if not users.count_users(db):
        _seed_people(db, now)
        _seed_catalogue(db, now)
    demo_data.seed(db, config, now)  # once per database (it checks itself)


def _seed_people(db: store.Database, now: float) -> None:
    """The demo's logins, two agents and their customers, every customer with advertising consent."""
    from gateway import auth
    from gateway.states import MessageClass, Role
    from gateway.store import contacts, users

    with store.immediate(db):
        users.add_user(db, DEMO_USER, auth.hash_password(DEMO_PASSWORD), Role.ADMIN, now, lang="ru")
        agents = [("+79161110001", "Анна Петрова", "A001"), ("+79161110002", "Ирина Смирнова", "A002")]
        agent_ids = [contacts.ensure(db, phone, now, name=name, role="agent", agent_code=code)
                     for phone, name, code in agents]
        customers = ["Ольга", "Мария", "Елена", "Наталья", "Светлана", "Татьяна", "Юлия", "Людмила"]
        for i, name in enumerate(customers):
            phone = f"+7916222{i:04d}"
            contacts.ensure(db, phone, now, name=name, role="customer", agent_id=agent_ids[i % 2])
            contacts.record_consent(db, phone, MessageClass.ADVERTISING, True, "paper form", now,
                                    text_version="2026-01")
        users.add_user(db, DEMO_AGENT, auth.hash_password(DEMO_PASSWORD), Role.AGENT, now, contact_id=agent_ids[0],
                       lang="ru")
        users.audit(db, "demo", "demo.seed", now, agents=len(agents), customers=len(customers))


def _seed_catalogue(db: store.Database, now: float) -> None:
    """A small product catalogue for SMS orders, when the commands module is installed."""
    try:
        from gateway.store import commands as command_store
    except ImportError:
        return
    with store.immediate(db):
        for code, name, price, points in (("31234", "Крем для рук", 29900, 3.0), ("41562", "Тушь для ресниц", 45900, 5.0),
                                          ("22710", "Шампунь", 35000, 4.0)):
            command_store.catalogue_upsert(db, code, name, price, points, now)


class DemoDaemon(Daemon):
    """The daemon whose web page also shows the phone panel (it knows the simulator's control URL)."""

    sim_control_url: str | None = None

    def _start_web(self) -> None:
        from gateway.web import server

        self.web_server = server.serve(self.config, clock=self.clock, sim_control_url=self.sim_control_url)
        self._stops.append(self.web_server.close)


def run(*, port: int = 8080, modems: int = 2, sim_control: str | None = "127.0.0.1:8765",
        data_dir: str | Path = "demo-data", bind: str = "127.0.0.1", ready: threading.Event | None = None,
        stop: threading.Event | None = None, info: dict[str, object] | None = None) -> int:
    """Start the simulator, the gateway and the web page; block until SIGINT/SIGTERM (or `stop`)."""
    data = Path(data_dir).resolve()
    link_dir = data / "modems"
    link_dir.mkdir(parents=True, exist_ok=True)
    config_path = data / "config.toml"
    config_path.write_text(_config_text(data, port, bind, link_dir, modems), encoding="utf-8")
    config = configuration.load(config_path)
    stop = stop or threading.Event()
    with Network(link_dir=link_dir) as net:
        for i in range(modems):
            net.add_modem(("generic", "huawei-e173", "sim800", "quectel-ec25")[i % 4])
        control = None
        if sim_control:
            host, control_port = parse_hostport(sim_control)
            control = ControlServer(net, host, control_port).start()
        db = store.connect(config.database.path)
        seed(db, config, time.time())
        db.close()
        daemon = DemoDaemon(config, clock_ok=lambda: True)
        daemon.sim_control_url = control.url if control else None
        daemon.start()
        web_port = daemon.web_server.port if daemon.web_server else port
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
        print(f"smsgw demo is running: http://{'localhost' if bind == '127.0.0.1' else bind}:{web_port}/")
        print(f"  login: {DEMO_USER} / {DEMO_PASSWORD}   (an agent's cabinet: {DEMO_AGENT} / {DEMO_PASSWORD})")
        for modem in net.modems:
            print(f"  simulated modem {modem.index}: {modem.msisdn} ({modem.profile.name}) on {modem.path}")
        if control:
            print(f"  phone panel: http://{'localhost' if bind == '127.0.0.1' else bind}:{web_port}/phones")
            print(f"  simulator control API: {control.url}")
        print("  data: " + str(data) + "   (Ctrl+C stops the demo)", flush=True)
        if info is not None:
            info.update(url=f"http://localhost:{web_port}/", control=control.url if control else None,
                        modems=[m.msisdn for m in net.modems], network=net, config=config)
        if ready:
            ready.set()
        try:
            stop.wait()
        finally:
            daemon.stop()
            if control:
                control.close()
    return 0
