"""`smsgw run` as systemd runs it: READY and WATCHDOG over $NOTIFY_SOCKET, clean stop on SIGTERM; modems by IMEI."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import outbox
from gateway.store import modems as store_modems
from tests.conftest import ROOT
from tests.harness import Gateway, Network, make_config, wait_state, wait_until

pytestmark = pytest.mark.timeout(120)


def test_run_notifies_systemd_feeds_the_watchdog_and_stops_on_sigterm(tmp_path: Path) -> None:
    with Network() as net:
        sim = net.add_modem("generic")
        config = tmp_path / "config.toml"
        config.write_text(f'[database]\npath = "{tmp_path / "db.sqlite"}"\n[web]\nbind = "127.0.0.1"\nport = 0\n'
                          f'[[modems]]\nport = "{sim.path}"\n', encoding="utf-8")
        sock_path = tmp_path / "notify.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(sock_path))
        sock.settimeout(30)
        env = {**os.environ, "NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "400000"}
        proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "--config", str(config), "run"], env=env,
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            messages = [sock.recv(4096).decode()]
            assert messages[0].startswith("READY=1")
            while messages.count("WATCHDOG=1") < 3:  # fed every 0.2 s while workers and web are alive
                messages.append(sock.recv(4096).decode())
            proc.send_signal(signal.SIGTERM)
            while "STOPPING=1" not in messages:
                messages.append(sock.recv(4096).decode())
            out, _ = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
            sock.close()
    assert proc.returncode == 0, out
    assert "Traceback" not in out


def test_two_modems_swapping_names_are_never_mixed_up(tmp_path: Path) -> None:
    ports = tmp_path / "ports"
    ports.mkdir()
    with Network() as net:
        a, b = net.add_modem("generic"), net.add_modem("sim800")
        (ports / "ttyUSB0").symlink_to(a.path)
        (ports / "ttyUSB1").symlink_to(b.path)
        config = make_config(tmp_path, [str(ports / "ttyUSB*")])
        with Gateway(config) as gw:
            gw.online(2)
            for sim in (a, b):
                sim.unplug()
            for link in ports.iterdir():
                link.unlink()
            # they come back in the other order: ttyUSB0 is now modem b, ttyUSB1 modem a
            (ports / "ttyUSB0").symlink_to(b.replug())
            (ports / "ttyUSB1").symlink_to(a.replug())
            gw.supervisor.poke()
            wa, wb = gw.supervisor.workers[a.imei], gw.supervisor.workers[b.imei]
            wait_until(lambda: wa.connected.is_set() and wb.connected.is_set() and wa.path.endswith("ttyUSB1")
                       and wb.path.endswith("ttyUSB0"), 30, "both modems back on swapped names")
            rows = {m["imei"]: m for m in store_modems.list_modems(gw.db)}
            assert len(rows) == 2 and rows[a.imei]["port"].endswith("ttyUSB1")
            now = gw.supervisor.wiring.clock()
            to_a = outbox.submit(gw.db, config, "+79165550101", "via a", now=now, pinned_modem_id=rows[a.imei]["id"])
            to_b = outbox.submit(gw.db, config, "+79165550102", "via b", now=now, pinned_modem_id=rows[b.imei]["id"])
            gw.supervisor.poke()
            wait_state(gw.db, to_a, "delivered")
            wait_state(gw.db, to_b, "delivered")
        assert [s.text for s in a.submits] == ["via a"] and [s.text for s in b.submits] == ["via b"]


def test_a_taken_web_port_is_one_clear_line_and_no_modem_is_touched(tmp_path: Path) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    with Network() as net:
        sim = net.add_modem("generic")
        config = tmp_path / "config.toml"
        config.write_text(f'[database]\npath = "{tmp_path / "db.sqlite"}"\n[web]\nbind = "127.0.0.1"\n'
                          f'port = {port}\n[[modems]]\nport = "{sim.path}"\n', encoding="utf-8")
        result = subprocess.run([sys.executable, "-m", "gateway.cli", "--config", str(config), "run"], cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
    blocker.close()
    assert result.returncode == 1
    assert "cannot start" in result.stderr and "Traceback" not in result.stderr
    assert sim.submits == [] and not any("online" in line for line in result.stderr.splitlines())
