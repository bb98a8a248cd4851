"""A sans-IO AT command engine: bytes from the modem in, frozen events out.

The engine never touches a port, a clock or a thread.  The modem session writes the bytes that
`command()`, `send_data()` and `cancel_data()` return, feeds whatever it reads to `feed()`, and
acts on the events; timeouts belong to the session, which calls `abandon()` when one expires.

Rules (references: modem-behaviour.md §0, §1, §5, §9, §10; 3GPP TS 27.007 §9.2, TS 27.005 §3):

1. Chunking never matters.  `feed()` may get any split of the byte stream and returns the same
   events as for the whole buffer: a line is handled only once its terminator has arrived, and the
   prompt is decided by the bytes themselves, never by where a read ended.
2. Lines end at CR LF, a lone CR (the echo is `AT...\\r`) or a lone LF; so `\\r\\r\\n` (Huawei
   AT+CLAC) is a line and a blank line.  Blank lines are framing (ATV1 wraps every line in CR LF)
   and are dropped, except where a text-mode SMS body is due (rule 9).  Ctrl-Z and ESC bytes are
   removed from every line: a modem may echo them.  A line longer than MAX_LINE bytes is cut
   into Garbage pieces at fixed offsets.
3. Echo: while no information line of the pending command has arrived, a line equal to the command
   (case-insensitive) is an Echo; a double echo (`ATE0\\rATE0\\r`) gives two.  A line that is a
   proper prefix of the command is held, so an echo split by URCs (E3372:
   `A\\n^RSSI:20\\n...\\nT+CGMI`) still becomes one Echo; held pieces that never complete the echo
   become information lines.  After `send_data()` the same applies to the typed payload.
4. Prompt: when the pending command expects one, a `>` at the start of a line is the prompt
   (`\\r\\n> `, with nothing after the space, 27.005 §3.5.1); the one space after it is consumed.
   URC lines may come first (ZTE `+ZDONR`).  Elsewhere `> ` is ordinary text.
5. Final result codes end the pending command: OK, ERROR, `+CME ERROR: <n|text>`,
   `+CMS ERROR: <n|text>` (CMEE=2 text is mapped back to its code where the tables know it), the
   profile's not-supported texts (Huawei `COMMAND NOT SUPPORT`), and NO CARRIER / BUSY / NO ANSWER
   / NO DIALTONE for dial commands only (elsewhere NO CARRIER is a URC: a caller hung up).  With
   `cpin_no_ok` the `+CPIN:` line answering `AT+CPIN?` is final and the Response carries an
   implied OK whose `text` is empty (Wavecom M1306B, Sierra SL8084TR; §2).
6. URCs: a `+NAME:` line whose name the pending command expects is a response line; otherwise a
   line is a URC when it has a known URC name, a `^NAME:` prefix (Huawei noise), a known plain form
   (RING, RDY, Call Ready, SMS Ready, `UNDER-VOLTAGE WARNNING`, ...) or matches `urc_ignore`.
   `+CREG`/`+CGREG`/`+CEREG`/`+CPIN`/`+CFUN` lines answer only a query or test of that command,
   and for a `+CREG?` query a line shaped like the unsolicited form (`+CREG: <stat>` or a quoted
   LAC second) is still a URC.  With no command pending every `+X:`/`*X:` line is a URC.
7. `urc_ignore` prefixes are recognised as URCs and then dropped (no event; counted in `ignored`),
   so noise such as `^RSSI:` never reaches the session nor pollutes a reply.  Two-line URCs cannot
   be ignored, so their second line is never mistaken for something else.
8. Two-line URCs: `+CMT` always, `+CBM` always, `+CDS` in PDU form (`+CDS: <length>`).  The line
   after the header is their `data`.  A PDU is due when the header has the PDU shape; a line that
   is not hex then ends the wait (Urc with data None) and is handled normally.
9. `+CMGL`/`+CMGR` headers answering that command announce a body line that belongs to the
   response.  In PDU form the body is the next hex line: URCs in between stay URCs and other
   lines are Garbage (python-gsmmodem puts a junk line inside a +CMGL reply).  In text form the
   next line is the body whatever it says (even `OK` or blank); text-mode status reports have none.
   (A text-mode body of several lines keeps only its first line as the body; later ones are read
   as ordinary lines, so one reading `OK` would end the reply early.  PDU mode, which the gateway
   uses, has no such ambiguity; modem-behaviour.md §4.1.)
10. Undecodable input never raises: a line that is not UTF-8 or holds control characters is
    Garbage (but an echo, final code, URC or expected answer right after the last bad byte is
    kept, so noise glued to `OK` costs no timeout), as is an unexpected line (no command pending and no URC shape) and a final code that
    nothing waits for.  SMS bodies and URC data are decoded as UTF-8 with a Latin-1 fallback.
11. `abandon()` (host timeout) forgets the pending command.  Its late reply must not answer the next
    one: if the modem was echoing, everything before the next command's echo is Garbage (and its
    final code ends that grace); if it was not echoing the engine cannot tell, so the session
    should resynchronise (for example send `AT` and wait for its OK) before important commands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final as _Const

__all__ = [
    "CME_ERRORS",
    "CMS_ERRORS",
    "MAX_LINE",
    "AtEngine",
    "AtUsageError",
    "Echo",
    "ErrorClass",
    "Event",
    "Final",
    "FinalKind",
    "Garbage",
    "Prompt",
    "Response",
    "Urc",
    "classify_cme",
    "classify_cms",
    "describe_cme",
    "describe_cms",
    "parse_fields",
]

MAX_LINE: _Const = 8192  # longest line kept; a +CMGL PDU line is under 400 characters


class ErrorClass(StrEnum):
    """What an error means for the message or modem that met it (modem-behaviour.md §9.1)."""

    TRANSIENT = "transient"  # retry the same message later, with backoff
    PERMANENT = "permanent"  # fail this message (bad recipient, host bug, unsupported)
    MODEM_FAULT = "modem_fault"  # the modem or SIM needs attention: re-initialise, alert


class FinalKind(StrEnum):
    """The kind of final result code that ended a command."""

    OK = "ok"
    ERROR = "error"
    CME_ERROR = "cme_error"
    CMS_ERROR = "cms_error"
    NOT_SUPPORTED = "not_supported"
    NO_CARRIER = "no_carrier"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    NO_DIALTONE = "no_dialtone"


_T, _P, _M = ErrorClass.TRANSIENT, ErrorClass.PERMANENT, ErrorClass.MODEM_FAULT

# +CMS ERROR codes: 3GPP TS 27.005 §3.2.5; 0-127 are RP causes (TS 24.011 Annex E-2), 128-255
# TP-FCS values (TS 23.040 §9.2.3.22).  Classes follow modem-behaviour.md §9.1 row by row; where it
# says "T/M" or "P/T" the choice is noted.
CMS_ERRORS: Mapping[int, tuple[str, ErrorClass]] = MappingProxyType({
    1: ("unassigned (unallocated) number", _P),
    8: ("operator determined barring", _P),
    10: ("call barred", _P),
    21: ("short message transfer rejected", _P),  # §9.1 "P/T"; treated as a refusal, not retried
    27: ("destination out of service", _T),
    28: ("unidentified subscriber", _P),
    29: ("facility rejected", _P),
    30: ("unknown subscriber", _P),
    38: ("network out of order", _T),
    41: ("temporary failure", _T),
    42: ("congestion", _T),
    47: ("resources unavailable, unspecified", _T),
    50: ("requested facility not subscribed", _P),
    69: ("requested facility not implemented", _P),
    81: ("invalid short message transfer reference value", _T),
    95: ("invalid message, unspecified", _P),
    96: ("invalid mandatory information", _P),
    97: ("message type non-existent or not implemented", _P),
    98: ("message not compatible with short message protocol state", _P),
    99: ("information element non-existent or not implemented", _P),
    111: ("protocol error, unspecified", _T),
    127: ("interworking, unspecified", _T),  # §9.1 "T/P"; the attempt cap ends a lasting one
    128: ("telematic interworking not supported", _P),
    129: ("short message type 0 not supported", _P),
    130: ("cannot replace short message", _P),
    143: ("unspecified TP-PID error", _P),
    144: ("data coding scheme (alphabet) not supported", _P),
    145: ("message class not supported", _P),
    159: ("unspecified TP-DCS error", _P),
    160: ("command cannot be actioned", _P),
    161: ("command unsupported", _P),
    175: ("unspecified TP-Command error", _P),
    176: ("TPDU not supported", _P),
    192: ("SC busy", _T),
    193: ("no SC subscription", _P),
    194: ("SC system failure", _T),
    195: ("invalid SME address", _P),
    196: ("destination SME barred", _P),
    197: ("SM rejected - duplicate SM", _P),  # already accepted once: never resend
    198: ("TP-VPF not supported", _P),
    199: ("TP-VP not supported", _P),
    208: ("SIM SMS storage full", _M),
    211: ("memory capacity exceeded", _M),
    255: ("unspecified error cause", _T),
    300: ("ME failure", _M),  # §9.1 "M/T"
    301: ("SMS service of ME reserved", _T),
    302: ("operation not allowed", _M),  # §9.1 "T/M": SIM not ready or wrong mode; re-init fixes both
    303: ("operation not supported", _P),
    304: ("invalid PDU mode parameter", _P),  # host bug: wrong length or PDU
    305: ("invalid text mode parameter", _P),  # host bug or charset
    310: ("SIM not inserted", _M),
    311: ("SIM PIN required", _M),
    312: ("PH-SIM PIN required", _M),
    313: ("SIM failure", _M),
    314: ("SIM busy", _T),  # 1-7 s after PIN entry (§13.3)
    315: ("SIM wrong", _M),
    316: ("SIM PUK required", _M),
    317: ("SIM PIN2 required", _M),
    318: ("SIM PUK2 required", _M),
    320: ("memory failure", _M),
    321: ("invalid memory index", _P),
    322: ("memory full", _M),  # a storage problem of this modem: delete stored messages
    330: ("SMSC address unknown", _T),  # §9.1 "M/T": transient for seconds after boot (PGM-I10)
    331: ("no network service", _T),
    332: ("network timeout", _T),
    340: ("no +CNMA acknowledgement expected", _P),
    500: ("unknown error", _T),  # the generic send failure on many modems; attempts are capped
    # 512+ are manufacturer-specific (§9.1); the SIMCom/Wavecom meanings come from smstools.
    512: ("MM establishment failure or weak signal (vendor code)", _T),
    513: ("lower layer failure, radio link lost (vendor code)", _T),
    514: ("network error, congestion (vendor code)", _T),
    515: ("service not available, init in progress (vendor code)", _T),
    517: ("SIM not ready (vendor code, SIM300 SM BL NOT READY)", _T),
    532: ("SIM not ready (vendor code, Siemens)", _T),
    535: ("protocol stack busy (vendor code, Siemens)", _T),
})

# +CME ERROR codes: 3GPP TS 27.007 §9.2 as listed in modem-behaviour.md §9.2, which marks 14, 30,
# 31 and 515 transient.  SIM, PIN and registration-denied states are modem faults; argument
# errors are permanent.
CME_ERRORS: Mapping[int, tuple[str, ErrorClass]] = MappingProxyType({
    0: ("phone failure", _M),
    1: ("no connection to phone", _M),
    2: ("phone-adaptor link reserved", _T),
    3: ("operation not allowed", _M),  # like CMS 302: SIM not ready or wrong mode
    4: ("operation not supported", _P),
    5: ("PH-SIM PIN required", _M),
    6: ("PH-FSIM PIN required", _M),
    7: ("PH-FSIM PUK required", _M),
    10: ("SIM not inserted", _M),
    11: ("SIM PIN required", _M),
    12: ("SIM PUK required", _M),
    13: ("SIM failure", _M),
    14: ("SIM busy", _T),  # after boot or PIN entry; python-gsmmodem and ModemManager retry it
    15: ("SIM wrong", _M),
    16: ("incorrect password", _M),
    17: ("SIM PIN2 required", _M),
    18: ("SIM PUK2 required", _M),
    20: ("memory full", _M),
    21: ("invalid index", _P),
    22: ("not found", _P),
    23: ("memory failure", _M),
    24: ("text string too long", _P),
    25: ("invalid characters in text string", _P),
    26: ("dial string too long", _P),
    27: ("invalid characters in dial string", _P),
    30: ("no network service", _T),
    31: ("network timeout", _T),
    32: ("network not allowed - emergency calls only", _M),
    40: ("network personalization PIN required", _M),
    41: ("network personalization PUK required", _M),
    42: ("network subset personalization PIN required", _M),
    43: ("network subset personalization PUK required", _M),
    44: ("service provider personalization PIN required", _M),
    45: ("service provider personalization PUK required", _M),
    46: ("corporate personalization PIN required", _M),
    47: ("corporate personalization PUK required", _M),
    50: ("incorrect parameters", _P),
    100: ("unknown", _T),  # unknown cause, like CMS 500; attempts are capped
    103: ("illegal MS", _M),
    106: ("illegal ME", _M),
    107: ("GPRS services not allowed", _M),
    111: ("PLMN not allowed", _M),
    112: ("location area not allowed", _M),
    113: ("roaming not allowed in this location area", _M),
    132: ("service option not supported", _P),
    133: ("requested service option not subscribed", _P),
    134: ("service option temporarily out of order", _T),
    148: ("unspecified GPRS error", _T),
    149: ("PDP authentication failure", _P),
    256: ("operation temporarily not allowed", _T),
    257: ("call barred", _P),
    258: ("phone is busy", _T),
    262: ("SIM blocked", _M),  # field note: also a bad SIM socket contact (EXAMPLE-A-262)
    515: ("device busy", _T),  # vendor code: Wavecom after AT+CFUN=1; python-gsmmodem retries it
    772: ("SIM powered down", _M),
})

def _norm_text(text: str) -> str:
    """Normalise an error text for lookup: case, spacing, the `(U)SIM` spelling, end punctuation."""
    text = text.strip().strip('"').rstrip(".").lower().replace("(u)sim", "sim")
    return " ".join(text.split())


def _by_text(table: Mapping[int, tuple[str, ErrorClass]]) -> dict[str, int]:
    """Map the normalised standard texts (CMEE=2 wording) to their codes; vendor codes (512+) have none."""
    return {_norm_text(desc): code for code, (desc, _) in table.items() if code < 512}


_CMS_BY_TEXT: _Const = _by_text(CMS_ERRORS)
_CME_BY_TEXT: _Const = _by_text(CME_ERRORS)


def classify_cms(code: int) -> ErrorClass:
    """The class of a +CMS ERROR code; unlisted codes are transient, so the attempt cap decides."""
    if code in CMS_ERRORS:
        return CMS_ERRORS[code][1]
    if 128 <= code <= 191:  # TP-PID / TP-DCS / TP-Command errors: the PDU was wrong (§9.1)
        return _P
    return _T


def classify_cme(code: int) -> ErrorClass:
    """The class of a +CME ERROR code; unlisted codes are transient, so the attempt cap decides."""
    if code in CME_ERRORS:
        return CME_ERRORS[code][1]
    return _T


def describe_cms(code: int) -> str:
    """A human-readable English description of a +CMS ERROR code."""
    if code in CMS_ERRORS:
        return CMS_ERRORS[code][0]
    if code < 128:
        return f"network cause {code}"
    if code < 144:
        return f"TP-PID error 0x{code:02X}"
    if code < 160:
        return f"TP-DCS error 0x{code:02X}"
    if code < 176:
        return f"TP-Command error 0x{code:02X}"
    if code < 512:
        return f"unlisted error {code}"
    return f"manufacturer-specific error {code}"


def describe_cme(code: int) -> str:
    """A human-readable English description of a +CME ERROR code."""
    if code in CME_ERRORS:
        return CME_ERRORS[code][0]
    return f"manufacturer-specific error {code}" if code >= 512 else f"unlisted error {code}"


@dataclass(frozen=True)
class Final:
    """The final result code that ended a command; `text` is the raw line ('' for an implied OK)."""

    kind: FinalKind
    code: int | None
    text: str

    @property
    def ok(self) -> bool:
        """True for OK."""
        return self.kind is FinalKind.OK

    @property
    def error_class(self) -> ErrorClass | None:
        """How to treat this failure (None for OK)."""
        match self.kind:
            case FinalKind.OK:
                return None
            case FinalKind.CMS_ERROR if self.code is not None:
                return classify_cms(self.code)
            case FinalKind.CME_ERROR if self.code is not None:
                return classify_cme(self.code)
            case FinalKind.NOT_SUPPORTED:
                return _P  # this modem lacks the command; asking again will not help
            case _:
                # Plain ERROR (CMEE=0, a syntax error or an unreported failure), an error text
                # the tables do not know, or a dial failure: unknown cause, retried until the cap.
                return _T

    @property
    def description(self) -> str:
        """A human-readable English description."""
        match self.kind:
            case FinalKind.OK:
                return "OK"
            case FinalKind.CMS_ERROR | FinalKind.CME_ERROR:
                if self.code is None:
                    return self.text.partition(":")[2].strip() or "unknown error"
                if self.kind is FinalKind.CMS_ERROR:
                    return f"{describe_cms(self.code)} (CMS {self.code})"
                return f"{describe_cme(self.code)} (CME {self.code})"
            case FinalKind.ERROR:
                return "error (no details given)"
            case FinalKind.NOT_SUPPORTED:
                return "command not supported by this modem"
            case _:
                return self.text.strip().lower() or str(self.kind)


@dataclass(frozen=True)
class Echo:
    """The echo of the pending command, or of the payload typed after the prompt."""

    line: str


@dataclass(frozen=True)
class Prompt:
    """The `> ` prompt: the modem waits for the SMS text or PDU."""


@dataclass(frozen=True)
class Response:
    """The information lines and final result code of one command."""

    command: str
    lines: tuple[str, ...]
    final: Final

    @property
    def ok(self) -> bool:
        """True when the command ended with OK."""
        return self.final.ok


@dataclass(frozen=True)
class Urc:
    """An unsolicited result code; `data` is the second line of a two-line URC (+CMT, +CDS, +CBM)."""

    name: str
    line: str
    data: str | None = None

    @property
    def args(self) -> str:
        """The text after the first colon (empty for plain URCs such as RING)."""
        head, sep, tail = self.line.partition(":")
        return tail.strip() if sep and head.strip().upper() == self.name.upper() else ""


@dataclass(frozen=True)
class Garbage:
    """Bytes that could not be decoded or that nothing expected; never fatal."""

    raw: bytes


Event = Echo | Prompt | Response | Urc | Garbage


class AtUsageError(RuntimeError):
    """The engine was asked something its state does not allow (a second pending command, data without prompt)."""


def parse_fields(text: str) -> tuple[str, ...]:
    """Split an AT parameter list on commas outside double quotes; strip spaces and the quotes."""
    return tuple(_unquote(f) for f in _split_fields(text))


def _split_unquoted(text: str, sep: str) -> list[str]:
    """Split on `sep` outside double quotes, keeping the quotes and the spaces."""
    parts: list[str] = []
    start, quoted = 0, False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _split_fields(text: str) -> list[str]:
    """Split on commas outside double quotes, keeping quotes; fields are stripped of spaces."""
    return [f.strip() for f in _split_unquoted(text, ",")]


def _unquote(field_: str) -> str:
    """Remove one pair of surrounding double quotes."""
    return field_[1:-1] if len(field_) >= 2 and field_[0] == field_[-1] == '"' else field_


def _is_int(field_: str) -> bool:
    """True for an unquoted decimal number."""
    return field_.isascii() and field_.isdigit()


# URC names (upper case) recognised anywhere; sources: 27.005 §3.4.1, 27.007, modem-behaviour.md
# §5.2, §10 (SIMCom, Quectel, ZTE, Wavecom) and Gammu's URC list.  Every `^NAME:` line is a URC too.
_URC_NAMES: _Const = frozenset({
    "+CMTI", "+CMT", "+CDS", "+CDSI", "+CBM", "+CBMI", "+CREG", "+CGREG", "+CEREG", "+C5GREG",
    "+CPIN", "+CFUN", "+CUSD", "+CRING", "+CLIP", "+CCWA", "+CMTE", "+CIEV", "+CGEV", "+CTZV",
    "+CTZE", "+CUSATP", "+CUSATEND", "+STIN", "+QIND", "+QUSIM", "+ZDONR", "+ZPASR", "+ZUSIMR",
    "+ZEND", "+WIND", "+CSQN", "+PSUTTZ", "*PSUTTZ", "+CPINR", "+SIMCARD",
})
# Whole-line URCs without a prefix (upper case): SIMCom and Quectel boot/power messages, RING.
# `WARNNING` is SIM800's own spelling (SIM800-HD); the correct spelling is listed as well.
_PLAIN_URCS: _Const = {
    s.upper(): s
    for s in (
        "RING", "RDY", "Call Ready", "SMS Ready", "SMS DONE", "PB DONE", "NORMAL POWER DOWN",
        "POWERED DOWN", "UNDER-VOLTAGE WARNNING", "UNDER-VOLTAGE POWER DOWN",
        "OVER-VOLTAGE WARNNING", "OVER-VOLTAGE POWER DOWN", "UNDER-VOLTAGE WARNING",
        "OVER-VOLTAGE WARNING",
    )
}
# These names answer only a query or test of their own command; any other time they are URCs.
_QUERY_ONLY: _Const = frozenset({"+CREG", "+CGREG", "+CEREG", "+C5GREG", "+CPIN", "+CFUN"})
_REGISTRATION: _Const = frozenset({"+CREG", "+CGREG", "+CEREG", "+C5GREG"})
_DIAL_FINALS: _Const = {
    "NO CARRIER": FinalKind.NO_CARRIER,
    "BUSY": FinalKind.BUSY,
    "NO ANSWER": FinalKind.NO_ANSWER,
    "NO DIALTONE": FinalKind.NO_DIALTONE,
}
_PREFIX_CHARS: _Const = "+^*$%#"
_HEX: _Const = re.compile(r"[0-9A-Fa-f]+")
_EOL: _Const = re.compile(rb"[\r\n]")
_CONTROL: _Const = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CR, _LF, _GT, _SP = 0x0D, 0x0A, 0x3E, 0x20


def _line_name(s: str) -> str | None:
    """The upper-case `+NAME` of a `+NAME: ...` line (also `^`, `*`, `$`, `%`, `#`), or None."""
    if not s or s[0] not in _PREFIX_CHARS:
        return None
    head, sep, _ = s.partition(":")
    head = head.strip()
    if not sep or len(head) < 2 or " " in head:
        return None
    return head.upper()


def _after_colon(s: str) -> str:
    """The parameter text after the first colon."""
    return s.partition(":")[2].strip()


class _Phase(StrEnum):
    """Where the pending command stands."""

    COMMAND = "command"  # written; waiting for the reply (or for the prompt)
    PROMPTED = "prompted"  # the prompt arrived; send_data() or cancel_data() is due
    DATA_SENT = "data_sent"  # payload and Ctrl-Z written; waiting for +CMGS and the final code
    CANCELLED = "cancelled"  # ESC written; waiting for the OK


class _Body(StrEnum):
    """What kind of line a header announced."""

    PDU = "pdu"
    TEXT = "text"


@dataclass
class _Pending:
    """The mutable state of the one command in flight."""

    command: str
    expected: dict[str, str]  # upper-case +NAME -> "query" | "test" | "set" | "exec"
    expect_prompt: bool
    dial: bool
    cpin_query: bool
    guard: bool  # a late reply of an abandoned command may come before our echo
    phase: _Phase = _Phase.COMMAND
    echo_target: str = ""
    echo_parts: list[str] = field(default_factory=list)
    info_started: bool = False
    command_echoed: bool = False
    lines: list[str] = field(default_factory=list)
    body: _Body | None = None


def _expected_names(command: str) -> dict[str, str]:
    """The `+NAME`s whose lines answer this command line (sub-commands split on `;`)."""
    text = command[2:] if command[:2].upper() == "AT" else command
    out: dict[str, str] = {}
    for sub in _split_semicolons(text):
        sub = sub.strip()
        if len(sub) < 2 or sub[0] not in _PREFIX_CHARS:
            continue
        m = re.match(r"[+^*$%#][A-Za-z0-9_]+", sub)
        if m is None:
            continue
        rest = sub[m.end():]
        mode = "test" if rest.startswith("=?") else "query" if rest.startswith("?") else "set" if rest.startswith("=") else "exec"
        out[m.group().upper()] = mode
    return out


def _split_semicolons(text: str) -> list[str]:
    """Split a command line on `;` outside double quotes."""
    return _split_unquoted(text, ";")


def _check_text(value: str, what: str, forbidden: str) -> None:
    """Reject text that cannot be written to the modem as ASCII without breaking the framing."""
    if not value.isascii():
        raise ValueError(f"{what} must be ASCII (use UCS-2 hex or PDU mode): {value!r}")
    bad = [c for c in forbidden if c in value]
    if bad:
        raise ValueError(f"{what} must not contain {bad!r}: {value!r}")


class AtEngine:
    """The sans-IO AT engine of one modem port; see the module docstring for its rules."""

    def __init__(
        self,
        *,
        urc_ignore: Iterable[str] = (),
        cpin_no_ok: bool = False,
        not_supported_texts: Iterable[str] = ("COMMAND NOT SUPPORT",),
    ) -> None:
        self._ignore = tuple(p.strip().upper() for p in urc_ignore if p.strip())
        self._cpin_no_ok = cpin_no_ok
        self._not_supported = frozenset(" ".join(t.split()).upper() for t in not_supported_texts if t.strip())
        self._buf = bytearray()
        self._scanned = 0  # bytes of _buf already known to hold no line terminator
        self._skip_lf = False  # the last line ended with CR; an LF right after belongs to it
        self._skip_space = False  # the prompt `>` was consumed; one space after it belongs to it
        self._mid_line = False  # a MAX_LINE cut happened inside the current line
        self._pending: _Pending | None = None
        self._urc_wait: tuple[str, str, _Body] | None = None  # a two-line URC waiting for its data
        self._stale = False  # a command was abandoned and its final code has not been seen
        self._echo_on: bool | None = None  # whether the last finished command was echoed
        self.ignored = 0  # URC lines dropped because they matched urc_ignore

    @property
    def pending(self) -> str | None:
        """The command waiting for its final result code, if any."""
        return self._pending.command if self._pending else None

    @property
    def prompted(self) -> bool:
        """True between a Prompt and the send_data()/cancel_data() that answers it."""
        return self._pending is not None and self._pending.phase is _Phase.PROMPTED

    def command(self, cmd: str, *, expect_prompt: bool = False) -> bytes:
        """Register `cmd` as pending and return the bytes to write (`cmd` + CR)."""
        if self._pending is not None:
            raise AtUsageError(f"{self._pending.command!r} is still pending; abandon() it first")
        cmd = cmd.strip(" \t")
        if not cmd:
            raise ValueError("empty command")
        _check_text(cmd, "command", "\r\n\x1a\x1b")
        upper = cmd.upper()
        expected = _expected_names(cmd)
        self._pending = _Pending(
            command=cmd,
            expected=expected,
            expect_prompt=expect_prompt,
            dial=upper.startswith("ATD") or upper == "ATA",
            cpin_query=expected.get("+CPIN") == "query",
            guard=self._stale and self._echo_on is True,
            echo_target=cmd,
        )
        self._stale = self._pending.guard
        return cmd.encode("ascii") + b"\r"

    def send_data(self, payload: str) -> bytes:
        """After a Prompt: return the payload (PDU hex or text) followed by Ctrl-Z."""
        p = self._pending
        if p is None or p.phase is not _Phase.PROMPTED:
            raise AtUsageError("send_data() needs a Prompt first")
        # A CR would make the modem prompt again mid-text (Telit); Ctrl-Z/ESC would end it early.
        _check_text(payload, "payload", "\r\x1a\x1b")
        p.phase = _Phase.DATA_SENT
        p.echo_target = payload.replace("\n", "")
        p.echo_parts = []
        p.info_started = False
        return payload.encode("ascii") + b"\x1a"

    def cancel_data(self) -> bytes:
        """Return ESC, which aborts the SMS input; the modem answers OK and sends nothing (§1)."""
        p = self._pending
        if p is None or not p.expect_prompt or p.phase not in (_Phase.COMMAND, _Phase.PROMPTED):
            raise AtUsageError("cancel_data() needs a command that expects a prompt, before its data")
        p.phase = _Phase.CANCELLED
        return b"\x1b"

    def abandon(self) -> None:
        """Forget the pending command after a host timeout; its late reply will not answer the next one."""
        p = self._pending
        if p is None:
            return
        # If the abandoned command was echoed, the next one will be too, and its echo separates
        # the late reply from the new one.  If it was not, set echo off so a guard can never
        # swallow a reply forever: at worst one more timeout.
        self._echo_on = p.command_echoed
        self._stale = True
        self._pending = None

    def feed(self, data: bytes) -> list[Event]:
        """Take bytes read from the modem, in any chunking, and return the events they complete."""
        out: list[Event] = []
        if not data:
            return out
        buf = self._buf
        buf += data
        pos = 0
        while pos < len(buf):
            b = buf[pos]
            if self._skip_lf:
                self._skip_lf = False
                if b == _LF:
                    pos += 1
                    continue
            if self._skip_space:
                self._skip_space = False
                if b == _SP:
                    pos += 1
                    continue
            if b == _GT and not self._mid_line and self._prompt_due():
                pos += 1
                self._skip_space = True
                self._on_prompt(out)
                continue
            m = _EOL.search(buf, max(pos, self._scanned))
            if m is None:
                break
            end = m.start()
            self._skip_lf = buf[end] == _CR
            line = bytes(buf[pos:end])
            pos = end + 1
            self._scanned = 0
            self._mid_line = False
            while len(line) >= MAX_LINE:
                out.append(Garbage(line[:MAX_LINE]))
                line = line[MAX_LINE:]
            self._on_line(line, out)
        del buf[:pos]
        while len(buf) >= MAX_LINE:
            out.append(Garbage(bytes(buf[:MAX_LINE])))
            del buf[:MAX_LINE]
            self._mid_line = True
        self._scanned = len(buf)
        return out

    # --- internals -------------------------------------------------------------------------

    def _prompt_due(self) -> bool:
        """True while the pending command waits for its `> ` prompt."""
        p = self._pending
        return p is not None and p.expect_prompt and p.phase is _Phase.COMMAND

    def _on_prompt(self, out: list[Event]) -> None:
        """The prompt arrived: held echo pieces were not an echo after all."""
        p = self._pending
        assert p is not None
        self._flush_echo(p)
        p.phase = _Phase.PROMPTED
        out.append(Prompt())

    def _on_line(self, raw: bytes, out: list[Event]) -> None:
        """Classify one complete line (without its terminator)."""
        raw = raw.replace(b"\x1a", b"").replace(b"\x1b", b"")
        try:
            text, clean = raw.decode("utf-8"), True
        except UnicodeDecodeError:
            text, clean = raw.decode("latin-1"), False
        p = self._pending

        if self._urc_wait is not None:
            waiting, header, kind = self._urc_wait
            if kind is _Body.TEXT:
                self._urc_wait = None
                out.append(Urc(waiting, header, text))
                return
            s = text.strip()
            if not s:
                return
            self._urc_wait = None
            if _HEX.fullmatch(s):
                out.append(Urc(waiting, header, s))
                return
            out.append(Urc(waiting, header, None))

        if p is not None and p.body is _Body.TEXT:
            p.body = None
            p.lines.append(text)
            return

        s = text.strip()
        if not s:
            return
        if p is not None and p.body is _Body.PDU and _HEX.fullmatch(s):
            p.body = None
            p.lines.append(s)
            return
        if not clean or _CONTROL.search(s):
            self._on_dirty(raw, p, out)
            return

        if p is not None and not p.info_started and p.phase in (_Phase.COMMAND, _Phase.DATA_SENT):
            candidate = "".join(p.echo_parts) + s
            target = p.echo_target.upper()
            if candidate.upper() == target:
                p.echo_parts = []
                if p.phase is _Phase.COMMAND:
                    p.command_echoed = True
                    if p.guard:  # our echo: whatever comes now is ours
                        p.guard = False
                        self._stale = False
                out.append(Echo(candidate))
                return
            if target.startswith(candidate.upper()):
                p.echo_parts.append(s)
                return

        final = self._final(s, p)
        if final is not None:
            if p is None or p.guard:
                out.append(Garbage(raw))  # the late final code of an abandoned command
                self._stale = False
                if p is not None:
                    p.guard = False
                return
            self._finish(p, final, out)
            return

        name = _line_name(s)
        if p is not None and not p.guard and self._answers(p, name, s):
            self._response_line(p, name, s, out)
            return
        urc = self._urc_name(s, name, p)
        if urc is not None:
            self._on_urc(urc, s, out)
            return
        if p is None or p.guard or p.body is _Body.PDU:
            out.append(Garbage(raw))
            return
        self._response_line(p, name, s, out)

    def _on_dirty(self, raw: bytes, p: _Pending | None, out: list[Event]) -> None:
        """Line noise: keep a recognisable tail after the last bad byte (SIM800 before auto-baud sync, §10.2)."""
        cut = max((i + 1 for i, b in enumerate(raw) if b >= 0x80 or (b < 0x20 and b != 0x09) or b == 0x7F), default=0)
        tail = raw[cut:].decode("ascii").strip()
        name = _line_name(tail)
        if tail and (
            self._final(tail, p) is not None
            or self._urc_name(tail, name, p) is not None
            or (p is not None and not p.guard and self._answers(p, name, tail))
            or (p is not None and not p.info_started and p.echo_target.upper().startswith(tail.upper()))
        ):
            out.append(Garbage(raw[:cut]))
            self._on_line(raw[cut:], out)
            return
        out.append(Garbage(raw))

    def _final(self, s: str, p: _Pending | None) -> Final | None:
        """The final result code in line `s`, or None."""
        upper = " ".join(s.split()).upper()
        if upper == "OK":
            return Final(FinalKind.OK, None, s)
        if upper == "ERROR":
            return Final(FinalKind.ERROR, None, s)
        for prefix, kind, by_text in (
            ("+CME ERROR:", FinalKind.CME_ERROR, _CME_BY_TEXT),
            ("+CMS ERROR:", FinalKind.CMS_ERROR, _CMS_BY_TEXT),
        ):
            if upper.startswith(prefix):
                arg = s.partition(":")[2].strip()
                code = int(arg) if _is_int(arg) else by_text.get(_norm_text(arg))
                return Final(kind, code, s)
        if upper in self._not_supported:
            return Final(FinalKind.NOT_SUPPORTED, None, s)
        if p is not None and p.dial and upper in _DIAL_FINALS:
            return Final(_DIAL_FINALS[upper], None, s)
        return None

    def _answers(self, p: _Pending, name: str | None, s: str) -> bool:
        """True when the `+NAME:` line `s` is an information line of the pending command."""
        if name is None or name not in p.expected:
            return False
        mode = p.expected[name]
        if name in _QUERY_ONLY and mode not in ("query", "test"):
            return False
        if name in _REGISTRATION and mode == "query":
            # Query answer: `<n>,<stat>[,...]`; unsolicited: `<stat>` or `<stat>,"<lac>",...` (27.007 §7.2).
            fields = _split_fields(_after_colon(s))
            return len(fields) >= 2 and _is_int(fields[1])
        return True

    def _urc_name(self, s: str, name: str | None, p: _Pending | None) -> str | None:
        """The URC name of line `s` if it is unsolicited, else None."""
        if name is not None and (name in _URC_NAMES or name[0] == "^"):
            return name
        plain = _PLAIN_URCS.get(" ".join(s.split()).upper())
        if plain is not None:
            return plain
        if s.upper() == "NO CARRIER":  # not a dial command's final: a caller hung up
            return "NO CARRIER"
        upper = s.upper()
        if any(upper.startswith(prefix) for prefix in self._ignore):
            return name or s
        if name is not None and name[0] in "+*" and p is None and not self._stale:
            return name  # nothing pending: an unknown +X: line can only be unsolicited
        return None

    def _on_urc(self, name: str, s: str, out: list[Event]) -> None:
        """Emit a URC, start waiting for a two-line URC's data, or drop an ignored one."""
        fields = _split_fields(_after_colon(s))
        if name in ("+CMT", "+CBM"):
            pdu = len(fields) == (2 if name == "+CMT" else 1) and _is_int(fields[-1])
            self._urc_wait = (name, s, _Body.PDU if pdu else _Body.TEXT)
            return
        if name == "+CDS" and len(fields) == 1 and _is_int(fields[0]):
            self._urc_wait = (name, s, _Body.PDU)  # text-mode +CDS is one line (§5.2)
            return
        upper = s.upper()
        if any(upper.startswith(prefix) for prefix in self._ignore):
            self.ignored += 1
            return
        out.append(Urc(name, s))

    def _response_line(self, p: _Pending, name: str | None, s: str, out: list[Event]) -> None:
        """Append an information line; note a body line it announces; finish an OK-less +CPIN."""
        self._flush_echo(p)
        p.info_started = True
        p.lines.append(s)
        if name in ("+CMGL", "+CMGR") and name in p.expected:
            p.body = _body_after(name, _split_fields(_after_colon(s)))
        if self._cpin_no_ok and p.cpin_query and name == "+CPIN":
            self._finish(p, Final(FinalKind.OK, None, ""), out)

    def _flush_echo(self, p: _Pending) -> None:
        """Held echo pieces that never completed the echo are information lines."""
        if p.echo_parts:
            p.lines.extend(p.echo_parts)
            p.echo_parts = []
            p.info_started = True

    def _finish(self, p: _Pending, final: Final, out: list[Event]) -> None:
        """Complete the pending command with its final code."""
        self._flush_echo(p)
        self._echo_on = p.command_echoed
        self._stale = False
        self._pending = None
        out.append(Response(p.command, tuple(p.lines), final))


def _body_after(name: str, fields: list[str]) -> _Body | None:
    """Which body line a +CMGL/+CMGR header announces (27.005 §3.4.2, §3.4.3), if any."""
    # PDU mode: +CMGL: <index>,<stat>,[<alpha>],<length> / +CMGR: <stat>,[<alpha>],<length>.
    pdu_fields = 4 if name == "+CMGL" else 3
    if len(fields) == pdu_fields and _is_int(fields[-1]):
        return _Body.PDU
    # Text mode: a status report (+CMGL: <index>,<stat>,<fo>,<mr>,... / +CMGR: <stat>,<fo>,<mr>,...)
    # has no body; SMS-DELIVER and SMS-SUBMIT (<oa>/<da> quoted) have one.
    fo_at = 2 if name == "+CMGL" else 1
    if len(fields) > fo_at + 1 and _is_int(fields[fo_at]):
        return None
    return _Body.TEXT
