"""The byte-level transcripts of ../shared/reference/transcripts.md (SIM800L, Huawei E173/E3372,
Quectel EC25) played through the AT engine: as read, as one buffer, byte by byte, in random chunks."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_at import Cmd, Data, Step, bytewise, run, whole

from gateway.at import Echo, Event, Prompt, Response, Urc

TRANSCRIPTS = Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "transcripts.md"
_ARROW = re.compile(r'(H→M|M→H)\s+"((?:[^"\\]|\\.)*)"')
_PROMPTING = ("AT+CMGS=", "AT+CMGW=")


def _unescape(text: str) -> bytes:
    """Turn a transcript's C-escaped string into the bytes on the wire."""
    return codecs.decode(text, "unicode_escape").encode("latin-1")


def _blocks() -> list[tuple[str, tuple[Step, ...]]]:
    """Every fenced block with wire traffic, as (id, script); ids are section and block number."""
    if not TRANSCRIPTS.exists():
        return []
    out: list[tuple[str, tuple[Step, ...]]] = []
    section, inside, count = "", False, 0
    lines: list[str] = []
    for line in TRANSCRIPTS.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section, count = line[3:].split(".")[0], 0
        if line.startswith("```"):
            if inside:
                steps: list[Step] = []
                for text in lines:
                    for direction, raw in _ARROW.findall(text):
                        wire = _unescape(raw)
                        if direction == "M→H":
                            steps.append(wire)
                        elif wire.endswith(b"\r"):
                            command = wire[:-1].decode()
                            steps.append(Cmd(command, prompt=command.upper().startswith(_PROMPTING)))
                        else:
                            assert wire.endswith(b"\x1a"), wire
                            steps.append(Data(wire[:-1].decode()))
                if steps:
                    count += 1
                    out.append((f"{section}-{count}", tuple(steps)))
            inside, lines = not inside, []
            continue
        if inside:
            lines.append(line)
    return out


def _abbrev(text: str) -> str:
    return text if len(text) <= 40 else text[:32] + "…"


def summary(event: Event) -> str:
    """A short readable form of an event for the expectations below."""
    match event:
        case Echo(line):
            return f"echo {_abbrev(line)}"
        case Prompt():
            return "prompt"
        case Response(command, lines, final):
            head = f"{_abbrev(command)} -> {final.kind}" + (f" {final.code}" if final.code is not None else "")
            return " | ".join([head, *(_abbrev(line) for line in lines)])
        case Urc(name, _, data):
            return f"urc {name}" + (" + data" if data is not None else "")
        case _:
            return f"garbage {event!r}"


