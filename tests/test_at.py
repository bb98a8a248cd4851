"""The sans-IO AT engine: every case runs on the whole buffer, byte by byte and in random chunks."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.at import (
    CME_ERRORS,
    CMS_ERRORS,
    MAX_LINE,
    AtEngine,
    AtUsageError,
    Echo,
    ErrorClass,
    Event,
    Final,
    FinalKind,
    Garbage,
    Prompt,
    Response,
    Urc,
    classify_cme,
    classify_cms,
    describe_cme,
    describe_cms,
    parse_fields,
)

# --- a tiny script language: what the host does and what the modem sends -------------------


@dataclass(frozen=True)
class Cmd:
    """The host issues a command."""

    text: str
    prompt: bool = False


@dataclass(frozen=True)
class Data:
    """The host types the payload after a prompt."""

    payload: str


@dataclass(frozen=True)
class Cancel:
    """The host sends ESC after a prompt."""


@dataclass(frozen=True)
class Abandon:
    """The host gives up on the pending command (timeout)."""


Step = Cmd | Data | Cancel | Abandon | bytes
Splitter = Callable[[bytes], Iterable[bytes]]


def whole(data: bytes) -> list[bytes]:
    """Feed a modem transmission in one piece."""
    return [data]


def bytewise(data: bytes) -> list[bytes]:
    """Feed a modem transmission one byte at a time."""
    return [data[i : i + 1] for i in range(len(data))]


def run(
    script: Sequence[Step], split: Splitter = whole, *, timeouts: bool = False, **engine_kwargs: Any
) -> list[Event]:
    """Play a script against a fresh engine and return every event, checking the bytes written.

    With `timeouts`, a command issued while another is pending abandons that one first, as the
    session does when its timer expires.
    """
    engine = AtEngine(**engine_kwargs)
    events: list[Event] = []
    for step in script:
        if isinstance(step, bytes):
            for chunk in split(step):
                events += engine.feed(chunk)
        elif isinstance(step, Cmd):
            if timeouts and engine.pending is not None:
                engine.abandon()
            assert engine.command(step.text, expect_prompt=step.prompt) == step.text.encode() + b"\r"
        elif isinstance(step, Data):
            assert engine.send_data(step.payload) == step.payload.encode() + b"\x1a"
        elif isinstance(step, Cancel):
            assert engine.cancel_data() == b"\x1b"
        else:
            engine.abandon()
    return events


def ok(command: str, *lines: str) -> Response:
    """A Response ending in OK."""
    return Response(command, lines, Final(FinalKind.OK, None, "OK"))


def failed(command: str, kind: FinalKind, code: int | None, text: str, *lines: str) -> Response:
    """A Response ending in an error final code."""
    return Response(command, lines, Final(kind, code, text))


@dataclass(frozen=True)
class Case:
    """One engine case: a script, the events it must give, and the engine's options."""

    id: str
    script: tuple[Step, ...]
    expected: tuple[Event, ...]
    options: dict[str, Any] = field(default_factory=dict)


CMGL_PDU_1 = "07919761989901F0040B919761214365F700085230410112702104041F0440"
CMGL_PDU_2 = "07919761989901F0040B919761214365F700085230410112802104041F0441"

