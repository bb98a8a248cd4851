"""Every fault knob, asserted by what a pyserial client on the slave side observes."""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import serial

from gateway.profiles import PeriodicUrc, load_profile
from gateway.simulator import Network, SimModem
from gateway.simulator import pdu as sp
from simclient import Client

PHONE = "+79161234567"
ANSWER = re.compile(rb"\r\n(OK|ERROR|\+CMS ERROR: [^\r]*)\r\n")


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Network]:
    with Network(boot_delay=0.0, link_dir=tmp_path / "links") as network:
        yield network


@pytest.fixture
def connect(net: Network) -> Iterator[Callable[..., tuple[SimModem, Client]]]:
    clients: list[Client] = []

    def make(profile: object = "generic") -> tuple[SimModem, Client]:
        modem = net.add_modem(profile=profile)  # type: ignore[arg-type]
        modem.wait_booted()
        client = Client(modem.path)
        clients.append(client)
        client.write(b"ATE0\r")
        client.read_until(b"OK\r\n")
        client.at("AT+CMEE=1")
        return modem, client

    yield make
    for c in clients:
        try:
            c.close()
        except serial.SerialException:
            pass


def send(client: Client, text: str, destination: str = PHONE) -> bytes:
    tpdu = sp.encode_submit(destination, text)[1:].hex().upper()
    client.write(f"AT+CMGS={len(tpdu) // 2}\r".encode())
    client.read_until(b"> ")
    client.write(("00" + tpdu).encode() + b"\x1a")
    return client.read_until(ANSWER, timeout=10)