EXPECTED: dict[str, list[str]] = {
    # SIM800L on the Pi UART, echo on until ATE0, boot URCs between commands.
    "T1-1": [
        "echo AT", "AT -> ok", "urc +CPIN", "urc Call Ready", "urc SMS Ready",
        "echo AT+IPR=115200;&W", "AT+IPR=115200;&W -> ok", "echo ATE0", "ATE0 -> ok", "AT+CMEE=1 -> ok",
        "AT+CPIN? -> ok | +CPIN: READY", "AT+CREG? -> ok | +CREG: 0,1", "AT+CSQ -> ok | +CSQ: 18,0",
        "AT+CMGF=1 -> ok", 'AT+CSCS="GSM" -> ok', "AT+CSMP=49,167,0,0 -> ok",
        'AT+CPMS="SM","SM","SM" -> ok | +CPMS: 0,30,0,30,0,30', "AT+CNMI=2,1,0,1,0 -> ok",
    ],
    "T1-2": ["prompt", 'AT+CMGS="+79161234567" -> ok | +CMGS: 12', "urc +CDS"],
    "T1-3": [
        'AT+CSCS="UCS2" -> ok', "AT+CSMP=49,167,0,8 -> ok", 'AT+CMGS="+79161234567" -> error',
        "prompt", 'AT+CMGS="002B0037003900310036003… -> ok | +CMGS: 13',
    ],
    "T1-4": [
        "urc +CMTI",
        'AT+CMGR=1 -> ok | +CMGR: "REC UNREAD","002B0037003… | 041F044004380432043504420021',
        "AT+CMGD=1 -> ok", "AT+CMGL=4 -> error", 'AT+CMGL="ALL" -> ok',
    ],
    "T1-5": ["prompt", "urc UNDER-VOLTAGE WARNNING", "urc UNDER-VOLTAGE POWER DOWN"],
    # Huawei E173 PCUI: ^ noise, a URC before a prefix-less reply, COMMAND NOT SUPPORT.
    "T2-1": [
        "ATZ -> ok", "urc ^RSSI", "ATE0 -> ok", "AT+CMEE=1 -> ok", "urc ^MODE", "AT+CGMM -> ok | E173",
        "AT+WIND? -> not_supported", "AT^CURC=0 -> ok", "AT+CPIN? -> ok | +CPIN: READY",
        "AT+CREG? -> ok | +CREG: 0,1", 'AT+COPS=3,0;+COPS? -> ok | +COPS: 0,0,"MTS RUS",2',
        "AT+CSQ -> ok | +CSQ: 16,99", "AT+CMGF=0 -> ok", 'AT+CPMS=? -> ok | +CPMS: ("ME","MT","SM","SR"),("M…',
        'AT+CPMS="SM","SM","SM" -> ok | +CPMS: 0,20,0,20,0,20', "AT+CNMI=2,1,0,2,0 -> ok",
    ],
    "T2-2": ["urc ^RSSI", "urc ^HCSQ", "echo AT+CGMI", "AT+CGMI -> ok | huawei"],
    "T2-3": ["urc ^BOOT"],
    "T2-4": [
        "urc +CMTI", "urc +CMTI", "urc +CMTI",
        "AT+CMGL=4 -> ok | +CMGL: 0,0,,159 | 07919761989901F0440B919761214365… | +CMGL: 1,0,,159"
        " | 07919761989901F0440B919761214365… | +CMGL: 2,0,,85 | 07919761989901F0440B919761214365…",
    ],
    "T2-5": [
        "AT+CMGD=0 -> ok", "AT+CMGD=1 -> ok", "AT+CMGD=2 -> ok",
        'AT+CPMS? -> ok | +CPMS: "SM",0,20,"SM",0,20,"SM",0,20',
    ],
    # Quectel EG25-G boot: the first AT gets RDY, the second +CFUN: 1 (each times out), URCs
    # appended to an OK and arriving before an echo.
    "T3-1": [
        "urc RDY", "urc +CFUN", "echo AT", "AT -> ok", "echo AT", "AT -> ok", "urc +CPIN", "urc +QUSIM",
        "urc +QIND", "echo AT+CREG?", "AT+CREG? -> ok | +CREG: 0,2", "echo ATE0", "ATE0 -> ok", "urc +QIND",
        "AT+CMEE=2 -> ok", "AT+CREG? -> ok | +CREG: 0,1", 'AT+COPS? -> ok | +COPS: 0,0,"MegaFon",7',
        'AT+CSCA? -> ok | +CSCA: "+79168999100",145', "AT+CMGF=0 -> ok",
        'AT+CPMS="SM","SM","SM" -> ok | +CPMS: 0,50,0,50,0,50', "AT+CNMI=2,1,0,1,0 -> ok", "AT+CMMS=2 -> ok",
    ],
    "T3-2": [
        "prompt", "AT+CMGS=154 -> ok | +CMGS: 23", "prompt", "AT+CMGS=154 -> ok | +CMGS: 24",
        "prompt", "AT+CMGS=34 -> ok | +CMGS: 25",
    ],
    "T3-3": ["urc +CDS + data"] * 4,
    "T3-4": ["prompt", "AT+CMGS=155 -> cms_error 304"],
}

BLOCKS = _blocks()
pytestmark = pytest.mark.skipif(not BLOCKS, reason=f"{TRANSCRIPTS} is not available")


def _merged(script: tuple[Step, ...]) -> tuple[Step, ...]:
    """Join consecutive modem transmissions into one buffer."""
    out: list[Step] = []
    for step in script:
        if isinstance(step, bytes) and out and isinstance(out[-1], bytes):
            out[-1] = out[-1] + step
        else:
            out.append(step)
    return tuple(out)


def test_every_transcript_block_has_an_expectation() -> None:
    assert sorted(EXPECTED) == sorted(block_id for block_id, _ in BLOCKS)


@pytest.mark.parametrize(("block_id", "script"), BLOCKS, ids=[b for b, _ in BLOCKS])
@pytest.mark.parametrize("mode", ["as-read", "one-buffer", "bytewise"])
def test_transcript(block_id: str, script: tuple[Step, ...], mode: str) -> None:
    if mode == "one-buffer":
        script = _merged(script)
    events = run(script, bytewise if mode == "bytewise" else whole, timeouts=True)
    assert [summary(e) for e in events] == EXPECTED[block_id]


def test_transcript_payload_echo_split_across_reads() -> None:
    """T3 notes that with echo on each PDU comes back split across reads before +CMGS (NUTTX-EG25)."""
    [(_, script)] = [(b, s) for b, s in BLOCKS if b == "T3-2"]
    pdu = next(step.payload for step in script if isinstance(step, Data))
    echoed = (
        Cmd("AT+CMGS=154", prompt=True), b"AT+CMGS=154\r\r\n> ", Data(pdu),
        pdu[:100].encode(), pdu[100:].encode() + b"\x1a\r\n+CMGS: 23\r\n\r\nOK\r\n",
    )
    for split in (whole, bytewise):
        assert [summary(e) for e in run(echoed, split)] == [
            "echo AT+CMGS=154", "prompt", f"echo {pdu[:32]}…", "AT+CMGS=154 -> ok | +CMGS: 23",
        ]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_transcripts_in_random_chunks(data: st.DataObject) -> None:
    block_id, script = data.draw(st.sampled_from(BLOCKS), label="block")
    merged = _merged(script)

    def random_split(raw: bytes) -> list[bytes]:
        cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(raw) - 1)), max_size=10)))
        bounds = [0, *[c for c in cuts if c < len(raw)], len(raw)]
        return [raw[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]

    assert [summary(e) for e in run(merged, random_split, timeouts=True)] == EXPECTED[block_id]
