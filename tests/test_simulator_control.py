"""The JSON control API, `run()` behind `smsgw simulate`, and the speed target over real pyserial."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import serial

from gateway.simulator import Network
from gateway.simulator import pdu as sp
from gateway.simulator.cli import parse_hostport
from gateway.simulator.control import ControlServer
from simclient import Client

PHONE = "+79161234567"


def call(base: str, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Network, str]]:
    with Network(boot_delay=0.0, link_dir=tmp_path / "links") as network:
        network.add_modem("generic")
        network.add_modem("huawei-e173")
        server = ControlServer(network).start()
        try:
            yield network, server.url
        finally:
            server.close()


def test_get_modems(api: tuple[Network, str], tmp_path: Path) -> None:
    network, base = api
    status, modems = call(base, "GET", "/modems")
    assert status == 200
    assert [(m["index"], m["profile"], m["msisdn"], m["imei"], m["path"]) for m in modems] == [
        (m.index, m.profile.name, m.msisdn, m.imei, m.path) for m in network.modems
    ]
    assert modems[1]["link"] == str(tmp_path / "links" / "modem1")


def test_phone_send_text_and_pdu_land_in_the_modem(api: tuple[Network, str]) -> None:
    network, base = api
    modem = network.modems[0]
    assert call(base, "POST", f"/phones/{PHONE}/send", {"to": modem.msisdn, "text": "Привет " * 20}) == (200, {"parts": 3})
    submit = sp.encode_submit("+70000000000", "raw pdu")[1:].hex()
    assert call(base, "POST", "/phones/%2B79160000002/send", {"to": modem.msisdn, "pdu": submit}) == (200, {"parts": 1})
    stored = modem.wait_stored(4)
    assert {s.sender for s in stored} == {PHONE, "+79160000002"}
    assert stored[-1].text == "raw pdu"
    assert call(base, "POST", f"/phones/{PHONE}/send", {"to": "+70000000000", "text": "x"})[0] == 404
    assert call(base, "POST", f"/phones/{PHONE}/send", {"to": modem.msisdn})[0] == 400


def test_inbox_after_a_client_sends(api: tuple[Network, str]) -> None:
    network, base = api
    modem = network.modems[0]
    client = Client(modem.path)
    try:
        tpdu = sp.encode_submit(PHONE, "to the panel")[1:].hex().upper()
        client.write(f"AT+CMGS={len(tpdu) // 2}\r".encode())
        client.read_until(b"> ")
        client.write(("00" + tpdu).encode() + b"\x1a")
        client.read_until(b"OK\r\n")
    finally:
        client.close()
    network.phone(PHONE).wait_inbox(1)
    status, inbox = call(base, "GET", "/phones/79161234567/inbox")  # the '+' may be left out
    assert status == 200 and len(inbox) == 1
    message = inbox[0]
    assert (message["from"], message["text"], message["parts"], message["encoding"]) == (modem.msisdn, "to the panel", 1, "gsm7")
    assert isinstance(message["received_at"], float)
    assert call(base, "GET", "/phones/+79990000000/inbox") == (200, [])


def test_faults_unplug_replug(api: tuple[Network, str], tmp_path: Path) -> None:
    network, base = api
    modem = network.modems[1]
    status, faults = call(base, "POST", "/modems/1/faults", {"no_network": True, "cms_error_next": [42, 2], "garbage": "\u00ff"})
    assert status == 200 and faults["no_network"] and faults["cms_error_next"] == [42, 2]
    assert modem.faults.garbage == b"\xff" and modem.faults.cms_error_next == (42, 2)
    assert call(base, "POST", "/modems/1/faults", {"colour": "red"})[0] == 400
    client = Client(modem.path)
    status, body = call(base, "POST", "/modems/1/unplug")
    assert status == 200 and body["plugged"] is False
    with pytest.raises(serial.SerialException):
        client.port.read(1)
    client.port.close()
    old = modem.path
    status, body = call(base, "POST", "/modems/1/replug")
    assert status == 200 and body["plugged"] and body["path"] != old
    assert os.readlink(tmp_path / "links" / "modem1") == body["path"]
    status, detail = call(base, "GET", "/modems/1")
    assert status == 200 and detail["faults"]["no_network"] is True and detail["stored"] == []
    assert call(base, "GET", "/modems/9")[0] == 404
    assert call(base, "GET", "/nothing")[0] == 404


def test_parse_hostport() -> None:
    assert parse_hostport("127.0.0.1:8765") == ("127.0.0.1", 8765)
    assert parse_hostport(":0") == ("127.0.0.1", 0)
    with pytest.raises(ValueError, match="loopback"):
        parse_hostport("0.0.0.0:8765")
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_hostport("8765")


def test_run_prints_modems_serves_control_and_stops_on_sigterm(tmp_path: Path) -> None:
    links = tmp_path / "sim-links"
    code = "import pathlib, sys; from gateway.simulator.cli import run; sys.exit(run(modems=2, profile='quectel-ec25', link_dir=pathlib.Path(sys.argv[1]), control='127.0.0.1:0'))"
    process = subprocess.Popen([sys.executable, "-c", code, str(links)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        assert re.match(r"modem0 \S+/modem0 -> /dev/pts/\d+ msisdn \+\d+ imei \d{15} profile quectel-ec25", lines[0]), lines
        assert lines[1].startswith("modem1 ")
        url = re.match(r"control (http://127\.0\.0\.1:\d+)", lines[2])
        assert url, lines
        status, modems = call(url.group(1), "GET", "/modems")
        assert status == 200 and [m["path"] for m in modems] == [os.readlink(links / "modem0"), os.readlink(links / "modem1")]
        client = Client(str(links / "modem0"))
        try:
            assert client.at("AT") == b"AT\r\r\nOK\r\n"
        finally:
            client.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert not (links / "modem0").exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_at_least_2000_round_trips_per_second_over_pyserial() -> None:
    with Network(boot_delay=0.0) as network:
        modem = network.add_modem("generic")
        modem.wait_booted()
        port = serial.Serial(modem.path, 115200, timeout=2)
        try:
            best = 0.0
            for _ in range(3):  # best of three: the machine is shared with other tests
                started = time.perf_counter()
                for _ in range(1000):
                    port.write(b"AT\r")
                    assert port.read_until(b"OK\r\n").endswith(b"OK\r\n")
                best = max(best, 1000 / (time.perf_counter() - started))
                if best >= 2000:
                    break
        finally:
            port.close()
    assert best >= 2000, f"{best:.0f} round trips/s"
