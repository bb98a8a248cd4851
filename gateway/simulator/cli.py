"""`smsgw simulate`: serve N simulated modems with stable symlinks and the JSON control API."""

from __future__ import annotations

import pathlib
import signal
import sys
import threading
from types import FrameType

from gateway.simulator.control import ControlServer
from gateway.simulator.network import Network


def parse_hostport(value: str) -> tuple[str, int]:
    """Split `HOST:PORT` (port 0 picks a free one); the host must be a loopback address."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"--control {value!r}: expected HOST:PORT, e.g. 127.0.0.1:8765")
    host = host.strip("[]") or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"--control {value!r}: the control API only listens on loopback (127.0.0.1)")
    return host, int(port)


def run(*, modems: int, profile: str, link_dir: pathlib.Path, control: str | None) -> int:
    """Start the network, print one line per modem and the control URL, block until SIGINT/SIGTERM."""
    if modems < 1:
        print("smsgw simulate: --modems must be at least 1", file=sys.stderr)
        return 2
    try:
        address = parse_hostport(control) if control else None
    except ValueError as exc:
        print(f"smsgw simulate: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    server: ControlServer | None = None
    try:
        with Network(link_dir=link_dir) as network:
            for _ in range(modems):
                modem = network.add_modem(profile=profile)
                print(f"modem{modem.index} {network.link_path(modem)} -> {modem.path} msisdn {modem.msisdn} imei {modem.imei} profile {modem.profile.name}", flush=True)
            if address is not None:
                server = ControlServer(network, *address).start()
                print(f"control {server.url}", flush=True)
            stop.wait()
            if server is not None:
                server.close()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