CASES = [
    Case(
        "echo-off",
        (Cmd("AT+CSQ"), b"\r\n+CSQ: 17,99\r\n\r\nOK\r\n"),
        (ok("AT+CSQ", "+CSQ: 17,99"),),
    ),
    Case(
        "echo-on",
        (Cmd("AT+CREG?"), b"AT+CREG?\r\r\n+CREG: 0,1\r\n\r\nOK\r\n"),
        (Echo("AT+CREG?"), ok("AT+CREG?", "+CREG: 0,1")),
    ),
    Case(
        "echo-lowercase-command",
        (Cmd("at+cgmm"), b"at+cgmm\r\r\nE173\r\n\r\nOK\r\n"),
        (Echo("at+cgmm"), ok("at+cgmm", "E173")),
    ),
    Case(
        "double-echo",  # PGM-I56: ATE0 answered with ATE0\rATE0\r + OK on a Pi UART
        (Cmd("ATE0"), b"ATE0\rATE0\r\r\nOK\r\n"),
        (Echo("ATE0"), Echo("ATE0"), ok("ATE0")),
    ),
    Case(
        "blank-lines-and-crcrlf",  # Huawei E1752 AT+CLAC ends each line with \r\r\n; "+CMTI" is a command name here
        (Cmd("AT+CLAC"), b"\r\r\n+CGMI\r\r\n+CGMM\r\r\n+CMTI\r\r\n^RSSI\r\r\n\r\r\nOK\r\r\n"),
        (ok("AT+CLAC", "+CGMI", "+CGMM", "+CMTI", "^RSSI"),),
    ),
    Case(
        "lf-only-line-endings",
        (Cmd("AT+CGMI"), b"\nhuawei\n\nOK\n"),
        (ok("AT+CGMI", "huawei"),),
    ),
    Case(
        "error-plain",
        (Cmd("AT+CMGL=4"), b"\r\nERROR\r\n"),
        (failed("AT+CMGL=4", FinalKind.ERROR, None, "ERROR"),),
    ),
    Case(
        "cme-numeric",
        (Cmd("AT+CPIN?"), b"\r\n+CME ERROR: 10\r\n"),
        (failed("AT+CPIN?", FinalKind.CME_ERROR, 10, "+CME ERROR: 10"),),
    ),
    Case(
        "cme-text-cmee2",
        (Cmd("AT+CSCA?"), b"\r\n+CME ERROR: SIM busy\r\n"),
        (failed("AT+CSCA?", FinalKind.CME_ERROR, 14, "+CME ERROR: SIM busy"),),
    ),
    Case(
        "cms-text-cmee2",  # transcripts T3 variant
        (Cmd("AT+CMGS=155", prompt=True), b"\r\n> ", Data("0071"), b"\r\n+CMS ERROR: invalid PDU mode parameter\r\n"),
        (Prompt(), failed("AT+CMGS=155", FinalKind.CMS_ERROR, 304, "+CMS ERROR: invalid PDU mode parameter")),
    ),
    Case(
        "cms-text-unknown",
        (Cmd("AT+CMGS=20", prompt=True), b"\r\n+CMS ERROR: Something Odd\r\n"),
        (failed("AT+CMGS=20", FinalKind.CMS_ERROR, None, "+CMS ERROR: Something Odd"),),
    ),
    Case(
        "cms-usim-spelling",
        (Cmd("AT+CMGS=20", prompt=True), b"\r\n+CMS ERROR: (U)SIM not inserted\r\n"),
        (failed("AT+CMGS=20", FinalKind.CMS_ERROR, 310, "+CMS ERROR: (U)SIM not inserted"),),
    ),
    Case(
        "command-not-support",  # Huawei, PGM-I105
        (Cmd("AT+WIND?"), b"\r\nCOMMAND NOT SUPPORT\r\n"),
        (failed("AT+WIND?", FinalKind.NOT_SUPPORTED, None, "COMMAND NOT SUPPORT"),),
    ),
    Case(
        "custom-not-supported-text",  # Cross PD1101wi (GAMMU-PROTO)
        (Cmd("AT+CGMR"), b"\r\nNOT FOND ^,NOT CUSTOM AT\r\n"),
        (failed("AT+CGMR", FinalKind.NOT_SUPPORTED, None, "NOT FOND ^,NOT CUSTOM AT"),),
        {"not_supported_texts": ("NOT FOND ^,NOT CUSTOM AT",)},
    ),
    Case(
        "cpin-no-ok",  # Wavecom M1306B: +CPIN: READY is final
        (Cmd("AT+CPIN?"), b"\r\n+CPIN: READY\r\n", Cmd("AT"), b"\r\nOK\r\n"),
        (Response("AT+CPIN?", ("+CPIN: READY",), Final(FinalKind.OK, None, "")), ok("AT")),
        {"cpin_no_ok": True},
    ),
    Case(
        "cpin-with-ok",
        (Cmd("AT+CPIN?"), b"\r\n+CPIN: READY\r\n\r\nOK\r\n"),
        (ok("AT+CPIN?", "+CPIN: READY"),),
    ),
    Case(
        "cpin-no-ok-profile-but-ok-comes",  # a wrong profile costs a Garbage event, never a hang
        (Cmd("AT+CPIN?"), b"\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n"),
        (Response("AT+CPIN?", ("+CPIN: SIM PIN",), Final(FinalKind.OK, None, "")), Garbage(b"OK")),
        {"cpin_no_ok": True},
    ),
    Case(
        "cpin-set-then-urcs",  # Quectel after PIN entry: OK, then +CPIN: READY, +QUSIM: 1, +QIND: ...
        (Cmd('AT+CPIN="1234"'), b"\r\n+CPIN: READY\r\n\r\nOK\r\n\r\n+QUSIM: 1\r\n\r\n+QIND: PB DONE\r\n"),
        (Urc("+CPIN", "+CPIN: READY"), ok('AT+CPIN="1234"'), Urc("+QUSIM", "+QUSIM: 1"), Urc("+QIND", "+QIND: PB DONE")),
        {"cpin_no_ok": True},
    ),
    Case(
        "urc-between-replies",
        (Cmd("AT"), b"\r\nOK\r\n\r\n+CMTI: \"SM\",3\r\n", Cmd("AT+CSQ"), b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"),
        (ok("AT"), Urc("+CMTI", '+CMTI: "SM",3'), ok("AT+CSQ", "+CSQ: 20,99")),
    ),
    Case(
        "urc-inside-reply",
        (Cmd("AT+CPMS?"), b'\r\n+CPMS: "SM",1,20\r\n\r\n+CMTI: "SM",1\r\n\r\nOK\r\n'),
        (Urc("+CMTI", '+CMTI: "SM",1'), ok("AT+CPMS?", '+CPMS: "SM",1,20')),
    ),
    Case(
        "urc-inside-echo",  # E3372 capture (LEDE-1323), LF line endings as captured
        (Cmd("AT+CGMI"), b'A\n^RSSI:20\n\n^HCSQ:"LTE",49,39,121,20\nT+CGMI\nhuawei\n\nOK\n'),
        (Urc("^RSSI", "^RSSI:20"), Urc("^HCSQ", '^HCSQ:"LTE",49,39,121,20'), Echo("AT+CGMI"), ok("AT+CGMI", "huawei")),
    ),
    Case(
        "urc-inside-echo-ignored",
        (Cmd("AT+CGMI"), b'A\n^RSSI:20\n\n^HCSQ:"LTE",49,39,121,20\nT+CGMI\nhuawei\n\nOK\n'),
        (Echo("AT+CGMI"), ok("AT+CGMI", "huawei")),
        {"urc_ignore": ("^RSSI:", "^HCSQ:")},
    ),
    Case(
        "echo-piece-that-is-not-an-echo",  # a line that only looked like the start of the echo
        (Cmd("ATI"), b"\r\nA\r\nModel: E173\r\n\r\nOK\r\n"),
        (ok("ATI", "A", "Model: E173"),),
    ),
    Case(
        "urc-ignore-drops-and-keeps-others",
        (b"\r\n^RSSI:14\r\n\r\n^BOOT:91409020,0,0,0,6\r\n\r\n^MODE:5,4\r\n\r\n^RSSILVL:80\r\n",),
        (Urc("^BOOT", "^BOOT:91409020,0,0,0,6"), Urc("^RSSILVL", "^RSSILVL:80")),  # "^RSSI:" is not "^RSSILVL:"
        {"urc_ignore": ("^RSSI:", "^MODE:")},
    ),
    Case(
        "plain-urcs",  # SIM800 boot/power, Quectel/SIMCom boot, calls
        (
            b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nCall Ready\r\n\r\nSMS Ready\r\n\r\nSMS DONE\r\n"
            b"\r\nPB DONE\r\n\r\nRING\r\n\r\nNO CARRIER\r\n\r\nUNDER-VOLTAGE WARNNING\r\n\r\nUNDER-VOLTAGE POWER DOWN\r\n",
        ),
        (
            Urc("RDY", "RDY"), Urc("+CFUN", "+CFUN: 1"), Urc("+CPIN", "+CPIN: READY"), Urc("Call Ready", "Call Ready"),
            Urc("SMS Ready", "SMS Ready"), Urc("SMS DONE", "SMS DONE"), Urc("PB DONE", "PB DONE"), Urc("RING", "RING"),
            Urc("NO CARRIER", "NO CARRIER"), Urc("UNDER-VOLTAGE WARNNING", "UNDER-VOLTAGE WARNNING"),
            Urc("UNDER-VOLTAGE POWER DOWN", "UNDER-VOLTAGE POWER DOWN"),
        ),
    ),
    Case(
        "plain-urcs-inside-reply",
        (Cmd("AT+CSQ"), b"\r\nRING\r\n\r\n+CSQ: 9,99\r\n\r\nCall Ready\r\n\r\nOK\r\n"),
        (Urc("RING", "RING"), Urc("Call Ready", "Call Ready"), ok("AT+CSQ", "+CSQ: 9,99")),
    ),
    Case(
        "no-carrier-final-of-dial",
        (Cmd("ATD+79161234567;"), b"\r\nNO CARRIER\r\n"),
        (failed("ATD+79161234567;", FinalKind.NO_CARRIER, None, "NO CARRIER"),),
    ),
    Case(
        "no-carrier-during-other-command-is-urc",
        (Cmd("AT+CSQ"), b"\r\nNO CARRIER\r\n\r\n+CSQ: 9,99\r\n\r\nOK\r\n"),
        (Urc("NO CARRIER", "NO CARRIER"), ok("AT+CSQ", "+CSQ: 9,99")),
    ),
    Case(
        "creg-query-vs-urc",  # 27.007 §7.2: the answer is <n>,<stat>[,...]; the URC is <stat>[,"<lac>",...]
        (Cmd("AT+CREG?"), b'\r\n+CREG: 1,"00C3","1A2B"\r\n\r\n+CREG: 2,1,"00C3","1A2B"\r\n\r\n+CREG: 5\r\n\r\nOK\r\n'),
        (
            Urc("+CREG", '+CREG: 1,"00C3","1A2B"'),
            Urc("+CREG", "+CREG: 5"),
            ok("AT+CREG?", '+CREG: 2,1,"00C3","1A2B"'),
        ),
    ),
    Case(
        "creg-spaces",  # some modems put spaces in answers (smstools)
        (Cmd("AT+CREG?"), b"\r\n+CREG: 0, 1\r\n\r\nOK\r\n"),
        (ok("AT+CREG?", "+CREG: 0, 1"),),
    ),
    Case(
        "creg-test-and-set",
        (Cmd("AT+CREG=?"), b"\r\n+CREG: (0-2)\r\n\r\nOK\r\n", Cmd("AT+CREG=2"), b"\r\n+CREG: 2\r\n\r\nOK\r\n"),
        (ok("AT+CREG=?", "+CREG: (0-2)"), Urc("+CREG", "+CREG: 2"), ok("AT+CREG=2")),
    ),
    Case(
        "cfun-set-with-urc",
        (Cmd("AT+CFUN=1"), b"\r\n+CFUN: 1\r\n\r\nOK\r\n", Cmd("AT+CFUN?"), b"\r\n+CFUN: 1\r\n\r\nOK\r\n"),
        (Urc("+CFUN", "+CFUN: 1"), ok("AT+CFUN=1"), ok("AT+CFUN?", "+CFUN: 1")),
    ),
    Case(
        "compound-command",
        (Cmd("AT+COPS=3,0;+COPS?"), b'\r\n+COPS: 0,0,"MTS RUS",2\r\n\r\nOK\r\n'),
        (ok("AT+COPS=3,0;+COPS?", '+COPS: 0,0,"MTS RUS",2'),),
    ),
    Case(
        "unknown-prefixed-line-belongs-to-reply",
        (Cmd("ATI"), b"\r\nManufacturer: huawei\r\nModel: E173\r\n+GCAP: +CGSM,+DS,+ES\r\n\r\nOK\r\n"),
        (ok("ATI", "Manufacturer: huawei", "Model: E173", "+GCAP: +CGSM,+DS,+ES"),),
    ),
    Case(
        "unknown-prefixed-line-unsolicited",
        (b"\r\n+ZUSIMR:2\r\n\r\n+ZPASR: \"UMTS\"\r\n\r\n+XYZ: 1\r\n",),
        (Urc("+ZUSIMR", "+ZUSIMR:2"), Urc("+ZPASR", '+ZPASR: "UMTS"'), Urc("+XYZ", "+XYZ: 1")),
    ),
    Case(
        "cmt-pdu",
        (b"\r\n+CMT: ,24\r\n07919761989901F0040B919761214365F7000852304101127021\r\n",),
        (Urc("+CMT", "+CMT: ,24", "07919761989901F0040B919761214365F7000852304101127021"),),
    ),
    Case(
        "cmt-text",  # EC25 manual, AT+CSDH=1
        (b'\r\n+CMT: "+8615021012496",,"13/03/18,17:07:21+32",145,4,0,0,"+8613800551500",145,28\r\nThis is a test from Quectel.\r\n',),
        (
            Urc(
                "+CMT",
                '+CMT: "+8615021012496",,"13/03/18,17:07:21+32",145,4,0,0,"+8613800551500",145,28',
                "This is a test from Quectel.",
            ),
        ),
    ),
    Case(
        "cmt-text-body-looks-like-ok",
        (Cmd("AT+CSQ"), b'\r\n+CMT: "+79161234567",,"25/03/14,10:41:20+12"\r\nOK\r\n\r\n+CSQ: 9,99\r\n\r\nOK\r\n'),
        (Urc("+CMT", '+CMT: "+79161234567",,"25/03/14,10:41:20+12"', "OK"), ok("AT+CSQ", "+CSQ: 9,99")),
    ),
    Case(
        "cds-pdu-inside-reply",
        (
            Cmd("AT+CSQ"),
            b"\r\n+CSQ: 9,99\r\n\r\n+CDS: 25\r\n07919761989901F006170B919761214365F7523041210020215230412100902100\r\n\r\nOK\r\n",
        ),
        (
            Urc("+CDS", "+CDS: 25", "07919761989901F006170B919761214365F7523041210020215230412100902100"),
            ok("AT+CSQ", "+CSQ: 9,99"),
        ),
    ),
    Case(
        "cds-text-is-one-line",
        (b'\r\n+CDS: 6,12,"+79161234567",145,"25/03/14,10:30:02+12","25/03/14,10:30:06+12",0\r\n\r\n+CMTI: "SM",2\r\n',),
        (
            Urc("+CDS", '+CDS: 6,12,"+79161234567",145,"25/03/14,10:30:02+12","25/03/14,10:30:06+12",0'),
            Urc("+CMTI", '+CMTI: "SM",2'),
        ),
    ),
    Case(
        "cds-header-without-pdu",  # the wait ends at a non-hex line, which is then handled normally
        (b"\r\n+CDS: 25\r\n\r\n+CMTI: \"SM\",2\r\n",),
        (Urc("+CDS", "+CDS: 25", None), Urc("+CMTI", '+CMTI: "SM",2')),
    ),
    Case(
        "cdsi-and-cbm",
        (b'\r\n+CDSI: "SR",1\r\n\r\n+CBM: 88\r\n0011000B9100\r\n',),
        (Urc("+CDSI", '+CDSI: "SR",1'), Urc("+CBM", "+CBM: 88", "0011000B9100")),
    ),
    Case(
        "cmgl-pdu-with-urc-and-junk",  # PGM-TEST puts a junk line inside a +CMGL reply
        (
            Cmd("AT+CMGL=4"),
            (
                f"\r\n+CMGL: 0,0,,24\r\n{CMGL_PDU_1}\r\n+CMGL: 1,0,,24\r\n"
                f'\r\n+CMTI: "SM",2\r\nthis is junk\r\n{CMGL_PDU_2}\r\n\r\nOK\r\n'
            ).encode(),
        ),
        (
            Urc("+CMTI", '+CMTI: "SM",2'),
            Garbage(b"this is junk"),
            ok("AT+CMGL=4", "+CMGL: 0,0,,24", CMGL_PDU_1, "+CMGL: 1,0,,24", CMGL_PDU_2),
        ),
    ),
    Case(
        "cmgr-pdu-zte-missing-stat",  # PGM-TEST: +CMGR: ,,27
        (Cmd("AT+CMGR=1"), b"\r\n+CMGR: ,,27\r\n0297F1040B\r\n\r\nOK\r\n"),
        (ok("AT+CMGR=1", "+CMGR: ,,27", "0297F1040B"),),
    ),
    Case(
        "cmgr-text-body-is-ok",
        (Cmd("AT+CMGR=2"), b'\r\n+CMGR: "REC UNREAD","+79161234567",,"25/03/14,10:41:20+12"\r\nOK\r\n\r\nOK\r\n'),
        (ok("AT+CMGR=2", '+CMGR: "REC UNREAD","+79161234567",,"25/03/14,10:41:20+12"', "OK"),),
    ),
    Case(
        "cmgr-text-empty-body",
        (Cmd("AT+CMGR=2"), b'\r\n+CMGR: "REC READ","+79161234567",,"25/03/14,10:41:20+12"\r\n\r\n\r\nOK\r\n'),
        (ok("AT+CMGR=2", '+CMGR: "REC READ","+79161234567",,"25/03/14,10:41:20+12"', ""),),
    ),
    Case(
        "cmgr-text-status-report-has-no-body",  # PGM-TEST
        (Cmd("AT+CMGR=3"), b'\r\n+CMGR: ,6,20,"0870000000",129,"13/04/29,19:58:00+04","13/04/29,19:59:00+04",0\r\n\r\nOK\r\n'),
        (ok("AT+CMGR=3", '+CMGR: ,6,20,"0870000000",129,"13/04/29,19:58:00+04","13/04/29,19:59:00+04",0'),),
    ),
    Case(
        "cmgr-empty-slot-huawei",  # MU509: an empty index answers plain OK
        (Cmd("AT+CMGR=7"), b"\r\nOK\r\n"),
        (ok("AT+CMGR=7"),),
    ),
    Case(
        "cmgl-text-mode",
        (
            Cmd('AT+CMGL="ALL"'),
            b'\r\n+CMGL: 0,"REC UNREAD","+27748577604",,"13/01/28,14:51:42+08"\r\nHello +CMTI: "SM",1\r\n'
            b'+CMGL: 1,"REC READ","+27748577604",,"13/01/28,14:52:00+08"\r\nRING\r\n\r\nOK\r\n',
        ),
        (
            ok(
                'AT+CMGL="ALL"',
                '+CMGL: 0,"REC UNREAD","+27748577604",,"13/01/28,14:51:42+08"',
                'Hello +CMTI: "SM",1',
                '+CMGL: 1,"REC READ","+27748577604",,"13/01/28,14:52:00+08"',
                "RING",
            ),
        ),
    ),
    Case(
        "text-body-latin1-fallback",
        (Cmd("AT+CMGR=1"), b'\r\n+CMGR: "REC READ","+4912345",,"25/03/14,10:41:20+12"\r\nCaf\xe9\r\n\r\nOK\r\n'),
        (ok("AT+CMGR=1", '+CMGR: "REC READ","+4912345",,"25/03/14,10:41:20+12"', "Caf\xe9"),),
    ),
    Case(
        "prompt-pdu-echo-off",
        (Cmd("AT+CMGS=24", prompt=True), b"\r\n> ", Data("0011000B91"), b"\r\n+CMGS: 37\r\n\r\nOK\r\n"),
        (Prompt(), ok("AT+CMGS=24", "+CMGS: 37")),
    ),
    Case(
        "prompt-echo-on-pdu-echoed-split",  # NUTTX-EG25: the typed PDU comes back before +CMGS
        (
            Cmd("AT+CMGS=24", prompt=True),
            b"AT+CMGS=24\r\r\n> ",
            Data("0011000B919761214365F7"),
            b"0011000B9197\r\n61214365F7\x1a\r\n+CMGS: 38\r\n\r\nOK\r\n",
        ),
        (Echo("AT+CMGS=24"), Prompt(), Echo("0011000B919761214365F7"), ok("AT+CMGS=24", "+CMGS: 38")),
    ),
    Case(
        "prompt-after-zte-urcs",  # PGM-TEST: +ZDONR/+ZPASR before the prompt and before +CMGS
        (
            Cmd("AT+CMGS=24", prompt=True),
            b'\r\n+ZDONR: "MTS",250,1,"CS_PS","ROAM_OFF"\r\n\r\n+ZPASR: "UMTS"\r\n\r\n> ',
            Data("0011"),
            b'\r\n+ZPASR: "UMTS"\r\n\r\n+CMGS: 5\r\n\r\nOK\r\n',
        ),
        (
            Urc("+ZDONR", '+ZDONR: "MTS",250,1,"CS_PS","ROAM_OFF"'),
            Urc("+ZPASR", '+ZPASR: "UMTS"'),
            Prompt(),
            Urc("+ZPASR", '+ZPASR: "UMTS"'),
            ok("AT+CMGS=24", "+CMGS: 5"),
        ),
    ),
    Case(
        "prompt-without-space",  # ModemManager accepts \r\n>\s*$
        (Cmd("AT+CMGS=24", prompt=True), b"\r\n>", Data("00"), b"\r\n+CMGS: 1\r\n\r\nOK\r\n"),
        (Prompt(), ok("AT+CMGS=24", "+CMGS: 1")),
    ),
    Case(
        "text-mode-payload-echo",  # NUTTX-EG25 text mode: the text comes back split across reads
        (
            Cmd('AT+CMGS="+79161234567"', prompt=True),
            b'AT+CMGS="+79161234567"\r\r\n> ',
            Data("Your order 1234 is ready."),
            b"Your order 1234 is ready.\x1a\r\n+CMGS: 12\r\n\r\nOK\r\n",
        ),
        (
            Echo('AT+CMGS="+79161234567"'),
            Prompt(),
            Echo("Your order 1234 is ready."),
            ok('AT+CMGS="+79161234567"', "+CMGS: 12"),
        ),
    ),
    Case(
        "escape-cancels",  # TELIT: after ESC the modem answers OK and sends nothing
        (Cmd("AT+CMGS=24", prompt=True), b"\r\n> ", Cancel(), b"\r\nOK\r\n"),
        (Prompt(), ok("AT+CMGS=24")),
    ),
    Case(
        "escape-before-prompt",  # Gammu writes ESC when the prompt does not come
        (Cmd("AT+CMGS=24", prompt=True), Cancel(), b"\r\nOK\r\n"),
        (ok("AT+CMGS=24"),),
    ),
    Case(
        "no-prompt-error",
        (Cmd("AT+CMGS=24", prompt=True), b"\r\n+CMS ERROR: 331\r\n"),
        (failed("AT+CMGS=24", FinalKind.CMS_ERROR, 331, "+CMS ERROR: 331"),),
    ),
    Case(
        "prompt-bytes-when-not-expected-are-text",
        (b"\r\n> hello\r\n", Cmd("AT"), b"\r\n> \r\nOK\r\n"),
        (Garbage(b"> hello"), ok("AT", ">")),
    ),
    Case(
        "undecodable-bytes",  # SIM800 before auto-baud sync: garbage, then a normal reply
        (b"\xff\xfe\x00\x80\r\n", Cmd("AT"), b"\r\n\xc3(\r\n\r\nOK\r\n"),
        (Garbage(b"\xff\xfe\x00\x80"), Garbage(b"\xc3("), ok("AT")),
    ),
    Case(
        "noise-glued-to-meaningful-lines",  # the simulator's garbage knob lands right before a reply
        (
            Cmd("AT+CSQ"),
            b"\xff\xfe\x00junk\x80AT+CSQ\r\r\n\x00+CSQ: 9,99\r\n\xffRING\r\n\xfe\xfenoise\r\n\r\n\xff\xffOK\r\n",
        ),
        (
            Garbage(b"\xff\xfe\x00junk\x80"),
            Echo("AT+CSQ"),
            Garbage(b"\x00"),
            Garbage(b"\xff"),
            Urc("RING", "RING"),
            Garbage(b"\xfe\xfenoise"),
            Garbage(b"\xff\xff"),
            ok("AT+CSQ", "+CSQ: 9,99"),
        ),
    ),
    Case(
        "stray-final-codes",
        (b"\r\nOK\r\n\r\nERROR\r\n\r\nhuawei\r\n",),
        (Garbage(b"OK"), Garbage(b"ERROR"), Garbage(b"huawei")),
    ),
    Case(
        "abandon-echo-on-late-reply",
        (
            Cmd("AT+COPS?"),
            b"AT+COPS?\r",
            Abandon(),
            Cmd("AT+CSQ"),
            b'\r\n+COPS: 0,0,"MegaFon",7\r\n\r\n+CMTI: "SM",1\r\n\r\nOK\r\nAT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n',
        ),
        (
            Echo("AT+COPS?"),
            Garbage(b'+COPS: 0,0,"MegaFon",7'),
            Urc("+CMTI", '+CMTI: "SM",1'),
            Garbage(b"OK"),
            Echo("AT+CSQ"),
            ok("AT+CSQ", "+CSQ: 20,99"),
        ),
    ),
    Case(
        "abandon-late-reply-before-next-command",
        (Cmd("AT+COPS?"), Abandon(), b'\r\n+COPS: 0,0,"MegaFon",7\r\n\r\nOK\r\n', Cmd("AT"), b"\r\nOK\r\n"),
        (Garbage(b'+COPS: 0,0,"MegaFon",7'), Garbage(b"OK"), ok("AT")),
    ),
    Case(
        "abandon-then-echo-turned-off",  # the guard costs one more timeout at most, never a hang
        (
            Cmd("ATE0"), b"ATE0\r", Abandon(),
            Cmd("AT+CMEE=1"), b"\r\nOK\r\n", Abandon(),  # taken for ATE0's late OK; echo is off now
            Cmd("AT+CSQ"), b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n",
        ),
        (Echo("ATE0"), Garbage(b"OK"), ok("AT+CSQ", "+CSQ: 20,99")),
    ),
    Case(
        "ctrl-z-echo-alone",
        (Cmd("AT+CMGS=24", prompt=True), b"\r\n> ", Data("00"), b"00\r\n\x1a\r\n+CMGS: 2\r\n\r\nOK\r\n"),
        (Prompt(), Echo("00"), ok("AT+CMGS=24", "+CMGS: 2")),
    ),
    Case(
        "overlong-line",
        (b"x" * (MAX_LINE + 5) + b"\r\n\r\nRING\r\n",),
        (Garbage(b"x" * MAX_LINE), Garbage(b"xxxxx"), Urc("RING", "RING")),
    ),
    Case(
        "overlong-line-exact",
        (b"y" * MAX_LINE + b"\r\nRING\r\n",),
        (Garbage(b"y" * MAX_LINE), Urc("RING", "RING")),
    ),
]


def test_case_ids_are_unique() -> None:
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize("split", [whole, bytewise], ids=["whole", "bytewise"])
def test_case(case: Case, split: Splitter) -> None:
    assert run(case.script, split, **case.options) == list(case.expected)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_cases_in_random_chunks(data: st.DataObject) -> None:
    case = data.draw(st.sampled_from(CASES), label="case")

    def random_split(raw: bytes) -> list[bytes]:
        cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(raw) - 1)), max_size=8)))
        bounds = [0, *[c for c in cuts if c < len(raw)], len(raw)]
        return [raw[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]

    assert run(case.script, random_split, **case.options) == list(case.expected)


# --- the API -----------------------------------------------------------------------------


def test_pending_and_command_bytes() -> None:
    engine = AtEngine()
    assert engine.pending is None
    assert engine.command("  AT+CSQ ") == b"AT+CSQ\r"
    assert engine.pending == "AT+CSQ"
    with pytest.raises(AtUsageError):
        engine.command("AT")
    engine.feed(b"\r\nOK\r\n")
    assert engine.pending is None


@pytest.mark.parametrize("bad", ["", "AT\r", "AT\nAT", "AT\x1a", "AT+CSCA=\"Ж\""])
def test_command_rejects_text_that_breaks_framing(bad: str) -> None:
    with pytest.raises(ValueError):
        AtEngine().command(bad)


def test_send_data_needs_prompt_and_clean_payload() -> None:
    engine = AtEngine()
    with pytest.raises(AtUsageError):
        engine.send_data("00")
    engine.command("AT+CMGS=1", expect_prompt=True)
    with pytest.raises(AtUsageError):
        engine.send_data("00")
    assert engine.feed(b"\r\n> ") == [Prompt()]
    assert engine.prompted
    for bad in ("00\x1a", "00\x1b", "a\rb", "привет"):
        with pytest.raises(ValueError):
            engine.send_data(bad)
    assert engine.send_data("00") == b"00\x1a"
    assert not engine.prompted
    with pytest.raises(AtUsageError):
        engine.send_data("00")
    with pytest.raises(AtUsageError):
        engine.cancel_data()


def test_send_data_after_error_instead_of_prompt_raises() -> None:
    engine = AtEngine()
    engine.command("AT+CMGS=1", expect_prompt=True)
    [response] = engine.feed(b"\r\nERROR\r\n")
    assert isinstance(response, Response) and not response.ok
    with pytest.raises(AtUsageError):
        engine.send_data("00")


def test_cancel_needs_a_prompting_command() -> None:
    engine = AtEngine()
    with pytest.raises(AtUsageError):
        engine.cancel_data()
    engine.command("AT+CSQ")
    with pytest.raises(AtUsageError):
        engine.cancel_data()


def test_abandon_without_pending_is_harmless() -> None:
    engine = AtEngine()
    engine.abandon()
    engine.command("AT")
    assert engine.feed(b"\r\nOK\r\n") == [ok("AT")]


def test_feed_empty_and_events_are_frozen() -> None:
    engine = AtEngine()
    assert engine.feed(b"") == []
    [urc] = engine.feed(b"\r\n+CMTI: \"SM\",4\r\n")
    assert isinstance(urc, Urc) and urc.args == '"SM",4'
    with pytest.raises(dataclasses.FrozenInstanceError):
        urc.name = "x"  # type: ignore[misc]


def test_ignored_urcs_are_counted() -> None:
    engine = AtEngine(urc_ignore=["^RSSI:", " "])
    assert engine.feed(b"\r\n^RSSI:14\r\n\r\n^RSSI:15\r\n\r\n+CMTI: \"SM\",1\r\n") == [Urc("+CMTI", '+CMTI: "SM",1')]
    assert engine.ignored == 2


def test_two_line_urcs_cannot_be_ignored() -> None:
    engine = AtEngine(urc_ignore=["+CMT:"])
    assert engine.feed(b"\r\n+CMT: ,2\r\n0001\r\n") == [Urc("+CMT", "+CMT: ,2", "0001")]


def test_urc_args() -> None:
    assert Urc("RING", "RING").args == ""
    assert Urc("^RSSI", "^RSSI:20").args == "20"
    assert Urc("+CMT", "+CMT: ,24", "00").args == ",24"


def test_parse_fields() -> None:
    assert parse_fields('"SM",3') == ("SM", "3")
    assert parse_fields('0,0,"MTS, RUS",2') == ("0", "0", "MTS, RUS", "2")
    assert parse_fields(' 0, 1 ') == ("0", "1")
    assert parse_fields("") == ("",)


# --- error tables and classes --------------------------------------------------------------


@pytest.mark.parametrize("code", [38, 41, 42, 47, 111, 192, 314, 330, 331, 332, 500, 512, 513, 514, 515])
def test_cms_transient(code: int) -> None:
    assert classify_cms(code) is ErrorClass.TRANSIENT


@pytest.mark.parametrize("code", [1, 8, 10, 21, 28, 29, 30, 50, 96, 144, 150, 193, 197, 303, 304, 305, 321])
def test_cms_permanent(code: int) -> None:
    assert classify_cms(code) is ErrorClass.PERMANENT


@pytest.mark.parametrize("code", [208, 211, 300, 302, 310, 311, 313, 315, 316, 320, 322])
def test_cms_modem_fault(code: int) -> None:
    assert classify_cms(code) is ErrorClass.MODEM_FAULT


@pytest.mark.parametrize(
    ("code", "expected"),
    [(14, ErrorClass.TRANSIENT), (30, ErrorClass.TRANSIENT), (31, ErrorClass.TRANSIENT), (515, ErrorClass.TRANSIENT),
     (10, ErrorClass.MODEM_FAULT), (11, ErrorClass.MODEM_FAULT), (13, ErrorClass.MODEM_FAULT),
     (262, ErrorClass.MODEM_FAULT), (4, ErrorClass.PERMANENT), (21, ErrorClass.PERMANENT)],
)
def test_cme_classes(code: int, expected: ErrorClass) -> None:
    assert classify_cme(code) is expected


def test_unlisted_codes_are_transient_and_described() -> None:
    assert classify_cms(999) is ErrorClass.TRANSIENT and classify_cme(999) is ErrorClass.TRANSIENT
    assert describe_cms(999) == "manufacturer-specific error 999"
    assert describe_cme(999) == "manufacturer-specific error 999"
    assert describe_cms(131) == "TP-PID error 0x83"
    assert describe_cms(150) == "TP-DCS error 0x96"
    assert describe_cms(3) == "network cause 3"
    assert describe_cme(99) == "unlisted error 99"
    assert describe_cms(304) == "invalid PDU mode parameter"
    assert describe_cme(14) == "SIM busy"


@pytest.mark.parametrize(("table", "prefix"), [(CMS_ERRORS, "+CMS ERROR: "), (CME_ERRORS, "+CME ERROR: ")])
def test_every_standard_text_maps_back_to_its_code(table: Any, prefix: str) -> None:
    kind = FinalKind.CMS_ERROR if "CMS" in prefix else FinalKind.CME_ERROR
    for code, (description, cls) in table.items():
        assert description and isinstance(cls, ErrorClass)
        if code >= 512:
            continue
        engine = AtEngine()
        engine.command("AT+CMGS=1", expect_prompt=True)
        [response] = engine.feed(f"\r\n{prefix}{description.upper()}.\r\n".encode())
        assert isinstance(response, Response)
        assert (response.final.kind, response.final.code) == (kind, code), description
        assert response.final.error_class is cls


def test_final_properties() -> None:
    assert Final(FinalKind.OK, None, "OK").error_class is None
    assert Final(FinalKind.OK, None, "OK").description == "OK"
    cms = Final(FinalKind.CMS_ERROR, 38, "+CMS ERROR: 38")
    assert cms.error_class is ErrorClass.TRANSIENT and cms.description == "network out of order (CMS 38)"
    cme = Final(FinalKind.CME_ERROR, 14, "+CME ERROR: SIM busy")
    assert cme.error_class is ErrorClass.TRANSIENT and cme.description == "SIM busy (CME 14)"
    odd = Final(FinalKind.CME_ERROR, None, "+CME ERROR: flux capacitor")
    assert odd.error_class is ErrorClass.TRANSIENT and odd.description == "flux capacitor"
    assert Final(FinalKind.ERROR, None, "ERROR").error_class is ErrorClass.TRANSIENT
    assert Final(FinalKind.NOT_SUPPORTED, None, "COMMAND NOT SUPPORT").error_class is ErrorClass.PERMANENT
    assert Final(FinalKind.NO_CARRIER, None, "NO CARRIER").description == "no carrier"


# --- never raise, never grow without bound ---------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(st.binary(max_size=64), max_size=20), prompt=st.booleans())
def test_random_bytes_never_raise(chunks: list[bytes], prompt: bool) -> None:
    engine = AtEngine(urc_ignore=["^RSSI:"], cpin_no_ok=True)
    engine.command("AT+CMGS=10", expect_prompt=prompt)
    for chunk in chunks:
        for event in engine.feed(chunk):
            assert isinstance(event, (Echo, Prompt, Response, Urc, Garbage))


_ALPHABET = st.sampled_from(
    [b"\r", b"\n", b"\r\n", b"> ", b">", b"OK", b"ERROR", b"+CMT: ,2", b"+CDS: 5", b"00FF", b"+CMGL: 0,0,,2",
     b'+CMGR: "REC READ","+7",,"x"', b"+CME ERROR: 14", b"+CMS ERROR: SIM busy", b"^RSSI:9", b"RING", b"AT",
     b"AT+CMGL=4", b"+CREG: 1", b"+CPIN: READY", b"\x1a", b"\x1b", b"\xff", b"\x00", b"COMMAND NOT SUPPORT"]
)


@settings(max_examples=300, deadline=None)
@given(
    ops=st.lists(
        st.one_of(
            st.lists(_ALPHABET, max_size=12).map(b"".join),
            st.sampled_from(["cmd", "cmgl", "cmgs", "data", "cancel", "abandon", "cpin"]),
        ),
        max_size=30,
    )
)
def test_random_sessions_never_raise_and_chunking_never_matters(ops: list[bytes | str]) -> None:
    """Interleave host actions with modem-like noise; whole and byte-by-byte feeding must agree."""
    results = []
    for split in (whole, bytewise):
        engine = AtEngine(urc_ignore=["^RSSI:"], cpin_no_ok=True)
        events: list[Event] = []
        for op in ops:
            if isinstance(op, bytes):
                for chunk in split(op):
                    events += engine.feed(chunk)
            elif op == "abandon":
                engine.abandon()
            elif op in ("data", "cancel"):
                if engine.prompted:
                    events.append(Echo(engine.send_data("00FF").decode() if op == "data" else engine.cancel_data().hex()))
            elif engine.pending is None:
                command = {"cmd": "AT", "cmgl": "AT+CMGL=4", "cmgs": "AT+CMGS=2", "cpin": "AT+CPIN?"}[op]
                engine.command(command, expect_prompt=op == "cmgs")
        results.append(events)
    assert results[0] == results[1]