def test_latency_per_command_and_per_part(connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    m.set_faults(latency_cmd=0.5)
    started = time.monotonic()
    assert c.at("AT") == b"\r\nOK\r\n"
    assert time.monotonic() - started >= 0.5
    m.set_faults(latency_cmd=0.0, latency_part=0.4)
    started = time.monotonic()
    assert c.at("AT") == b"\r\nOK\r\n"
    assert time.monotonic() - started < 0.5  # per-part latency does not slow ordinary commands
    tpdu = sp.encode_submit(PHONE, "slow")[1:].hex().upper()
    c.write(f"AT+CMGS={len(tpdu) // 2}\r".encode())
    c.read_until(b"> ")
    c.write(("00" + tpdu).encode() + b"\x1a")
    started = time.monotonic()
    assert c.read_until(b"OK\r\n") == b"\r\n+CMGS: 1\r\n\r\nOK\r\n"
    assert time.monotonic() - started >= 0.4


def test_cms_error_for_next_k_submits(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    m.set_faults(cms_error_next=(42, 2))
    assert send(c, "a") == b"\r\n+CMS ERROR: 42\r\n"
    assert send(c, "b") == b"\r\n+CMS ERROR: 42\r\n"
    assert send(c, "c") == b"\r\n+CMS ERROR: 42\r\n".replace(b"+CMS ERROR: 42", b"+CMGS: 1\r\n\r\nOK")
    assert [(s.text, s.error) for s in m.submits] == [("a", 42), ("b", 42), ("c", None)]
    assert [x.text for x in net.phone(PHONE).wait_inbox(1)] == ["c"]


def test_cms_error_for_one_destination(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    m.set_faults(cms_error_for={"+79990000000": 21})
    assert send(c, "x", "+79990000000") == b"\r\n+CMS ERROR: 21\r\n"
    assert send(c, "y") == b"\r\n+CMGS: 1\r\n\r\nOK\r\n"
    c.at("AT+CMEE=2")
    assert send(c, "x", "+79990000000") == b"\r\n+CMS ERROR: unknown error\r\n"


def test_no_prompt(connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    m.set_faults(no_prompt=True)
    c.write(b"AT+CMGS=20\r")
    assert c.drain(0.3) == b""  # no "> " ever comes
    c.write(b"\x1b\r")  # gammu's way out of a stuck prompt
    assert c.read_until(b"OK\r\n") == b"\r\nOK\r\n"
    assert m.submits == []
    m.set_faults(no_prompt=False)
    assert send(c, "after") == b"\r\n+CMGS: 1\r\n\r\nOK\r\n"


def test_garbage_and_non_utf8_bytes(connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    m.set_faults(garbage=b"\xff\xfe\x00\x80garbage\x1b[0m")
    assert c.at("AT+CSQ") == b"\xff\xfe\x00\x80garbage\x1b[0m\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    assert c.at("AT") == b"\r\nOK\r\n"  # one-shot
    m.inject(b"\r\n\xd0\xff\r\n")
    assert c.read_until(b"\xd0\xff\r\n") == b"\r\n\xd0\xff\r\n"


def test_urc_inside_reply_with_and_without_echo(connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect("huawei-e173")
    c.at("ATE1")
    m.set_faults(urc_inside_reply="^RSSI:20")
    assert c.at("AT+CGMI") == b"A\r\n^RSSI:20\r\nT+CGMI\r\r\nhuawei\r\n\r\nOK\r\n"  # as captured on an E3372
    c.at("ATE0")
    m.set_faults(urc_inside_reply="^MODE:5,4")
    assert c.at("AT+CSQ") == b"\r\n+CSQ: 20,99\r\n\r\n^MODE:5,4\r\n\r\nOK\r\n"


def test_split_writes(connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    m.set_faults(split_writes=2)
    seen_partial = False
    for _ in range(3):  # a loaded machine may let every chunk land before we look; retry
        c.write(b"ATI\r")
        first = c.port.read(1)
        assert first == b"\r"
        seen_partial = seen_partial or c.port.in_waiting < 10  # the rest still trickles in, 2 bytes at a time
        c.buffer = first
        assert c.read_until(b"OK\r\n") == b"\r\nGeneric\r\nGSM Modem\r\nRevision: 1.0.0\r\n\r\nOK\r\n"
        if seen_partial:
            break
    assert seen_partial


def test_unplug_gives_eio_and_replug_moves_path_and_symlink(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    net.phone(PHONE).send(to=m.msisdn, text="kept on the SIM")
    m.wait_stored(1)
    link = net.link_path(m)
    assert link is not None and os.readlink(link) == m.path
    old = m.path
    m.unplug()
    with pytest.raises(serial.SerialException):
        c.port.read(1)
        c.port.write(b"AT\r")
        c.port.read(1)
    new = m.replug()
    assert new != old and m.path == new and os.readlink(link) == new
    c2 = Client(str(link))
    try:
        assert c2.at("AT+CMEE") .endswith(b"OK\r\n")
        assert c2.at("AT+CMEE?") == b"\r\n+CMEE: 0\r\n\r\nOK\r\n"  # session settings back to power-up values
        assert b"+CMGL: 1,0,,"in c2.at("AT+CMGL=4")  # the SIM store survived
    finally:
        c2.close()


def test_pin_and_puk_flow(connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    m.set_faults(pin="1234")
    assert c.at("AT+CPIN?") == b"\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n"
    assert c.at("AT+CMGL=4") == b"\r\n+CMS ERROR: 311\r\n"
    assert c.at("AT+CIMI") == b"\r\n+CME ERROR: 11\r\n"
    assert c.at("AT+CSQ") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    assert c.at("AT+CREG?") == b"\r\n+CREG: 0,0\r\n\r\nOK\r\n"
    for _ in range(3):
        assert c.at('AT+CPIN="0000"') == b"\r\n+CME ERROR: 16\r\n"
    assert c.at("AT+CPIN?") == b"\r\n+CPIN: SIM PUK\r\n\r\nOK\r\n"
    assert c.at("AT+CIMI") == b"\r\n+CME ERROR: 12\r\n"
    assert c.at('AT+CPIN="1234"') == b"\r\n+CME ERROR: 16\r\n"
    c.write(b'AT+CPIN="12345678","4321"\r')
    assert c.read_until(b"+CPIN: READY\r\n") == b"\r\nOK\r\n\r\n+CPIN: READY\r\n"
    assert c.at("AT+CPIN?") == b"\r\n+CPIN: READY\r\n\r\nOK\r\n"
    assert m.faults.pin == "4321"


def test_pin_entry_releases_held_messages(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    c.at("AT+CNMI=2,1,0,0,0")
    m.set_faults(pin="1111")
    net.phone(PHONE).send(to=m.msisdn, text="waiting for PIN")
    assert c.drain(0.2) == b""
    c.write(b'AT+CPIN="1111"\r')
    assert c.read_until(b'+CMTI: "SM",1\r\n').endswith(b'\r\n+CMTI: "SM",1\r\n')


def test_sim_full(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    c.at("AT+CNMI=2,1,0,0,0")
    m.set_faults(sim_full=True)
    assert c.at("AT+CPMS?") == b'\r\n+CPMS: "SM",30,30,"SM",30,30,"SM",30,30\r\n\r\nOK\r\n'
    c.write(b"AT+CMGW=5\r")
    assert c.read_until(ANSWER) == b"\r\n+CMS ERROR: 322\r\n"
    net.phone(PHONE).send(to=m.msisdn, text="held")
    assert c.drain(0.2) == b""
    m.set_faults(sim_full=False)
    assert c.read_until(b'+CMTI: "SM",1\r\n').endswith(b'\r\n+CMTI: "SM",1\r\n')


@pytest.mark.parametrize(("profile", "code"), [("generic", 331), ("simcom-sim7600", 500)])
def test_no_network(net: Network, connect: Callable[..., tuple[SimModem, Client]], profile: str, code: int) -> None:
    m, c = connect(profile)
    c.at("AT+CREG=1;+CNMI=2,1,0,0,0")
    m.set_faults(no_network=True)
    assert c.read_until(b"+CREG: 2\r\n") == b"\r\n+CREG: 2\r\n"
    assert c.at("AT+CREG?") == b"\r\n+CREG: 1,2\r\n\r\nOK\r\n"
    assert c.at("AT+CSQ") == b"\r\n+CSQ: 99,99\r\n\r\nOK\r\n"
    assert c.at("AT+COPS?") == b"\r\n+COPS: 0\r\n\r\nOK\r\n"
    assert send(c, "no luck") == f"\r\n+CMS ERROR: {code}\r\n".encode()
    net.phone(PHONE).send(to=m.msisdn, text="incoming later")
    assert c.drain(0.2) == b""
    m.set_faults(no_network=False)
    got = c.read_until(b'+CMTI: "SM",' + str(m.profile.index_base).encode() + b"\r\n")
    assert b"\r\n+CREG: 1\r\n" in got
    c.at("AT+CREG=0")
    assert c.at("AT+CREG?") == b"\r\n+CREG: 0,1\r\n\r\nOK\r\n"


def test_signal_level_and_periodic_rssi(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    base = load_profile("huawei-e173")
    fast = dataclasses.replace(base, simulator=dataclasses.replace(base.simulator, periodic_urcs=(PeriodicUrc("^RSSI:{rssi}", 0.05),)))
    m, c = connect(fast)
    m.set_faults(rssi=7)
    assert c.at("AT+CSQ") == b"\r\n+CSQ: 7,99\r\n\r\nOK\r\n"
    assert c.read_until(b"^RSSI:7\r\n").endswith(b"\r\n^RSSI:7\r\n")
    c.at("AT^CURC=0")
    c.drain(0.1)
    assert b"^RSSI" not in c.drain(0.2)
    c.at("AT^CURC=1")
    c.read_until(b"^RSSI:7\r\n")
    m.set_faults(periodic_urcs=False)
    c.drain(0.1)
    assert b"^RSSI" not in c.drain(0.2)


def test_dr_delay(connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    c.at("AT+CNMI=2,1,0,1,0")
    m.set_faults(dr_delay=0.5)
    tpdu = sp.encode_submit(PHONE, "timed", status_report=True)[1:].hex().upper()
    c.write(f"AT+CMGS={len(tpdu) // 2}\r".encode())
    c.read_until(b"> ")
    c.write(("00" + tpdu).encode() + b"\x1a")
    c.read_until(b"OK\r\n")
    started = time.monotonic()
    c.read_until(b"+CDS: ")
    assert 0.4 <= time.monotonic() - started < 3


def test_urcs_wait_while_a_prompt_is_open(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    c.at("AT+CNMI=2,1,0,0,0")
    c.write(b"AT+CMGS=20\r")
    c.read_until(b"> ")
    net.phone(PHONE).send(to=m.msisdn, text="during prompt")
    assert c.drain(0.2) == b""  # buffered: nothing may follow "> " while the host types
    c.write(b"\x1b")
    assert c.read_until(b'+CMTI: "SM",1\r\n') == b'\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'


def test_quirks_from_profiles(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    base = load_profile("generic")
    quirky = dataclasses.replace(base, quirks=frozenset({"cpin_no_ok", "csmp_clears_smsc", "cme_515_after_cfun", "cmgr_empty_ok"}))
    m, c = connect(quirky)
    c.write(b"AT+CPIN?\r")
    assert c.read_until(b"READY\r\n") == b"\r\n+CPIN: READY\r\n"
    assert c.drain(0.15) == b""  # Wavecom: no OK after +CPIN:
    assert c.at("AT+CSCA?") == b'\r\n+CSCA: "+79168999100",145\r\n\r\nOK\r\n'
    c.at("AT+CSMP=17,167,0,0")
    assert c.at("AT+CSCA?") == b'\r\n+CSCA: "",129\r\n\r\nOK\r\n'
    assert send(c, "no smsc") == b"\r\n+CMS ERROR: 330\r\n"
    assert c.at("AT+CMGR=5") == b"\r\nOK\r\n"
    assert c.at("AT+CFUN=1") == b"\r\nOK\r\n"
    assert c.at("AT") == b"\r\n+CME ERROR: 515\r\n"
    assert c.at("AT+CSQ") == b"\r\n+CME ERROR: 515\r\n"
    assert c.at("AT") == b"\r\nOK\r\n"


def test_sim_busy_after_pin(connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect("simcom-sim7600")
    m.set_faults(pin="1234")
    c.write(b'AT+CPIN="1234"\r')
    c.read_until(b"+CPIN: READY\r\n")
    assert c.at("AT+CMGL=4") == b"\r\n+CMS ERROR: 314\r\n"
    assert c.at("AT+CIMI") == b"\r\n+CME ERROR: 14\r\n"


def test_urc_split_across_writes(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    c.at("AT+CNMI=2,1,0,0,0")
    m.set_faults(split_writes=3)
    seen_partial = False
    for index in (1, 2, 3):  # a loaded machine may let every chunk land before we look; retry
        net.phone(PHONE).send(to=m.msisdn, text="split")
        first = c.port.read(1)
        assert first == b"\r"
        seen_partial = seen_partial or c.port.in_waiting < 12  # the URC is still arriving 3 bytes at a time
        c.buffer = first
        assert c.read_until(re.compile(rb'\+CMTI: "SM",\d+\r\n')) == f'\r\n+CMTI: "SM",{index}\r\n'.encode()
        if seen_partial:
            break
    assert seen_partial


def test_cnmi_mode_0_holds_indications_until_mode_changes(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    c.at("AT+CNMI=0,1,0,0,0")
    net.phone(PHONE).send(to=m.msisdn, text="held in the TA")
    m.wait_stored(1)
    assert c.drain(0.15) == b""
    assert c.at("AT") == b"\r\nOK\r\n"
    c.write(b"AT+CNMI=2,1,0,0,0\r")
    assert c.read_until(b'+CMTI: "SM",1\r\n') == b'\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'


def test_zte_zusimr_flood_stops_after_cpms_query(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    base = load_profile("zte-mf190")
    fast = dataclasses.replace(base, simulator=dataclasses.replace(base.simulator, periodic_urcs=(PeriodicUrc("+ZUSIMR:2", 0.05),)))
    m, c = connect(fast)
    assert c.read_until(b"+ZUSIMR:2\r\n").endswith(b"\r\n+ZUSIMR:2\r\n")
    c.at("AT+CPMS?")
    c.drain(0.1)
    assert b"+ZUSIMR" not in c.drain(0.25)
    c.at("AT+CSMP=17,167,0,0")
    assert c.at("AT+CSCA?") == b'\r\n+CSCA: "",129\r\n\r\nOK\r\n'  # Qualcomm/ZTE: CSMP erased the SMSC


def test_latency_keeps_the_echo_immediate(connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect("quectel-ec25")
    c.at("ATE1")
    m.set_faults(latency_cmd=0.4)
    c.write(b"AT+CSQ\r")
    assert c.read_until(b"AT+CSQ\r", timeout=0.3) == b"AT+CSQ\r"
    started = time.monotonic()
    assert c.read_until(b"OK\r\n") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    assert time.monotonic() - started >= 0.2


def test_replug_asks_for_the_pin_again(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    m.set_faults(pin="1234")
    c.write(b'AT+CPIN="1234"\r')
    c.read_until(b"+CPIN: READY\r\n")
    m.replug()
    c2 = Client(m.path)
    try:
        assert c2.at("AT+CPIN?") == b"\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n"
    finally:
        c2.close()
