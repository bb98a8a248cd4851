"""The simulated modem as an AT client on the slave side of the pty sees it (real pyserial)."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterator

import pytest
import serial

from gateway.profiles import load_profile
from gateway.simulator import Network, SimModem
from gateway.simulator import pdu as sp
from simclient import Client

PHONE = "+79161234567"


@pytest.fixture
def net() -> Iterator[Network]:
    with Network(boot_delay=0.0) as network:
        yield network


@pytest.fixture
def connect(net: Network) -> Iterator[Callable[..., tuple[SimModem, Client]]]:
    clients: list[Client] = []

    def make(profile: str = "generic", *, init: bool = True, **kwargs: object) -> tuple[SimModem, Client]:
        modem = net.add_modem(profile=profile, **kwargs)  # type: ignore[arg-type]
        modem.wait_booted()
        client = Client(modem.path)
        clients.append(client)
        if init:
            client.write(b"ATE0\r")
            client.read_until(b"OK\r\n")
            assert client.at("AT+CMEE=1").endswith(b"\r\nOK\r\n")
        return modem, client

    yield make
    for c in clients:
        c.close()


def cmgl(client: Client) -> list[tuple[int, int, bytes]]:
    """PDU-mode AT+CMGL=4 parsed into (index, stat, pdu)."""
    reply = client.at("AT+CMGL=4")
    return [(int(i), int(s), bytes.fromhex(p.decode())) for i, s, p in re.findall(rb"\+CMGL: (\d+),(\d+),,\d+\r\n([0-9A-F]+)\r\n", reply)]


def send_pdu(client: Client, tpdu_hex: str) -> bytes:
    """AT+CMGS in PDU mode with a `00` SMSC prefix; returns the reply after Ctrl-Z."""
    length = len(tpdu_hex) // 2
    client.write(f"AT+CMGS={length}\r".encode())
    client.read_until(b"\r\n> ")
    client.write(("00" + tpdu_hex).encode() + b"\x1a")
    return client.read_until(re.compile(rb"\r\n(OK|ERROR|\+CMS ERROR: [^\r]*)\r\n"), timeout=10)


def submit_hex(destination: str, text: str, **kwargs: object) -> str:
    return sp.encode_submit(destination, text, **kwargs)[1:].hex().upper()  # type: ignore[arg-type]


# --- framing --------------------------------------------------------------------------------------


def test_echo_framing_and_verbose(connect: Callable[..., tuple[SimModem, Client]]) -> None:
    _, c = connect("quectel-ec25", init=False)
    assert c.at("AT") == b"AT\r\r\nOK\r\n"  # echo on by default on EC25: command, CR, then the reply
    assert c.at("ATE0") == b"ATE0\r\r\nOK\r\n"  # the echo of ATE0 itself still comes back
    assert c.at("AT+CSQ") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    c.write(b"ATV0\r")
    assert c.read_until(b"\r") == b"0\r"
    c.write(b"AT+FOO\r")
    assert c.read_until(b"\r") == b"4\r"
    assert c.at("ATV1") == b"\r\nOK\r\n"  # V.250: the result of ATV1 already uses the new format


def test_generic_echo_default_off_and_chained_commands(connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect(init=False)
    assert c.at("AT+CGMI;+CGMM;+CGSN") == f"\r\nGeneric\r\n\r\nGSM Modem\r\n\r\n{m.imei}\r\n\r\nOK\r\n".encode()


def test_cmee_modes(connect: Callable[..., tuple[SimModem, Client]]) -> None:
    _, c = connect()
    c.at("AT+CMEE=0")
    assert c.at("AT+CMGR=99") == b"\r\nERROR\r\n"
    c.at("AT+CMEE=1")
    assert c.at("AT+CMGR=99") == b"\r\n+CMS ERROR: 321\r\n"
    c.at("AT+CMEE=2")
    assert c.at("AT+CMGR=99") == b"\r\n+CMS ERROR: invalid memory index\r\n"
    assert c.at("AT+CPIN=1,2,3,4") .endswith(b"OK\r\n")  # READY SIM ignores a PIN


def test_unknown_commands_answer_at_once(connect: Callable[..., tuple[SimModem, Client]]) -> None:
    _, generic = connect()
    _, huawei = connect("huawei-e173")
    started = time.monotonic()
    assert generic.at("AT+WIND?") == b"\r\nERROR\r\n"
    assert huawei.at("AT+WIND?") == b"\r\nCOMMAND NOT SUPPORT\r\n"
    assert huawei.at("AT^CURC=0") == b"\r\nOK\r\n"
    assert generic.at("AT^CURC=0") == b"\r\nERROR\r\n"
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("profile", ["generic", "sim800", "huawei-e173", "quectel-ec25", "simcom-sim7600"])
def test_identity(connect: Callable[..., tuple[SimModem, Client]], profile: str) -> None:
    m, c = connect(profile)
    traits = m.profile.simulator
    assert f"\r\n{traits.manufacturer}\r\n".encode() in c.at("AT+CGMI")
    assert f"\r\n{traits.model}\r\n".encode() in c.at("AT+CGMM")
    assert f"\r\n{traits.revision}\r\n".encode() in c.at("AT+CGMR")
    assert f"\r\n{m.imei}\r\n".encode() in c.at("AT+CGSN")
    assert f"\r\n{m.imsi}\r\n".encode() in c.at("AT+CIMI")
    assert f"+CCID: {m.iccid}".encode() in c.at("AT+CCID")
    assert m.msisdn.encode() in c.at("AT+CNUM")
    assert c.at("ATI").startswith(b"\r\n")
    assert len(m.imei) == 15 and len(m.imsi) == 15


def test_boot_urcs_reach_a_client_that_is_already_open() -> None:
    with Network(boot_delay=0.3) as network:
        modem = network.add_modem("quectel-ec25")
        client = Client(modem.path)
        try:
            assert client.read_until(b"+QIND: PB DONE\r\n", timeout=3) == b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n\r\n+QIND: SMS DONE\r\n\r\n+QIND: PB DONE\r\n"
        finally:
            client.close()


def test_garbage_from_the_client_never_kills_the_modem(connect: Callable[..., tuple[SimModem, Client]]) -> None:
    _, c = connect()
    c.write(bytes(range(256)) * 4 + b"\r" + b"A" * 20000 + b"\rAT+CMGS=\"\xff\xfe\"\r\x1b")
    c.drain(0.2)
    assert c.at("AT") == b"\r\nOK\r\n"
    assert c.at("AT+CPMS=\"\xff\"") == b"\r\n+CMS ERROR: 302\r\n"
    assert c.at("AT") == b"\r\nOK\r\n"


# --- sending --------------------------------------------------------------------------------------


def test_pdu_send_prompt_and_multipart_reassembly(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    assert c.at("AT+CMGF=0") == b"\r\nOK\r\n"
    tpdu = submit_hex(PHONE, "hello")
    c.write(f"AT+CMGS={len(tpdu) // 2}\r".encode())
    assert c.read_until(b"> ") == b"\r\n> "
    assert c.drain(0.1) == b""  # nothing after the space
    c.write(("00" + tpdu).encode() + b"\x1a")
    assert c.read_until(b"OK\r\n") == b"\r\n+CMGS: 1\r\n\r\nOK\r\n"
    text = "Здравствуйте! Ваш заказ №12345 принят и будет доставлен завтра. " * 3
    encoding, parts = sp.split_text(text)
    assert len(parts) == 3
    for seq, part in enumerate(parts, 1):
        reply = send_pdu(c, submit_hex(PHONE, part, concat=sp.Concat(42, 3, seq), status_report=True))
        assert reply == f"\r\n+CMGS: {seq + 1}\r\n\r\nOK\r\n".encode()
    inbox = net.phone(PHONE).wait_inbox(2)
    assert (inbox[0].text, inbox[0].parts, inbox[0].encoding) == ("hello", 1, "gsm7")
    assert (inbox[1].text, inbox[1].parts, inbox[1].encoding, inbox[1].from_) == (text, 3, "ucs2", m.msisdn)
    assert [(s.part, s.total, s.mr, s.destination) for s in m.submits] == [(1, 1, 1, PHONE), (1, 3, 2, PHONE), (2, 3, 3, PHONE), (3, 3, 4, PHONE)]


def test_echoed_pdu_and_profile_mr_start(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    _, c = connect("quectel-ec25", init=False)
    c.at("AT+CMGF=0")
    tpdu = submit_hex(PHONE, "x")
    c.write(f"AT+CMGS={len(tpdu) // 2}\r".encode())
    assert c.read_until(b"> ") == f"AT+CMGS={len(tpdu) // 2}\r\r\n> ".encode()
    c.write(("00" + tpdu).encode() + b"\x1a")
    assert c.read_until(b"OK\r\n") == ("00" + tpdu).encode() + b"\r\n+CMGS: 23\r\n\r\nOK\r\n"  # T3: MRs start at 23


def test_esc_cancels_and_bad_length_is_304(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    tpdu = submit_hex(PHONE, "never sent")
    c.write(f"AT+CMGS={len(tpdu) // 2}\r".encode())
    c.read_until(b"> ")
    c.write(("00" + tpdu).encode() + b"\x1b")
    assert c.read_until(b"OK\r\n") == b"\r\nOK\r\n"
    c.write(f"AT+CMGS={len(tpdu) // 2 + 1}\r".encode())
    c.read_until(b"> ")
    c.write(("00" + tpdu).encode() + b"\x1a")
    assert c.read_until(b"\r\n", timeout=5) + c.read_until(b"\r\n") == b"\r\n+CMS ERROR: 304\r\n"
    c.write(b"AT+CMGS=5\r")
    c.read_until(b"> ")
    c.write(b"zz-not-hex\x1a")
    assert c.read_until(re.compile(rb"ERROR: \d+\r\n")) == b"\r\n+CMS ERROR: 304\r\n"
    assert m.submits == [] and net.phone(PHONE).inbox == []


def test_text_mode_send_gsm_and_ucs2(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect("sim800")
    assert c.at("AT+CMGF=1") == b"\r\nOK\r\n"
    assert c.at('AT+CSMP=49,167,0,0') == b"\r\nOK\r\n"
    c.write(b'AT+CMGS="+79161234567"\r')
    assert c.read_until(b"> ") == b"\r\n> "
    c.write(b"Your order 1234 is ready.\x1a")
    assert c.read_until(b"OK\r\n") == b"\r\n+CMGS: 12\r\n\r\nOK\r\n"
    c.at('AT+CSCS="UCS2"')
    c.at("AT+CSMP=17,167,0,8")
    c.write(b'AT+CMGS="+79161234567"\r')
    assert c.read_until(b"\r\n", timeout=5) + c.read_until(b"\r\n") == b"\r\n+CMS ERROR: 305\r\n"  # plain number under UCS2
    c.write(b'AT+CMGS="002B00370039003100360031003200330034003500360037"\r')
    c.read_until(b"> ")
    c.write(b"041F044004380432043504420021\x1a")
    assert c.read_until(b"OK\r\n") == b"\r\n+CMGS: 13\r\n\r\nOK\r\n"
    inbox = net.phone(PHONE).wait_inbox(2)
    assert [(x.text, x.encoding) for x in inbox] == [("Your order 1234 is ready.", "gsm7"), ("Привет!", "ucs2")]
    assert m.submits[0].status_report and not m.submits[1].status_report


def test_text_mode_cr_inside_text_reprompts(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    _, c = connect()
    c.at("AT+CMGF=1")
    c.write(b'AT+CMGS="+79161234567"\r')
    c.read_until(b"> ")
    c.write(b"line one\r")
    assert c.read_until(b"> ") == b"\r\n> "
    c.write(b"line two\x1a")
    c.read_until(b"OK\r\n")
    assert net.phone(PHONE).wait_inbox(1)[0].text == "line one\nline two"


def test_modem_to_modem(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    _, a = connect()
    b_modem, b = connect("huawei-e173")
    b.at("AT+CNMI=2,1,0,0,0")
    send_pdu(a, submit_hex(b_modem.msisdn, "between modems"))
    assert b.read_until(b'+CMTI: "SM",0\r\n') .endswith(b'\r\n+CMTI: "SM",0\r\n')
    assert b_modem.stored()[0].text == "between modems"


# --- receiving, the store, indications ------------------------------------------------------------


def test_mo_multipart_lands_in_store_with_cmti_and_index_base(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    for profile, first in (("generic", 1), ("huawei-e173", 0)):
        m, c = connect(profile)
        c.at("AT+CNMI=2,1,0,0,0")
        text = "Добрый день! Напоминаем, что завтра в 09:30 у вас запись к врачу в клинике на ул. Ленина, 15."
        assert net.phone(PHONE).send(to=m.msisdn, text=text) == 2
        urcs = c.read_until(f'+CMTI: "SM",{first + 1}\r\n'.encode())
        assert urcs == f'\r\n+CMTI: "SM",{first}\r\n\r\n+CMTI: "SM",{first + 1}\r\n'.encode()
        listed = cmgl(c)
        assert [(i, s) for i, s, _ in listed] == [(first, 0), (first + 1, 0)]
        decoded = [sp.decode_deliver(p) for _, _, p in listed]
        assert "".join(d.text for d in decoded) == text
        assert {d.sender for d in decoded} == {PHONE} and decoded[0].concat and decoded[0].concat.total == 2
        assert [s for _, s, _ in cmgl(c)] == [1, 1]  # listing marked them read


def test_cmgl_stat_forms_and_cmgr_cmgd(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    phone = net.phone(PHONE)
    for text in ("one", "two", "three"):
        phone.send(to=m.msisdn, text=text)
    m.wait_stored(3)
    assert c.at('AT+CMGL="ALL"') == b"\r\n+CMS ERROR: 304\r\n"  # PDU mode wants integers
    reply = c.at("AT+CMGR=2")
    assert reply.startswith(b"\r\n+CMGR: 0,,") and sp.decode_deliver(bytes.fromhex(reply.split(b"\r\n")[2].decode())).text == "two"
    assert [s.stat for s in m.stored()] == [0, 1, 0]
    c.at("AT+CMGF=1")
    assert c.at("AT+CMGL=4") == b"\r\n+CMS ERROR: 305\r\n"  # text mode wants strings
    listing = c.at('AT+CMGL="REC UNREAD"')
    assert re.findall(rb'\+CMGL: (\d),"REC UNREAD","\+79161234567",,"[0-9/,:+]+"\r\n(\w+)', listing) == [(b"1", b"one"), (b"3", b"three")]
    assert b"+CMGD: (1,2,3),(0-4)" in c.at("AT+CMGD=?")
    assert c.at("AT+CMGD=2") == b"\r\nOK\r\n"
    assert c.at("AT+CMGR=2") == b"\r\n+CMS ERROR: 321\r\n"
    phone.send(to=m.msisdn, text="four")
    m.wait_stored(3)
    assert c.at("AT+CMGD=1,1") == b"\r\nOK\r\n"  # deletes every read message, keeps the new one
    assert [(s.index, s.text) for s in m.stored()] == [(2, "four")]
    assert c.at("AT+CMGD=0,4") == b"\r\nOK\r\n"
    assert m.stored() == []


def test_cnmi_mt2_routes_cmt_without_storing(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    c.at("AT+CNMI=2,2,0,0,0")
    net.phone(PHONE).send(to=m.msisdn, text="direct")
    urc = c.read_until(re.compile(rb"\+CMT: ,(\d+)\r\n([0-9A-F]+)\r\n"))
    length, pdu_hex = re.search(rb"\+CMT: ,(\d+)\r\n([0-9A-F]+)\r\n", urc).groups()  # type: ignore[union-attr]
    data = bytes.fromhex(pdu_hex.decode())
    assert sp.tpdu_length(data) == int(length) and sp.decode_deliver(data).text == "direct"
    assert m.stored() == []
    c.at("AT+CMGF=1")
    net.phone(PHONE).send(to=m.msisdn, text="texty")
    assert re.search(rb'\+CMT: "\+79161234567",,"[^"]+"\r\ntexty\r\n', c.read_until(b"texty\r\n"))


def test_cpms_and_storage_limits(connect: Callable[..., tuple[SimModem, Client]]) -> None:
    _, c = connect("huawei-e173")
    assert c.at("AT+CPMS=?") == b'\r\n+CPMS: ("ME","MT","SM","SR"),("ME","MT","SM","SR"),("ME","MT","SM","SR")\r\n\r\nOK\r\n'
    assert c.at('AT+CPMS="SM","SM","SM"') == b"\r\n+CPMS: 0,20,0,20,0,20\r\n\r\nOK\r\n"
    assert c.at("AT+CPMS?") == b'\r\n+CPMS: "SM",0,20,"SM",0,20,"SM",0,20\r\n\r\nOK\r\n'
    assert c.at('AT+CPMS="XX"') == b"\r\n+CMS ERROR: 302\r\n"


def test_store_full_gives_322_and_holds_incoming(net: Network) -> None:
    profile = dataclasses.replace(load_profile("generic"), capacity=2)
    modem = net.add_modem(profile=profile)
    c = Client(modem.path)
    try:
        c.at("AT+CMEE=1;+CNMI=2,1,0,0,0")
        phone = net.phone(PHONE)
        for text in ("a", "b", "c"):
            phone.send(to=modem.msisdn, text=text)
        c.read_until(b'+CMTI: "SM",2\r\n')
        assert c.drain(0.2) == b""  # the third waits in the network
        assert c.at("AT+CPMS?").startswith(b'\r\n+CPMS: "SM",2,2,')
        c.write(b"AT+CMGW=5\r")
        assert c.read_until(b"\r\n", timeout=5) + c.read_until(b"\r\n") == b"\r\n+CMS ERROR: 322\r\n"
        assert c.at("AT+CMGD=1") == b"\r\nOK\r\n"
        assert c.read_until(b'+CMTI: "SM",1\r\n').endswith(b'\r\n+CMTI: "SM",1\r\n')
        assert [s.text for s in modem.stored()] == ["c", "b"]
    finally:
        c.close()


def test_cmgw_and_cmss(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    tpdu = submit_hex(PHONE, "stored first")
    c.write(f"AT+CMGW={len(tpdu) // 2}\r".encode())
    c.read_until(b"> ")
    c.write(("00" + tpdu).encode() + b"\x1a")
    assert c.read_until(b"OK\r\n") == b"\r\n+CMGW: 1\r\n\r\nOK\r\n"
    assert c.at("AT+CMSS=1") == b"\r\n+CMSS: 1\r\n\r\nOK\r\n"
    assert net.phone(PHONE).wait_inbox(1)[0].text == "stored first"
    assert m.stored()[0].stat == 3


# --- delivery reports -----------------------------------------------------------------------------


def test_status_report_as_cds(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    c.at("AT+CNMI=2,1,0,1,0")
    m.set_faults(dr_delay=0.05)
    assert send_pdu(c, submit_hex(PHONE, "report me", status_report=True)) == b"\r\n+CMGS: 1\r\n\r\nOK\r\n"
    urc = c.read_until(re.compile(rb"\+CDS: (\d+)\r\n([0-9A-F]+)\r\n"))
    length, pdu_hex = re.search(rb"\+CDS: (\d+)\r\n([0-9A-F]+)\r\n", urc).groups()  # type: ignore[union-attr]
    data = bytes.fromhex(pdu_hex.decode())
    report = sp.decode_status_report(data)
    assert (report.mr, report.recipient, report.status, sp.tpdu_length(data)) == (1, PHONE, 0, int(length))
    c.at("AT+CMGF=1")
    send_pdu_text = b'AT+CSMP=49,167,0,0'
    c.at(send_pdu_text.decode())
    c.write(b'AT+CMGS="+79161234567"\r')
    c.read_until(b"> ")
    c.write(b"text report\x1a")
    c.read_until(b"OK\r\n")
    assert re.search(rb'\+CDS: 6,2,"\+79161234567",145,"[^"]+","[^"]+",0\r\n', c.read_until(re.compile(rb"\+CDS: 6,2,[^\r]*\r\n")))


def test_status_report_cdsi_then_cmgr_from_sr_temporary_then_final(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    c.at("AT+CNMI=2,1,0,2,0")
    m.set_faults(dr_status="temporary_then_delivered", dr_delay=0.05)
    send_pdu(c, submit_hex(PHONE, "twice", status_report=True))
    urcs = c.read_until(b'+CDSI: "SR",2\r\n')
    assert urcs == b'\r\n+CDSI: "SR",1\r\n\r\n+CDSI: "SR",2\r\n'
    c.at('AT+CPMS="SR"')
    statuses = []
    for index in (1, 2):
        reply = c.at(f"AT+CMGR={index}")
        report = sp.decode_status_report(bytes.fromhex(reply.split(b"\r\n")[2].decode()))
        statuses.append((report.mr, report.status))
    assert statuses == [(1, 0x30), (1, 0x00)]
    assert net.phone(PHONE).wait_inbox(1)[0].text == "twice"


def test_permanent_failure_and_no_report(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    c.at("AT+CNMI=2,1,0,1,0")
    m.set_faults(dr_status="permanent", dr_delay=0.05)
    send_pdu(c, submit_hex("+79990000000", "lost", status_report=True))
    urc = c.read_until(re.compile(rb"\+CDS: \d+\r\n([0-9A-F]+)\r\n"))
    assert sp.decode_status_report(bytes.fromhex(urc.split(b"\r\n")[-2].decode())).status == 0x43
    assert net.phone("+79990000000").inbox == []
    m.set_faults(dr_status="none")
    send_pdu(c, submit_hex(PHONE, "quiet", status_report=True))
    net.phone(PHONE).wait_inbox(1)
    assert c.drain(0.25) == b""


def test_multipart_gets_a_report_per_part(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    c.at("AT+CNMI=2,1,0,1,0")
    m.set_faults(dr_delay=0.05)
    encoding, parts = sp.split_text("x" * 400)
    for seq, part in enumerate(parts, 1):
        send_pdu(c, submit_hex(PHONE, part, concat=sp.Concat(9, len(parts), seq), status_report=True))
    got = c.read_until(re.compile(rb"(\+CDS: \d+\r\n[0-9A-F]+\r\n.*){3}", re.S))
    mrs = sorted(sp.decode_status_report(bytes.fromhex(h.decode())).mr for h in re.findall(rb"\+CDS: \d+\r\n([0-9A-F]+)", got))
    assert mrs == [1, 2, 3]
    assert net.phone(PHONE).wait_inbox(1)[0].text == "x" * 400


def test_atz_restores_power_up_settings(connect: Callable[..., tuple[SimModem, Client]]) -> None:
    _, c = connect("quectel-ec25")
    c.at("AT+CMGF=1;+CNMI=2,2,0,1,0")
    assert c.at("ATZ") == b"\r\nOK\r\n"  # typed while echo was off, so not echoed; EC25 echoes again after it
    assert c.at("AT+CMGF?;+CNMI?;+CMEE?") == b"AT+CMGF?;+CNMI?;+CMEE?\r\r\n+CMGF: 0\r\n\r\n+CNMI: 2,1,0,0,0\r\n\r\n+CMEE: 0\r\n\r\nOK\r\n"


def test_cfun_radio_off_and_reboot(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect("sim800")
    assert c.at("AT+CFUN?") == b"\r\n+CFUN: 1\r\n\r\nOK\r\n"
    assert c.at("AT+CFUN=0") == b"\r\nOK\r\n"
    assert c.at("AT+CREG?") == b"\r\n+CREG: 0,0\r\n\r\nOK\r\n"
    assert send_pdu(c, submit_hex(PHONE, "radio off")) == b"\r\n+CMS ERROR: 331\r\n"
    c.write(b"AT+CFUN=1,1\r")
    assert c.read_until(b"SMS Ready\r\n") == b"\r\nOK\r\n\r\n+CPIN: READY\r\n\r\nCall Ready\r\n\r\nSMS Ready\r\n"
    assert c.at("AT") == b"AT\r\r\nOK\r\n"  # rebooted: SIM800 echo is on again
    assert c.at("AT+CREG?") == b"AT+CREG?\r\r\n+CREG: 0,1\r\n\r\nOK\r\n"


def test_send_pdu_stores_a_raw_deliver_verbatim(net: Network, connect: Callable[..., tuple[SimModem, Client]]) -> None:
    m, c = connect()
    deliver = sp.encode_deliver("MyShop", "Скидка 10%", sp.decode_timestamp(bytes.fromhex("52304101127021")), with_smsc=False)
    net.phone("+70000000001").send_pdu(to=m.msisdn, pdu=deliver.hex())
    stored = m.wait_stored(1)
    assert (stored[0].sender, stored[0].text) == ("MyShop", "Скидка 10%")
    ((_, _, pdu),) = cmgl(c)
    assert pdu == sp.encode_smsc(net.smsc) + deliver
    with pytest.raises(ValueError):
        net.phone(PHONE).send_pdu(to=m.msisdn, pdu="06")  # a status report is not something a phone sends
