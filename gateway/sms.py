"""What an SMS is: encoding choice, segment plan, PDU encode/decode, status classes and phone numbers.

No I/O and no SQL here. PDUs are hex strings as modems print them in PDU mode (3GPP TS 27.005 §3),
with the SMSC address first. Encoding and decoding lean on `gsmmodem.pdu` (python-gsmmodem-new 0.13)
where it is right — `packSeptets`, `encodeSemiOctets`, `decodeSemiOctets`, the `Concatenation`
information element — and use our own code where it is wrong. The defects we repair, each with a
test in `tests/test_sms.py` that shows the upstream behaviour next to ours:

D1  GSM-7 text after a 16-bit concatenation header (IEI 08, 7-octet UDH, no fill bits) loses its
    first character: `_decodeUserData` always swallows one "fill" octet.
D2  Characters outside the BMP (emoji): `encodeUcs2` raises ValueError, `decodeUcs2` returns lone
    surrogates (text that cannot even be written as UTF-8), and the length check and
    `divideTextUcs2` count code points instead of UTF-16 units, so a part can overflow 67 units.
D3  `_decodeDataCoding` knows only coding group 00xx: DCS 0x48 (automatic deletion, UCS-2) and
    0xE0-0xEF (message waiting, UCS-2) decode as GSM-7 garbage, 0xF4-0xF7 (8-bit data) as GSM-7,
    and the reserved alphabet 0b11 as 8-bit instead of the GSM-7 default (TS 23.038 §4).
D4  The default alphabet has '`' at 0x5F where TS 23.038 §6.2.1 has '§', and the extension table
    keys form feed by 'ÿ' with an int value: `encodeGsm7('ÿ')` raises TypeError and ESC 0x0A
    decodes to nothing. Unknown escape codes are dropped instead of shown from the basic table
    (§6.2.1.1), and an ESC as the last septet raises StopIteration.
D5  `encodeSmsSubmitPdu` writes the concatenation reference into TP-MR too (and fails for
    references > 255); we send TP-MR 00 so the modem assigns it (transcripts T3).
D6  GSM-7 decoding ignores TP-UDL: the CR that TS 23.038 §6.1.2.3.1 puts into 7 spare bits comes
    back as a trailing '\\r', a final '@' (septet 0) that ends on an octet boundary is lost, and
    octets after the user data would be decoded as text. We read exactly TP-UDL septets and strip
    nothing, so a CR the sender counted in TP-UDL stays text.
D7  Malformed input escapes as StopIteration, IndexError, TypeError or strptime's ValueError, and a
    zero-length originating address skips its type-of-address octet; `decode` raises PduError only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum

import phonenumbers
from gsmmodem.pdu import Concatenation, decodeSemiOctets, encodeSemiOctets, packSeptets
from phonenumbers import timezone as phonenumbers_timezone

__all__ = [
    "ENCODING_8BIT",
    "ENCODING_GSM7",
    "ENCODING_UCS2",
    "Concat",
    "Deliver",
    "DeliveryClass",
    "Encoding",
    "InvalidNumber",
    "PduError",
    "SegmentPlan",
    "SenderKind",
    "StatusReport",
    "Submit",
    "SubmitPdu",
    "choose_encoding",
    "classify_status",
    "decode",
    "decode_submit",
    "encode_submit",
    "is_answerable",
    "is_mobile_number",
    "join_parts",
    "next_reference",
    "normalise_number",
    "number_time_zones",
    "plan",
    "split",
]


class Encoding(StrEnum):
    """Alphabet of an outbound message."""

    GSM7 = "gsm7"
    UCS2 = "ucs2"


# Values of Deliver.encoding (a received message may also carry 8-bit data).
ENCODING_GSM7 = "gsm7"
ENCODING_UCS2 = "ucs2"
ENCODING_8BIT = "8bit"


class SenderKind(StrEnum):
    """What kind of address a message came from."""

    INTERNATIONAL = "international"
    NATIONAL = "national"
    ALPHANUMERIC = "alphanumeric"
    SHORT_CODE = "short_code"
    UNKNOWN = "unknown"


class DeliveryClass(StrEnum):
    """Meaning of a TP-Status value for the message it reports on."""

    DELIVERED = "delivered"  # transaction completed
    PENDING = "pending"  # temporary error, the SC is still trying
    FAILED = "failed"  # permanent error, or a temporary one the SC gave up on


class PduError(ValueError):
    """A PDU cannot be decoded; the message says where and why."""


class InvalidNumber(ValueError):
    """A phone number cannot be read; the message is meant for the person who typed it."""


@dataclass(frozen=True)
class SegmentPlan:
    """How a text will travel: alphabet, number of parts and units used and left."""

    encoding: Encoding
    parts: int
    units: int  # septets (GSM-7, escape pairs count 2) or UTF-16 units (UCS-2, surrogate pairs count 2)
    units_per_part: int  # 160/70 for a single part, 153/67 when concatenated
    units_left: int  # room left in the last part before another part is needed


@dataclass(frozen=True)
class SubmitPdu:
    """One SMS-SUBMIT ready for `AT+CMGS=<tpdu_length>`."""

    hex: str  # "00" (use the SMSC from AT+CSCA) followed by the TPDU, upper case
    tpdu_length: int  # octets of the TPDU, leaving out the SMSC octet (27.005 §3.5.1)
    part: int  # 1-based
    total: int


@dataclass(frozen=True)
class Concat:
    """Concatenation information element (TS 23.040 §9.2.3.24.1 and .8)."""

    reference: int  # 0-255, or 0-65535 for the 16-bit form
    total: int
    seq: int  # 1-based


@dataclass(frozen=True)
class Deliver:
    """A received SMS-DELIVER (one part when the message is concatenated)."""

    sender: str  # "+7916…" for international numbers, digits otherwise, or the alphanumeric name
    sender_kind: SenderKind
    text: str  # never contains lone surrogates; join parts with join_parts()
    encoding: str  # ENCODING_GSM7, ENCODING_UCS2 or ENCODING_8BIT (8-bit data shown as Latin-1)
    timestamp: datetime | None  # TP-SCTS with its offset; None when the SC sent an invalid one
    concat: Concat | None
    pdu: str  # the PDU as decoded: upper-case hex with the SMSC prefix
    smsc: str | None = None
    protocol_id: int = 0  # TP-PID; 0x40 is a type-0 ("silent") message to be discarded
    message_class: int | None = None  # 0 = flash, 1-3, or None when the DCS sets no class


@dataclass(frozen=True)
class StatusReport:
    """A received SMS-STATUS-REPORT."""

    reference: int  # TP-MR of the submitted part, as +CMGS returned it
    recipient: str
    status: int  # TP-ST
    status_class: DeliveryClass
    discharge_time: datetime | None  # TP-DT
    pdu: str
    sc_timestamp: datetime | None = None  # TP-SCTS: when the SC received the submit


@dataclass(frozen=True)
class Submit:
    """A decoded SMS-SUBMIT, as stored on a SIM for sent or unsent messages."""

    recipient: str
    text: str
    encoding: str
    concat: Concat | None
    message_reference: int  # TP-MR
    request_report: bool  # TP-SRR
    validity: timedelta | None  # relative TP-VP; None when absent or not relative
    pdu: str


# --- GSM 7-bit default alphabet (TS 23.038 §6.2.1), one row per column of the spec table -------

_GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"  # 0x1B is the escape to the extension table, not a character
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
_ESC = 0x1B
_CR = 0x0D
_GSM7_CODE = {ch: code for code, ch in enumerate(_GSM7_BASIC) if code != _ESC}
# Extension table (§6.2.1.1): each of these costs ESC + code, two septets.
_GSM7_EXT_CODE = {
    "\x0c": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
_GSM7_EXT_CHAR = {code: ch for ch, code in _GSM7_EXT_CODE.items()}

_SINGLE_UNITS = {Encoding.GSM7: 160, Encoding.UCS2: 70}
_MULTI_UNITS = {Encoding.GSM7: 153, Encoding.UCS2: 67}  # after a 6-octet UDH (8-bit reference)
_MAX_PARTS = 255  # TS 23.040 §9.2.3.24.1: the total is one octet


def _gsm7_units(ch: str) -> int | None:
    """Septets one character costs in GSM-7, or None when it has no GSM-7 code."""
    if ch in _GSM7_CODE:
        return 1
    if ch in _GSM7_EXT_CODE:
        return 2
    return None


def _units(ch: str, encoding: Encoding) -> int:
    """Units one character costs: septets in GSM-7, UTF-16 code units in UCS-2."""
    if encoding is Encoding.GSM7:
        units = _gsm7_units(ch)
        if units is None:
            raise ValueError(f"character U+{ord(ch):04X} has no GSM-7 code")
        return units
    return 2 if ord(ch) > 0xFFFF else 1


def _gsm7_encode(text: str) -> bytearray:
    """Septet values (one per octet, not packed) of a GSM-7 encodable text."""
    out = bytearray()
    for ch in text:
        code = _GSM7_CODE.get(ch)
        if code is not None:
            out.append(code)
        else:
            out.append(_ESC)
            out.append(_GSM7_EXT_CODE[ch])
    return out


def _gsm7_decode(septets: Iterable[int]) -> str:
    """Text of unpacked septets; unknown escapes show the basic character (TS 23.038 §6.2.1.1)."""
    out: list[str] = []
    escaped = False
    for code in septets:
        if escaped:
            escaped = False
            if code == _ESC:
                out.append(" ")  # ESC ESC: reserved for a further table, shown as a space
            else:
                out.append(_GSM7_EXT_CHAR.get(code, _GSM7_BASIC[code]))
        elif code == _ESC:
            escaped = True
        else:
            out.append(_GSM7_BASIC[code])
    return "".join(out)  # a trailing lone ESC is dropped


def _unpack_septets(data: bytes, count: int) -> list[int]:
    """The first `count` septets packed LSB-first into `data` (TS 23.038 §6.1.2.1.1)."""
    value = int.from_bytes(data, "little")
    return [(value >> (7 * i)) & 0x7F for i in range(count)]


# --- Encoding choice and segments ---------------------------------------------------------------


# Precompiled character classes for the fast path of `plan` (a 100,000-recipient campaign plans every text).
_NOT_GSM7_RE = re.compile("[^" + "".join(re.escape(ch) for ch in sorted({*_GSM7_CODE, *_GSM7_EXT_CODE})) + "]")
_DOUBLE_UNIT_RE = {
    Encoding.GSM7: re.compile("[" + "".join(re.escape(ch) for ch in sorted(_GSM7_EXT_CODE)) + "]"),
    Encoding.UCS2: re.compile("[\U00010000-\U0010FFFF]"),  # outside the BMP: a surrogate pair, two units
}


def choose_encoding(text: str) -> Encoding:
    """GSM-7 when every character is in the default or extension table, UCS-2 otherwise."""
    return Encoding.UCS2 if _NOT_GSM7_RE.search(text) else Encoding.GSM7


def _encoding_for(text: str, force_ucs2: bool) -> Encoding:
    """The alphabet a text is sent in."""
    return Encoding.UCS2 if force_ucs2 else choose_encoding(text)


def _segments(text: str, encoding: Encoding) -> list[tuple[str, int]]:
    """Parts of `text` with their units; whole characters only, so escape and surrogate pairs stay whole."""
    costs = [_units(ch, encoding) for ch in text]
    total = sum(costs)
    if total <= _SINGLE_UNITS[encoding]:
        return [(text, total)]
    limit = _MULTI_UNITS[encoding]
    parts: list[tuple[str, int]] = []
    start = used = 0
    for i, cost in enumerate(costs):
        if used + cost > limit:
            parts.append((text[start:i], used))
            start, used = i, 0
        used += cost
    parts.append((text[start:], used))
    return parts


def plan(text: str, *, force_ucs2: bool = False) -> SegmentPlan:
    """Segment plan of `text` for previews; GSM-7 extension characters count 2 septets."""
    encoding = _encoding_for(text, force_ucs2)
    if not _DOUBLE_UNIT_RE[encoding].search(text):
        # Every character costs one unit, so parts split at fixed lengths: same result as _segments, no loop.
        total, single, multi = len(text), _SINGLE_UNITS[encoding], _MULTI_UNITS[encoding]
        if total <= single:
            return SegmentPlan(encoding=encoding, parts=1, units=total, units_per_part=single,
                               units_left=single - total)
        count = -(-total // multi)
        return SegmentPlan(encoding=encoding, parts=count, units=total, units_per_part=multi,
                           units_left=multi - (total - (count - 1) * multi))
    parts = _segments(text, encoding)
    per_part = _SINGLE_UNITS[encoding] if len(parts) == 1 else _MULTI_UNITS[encoding]
    return SegmentPlan(
        encoding=encoding,
        parts=len(parts),
        units=sum(units for _, units in parts),
        units_per_part=per_part,
        units_left=per_part - parts[-1][1],
    )


def split(text: str, *, force_ucs2: bool = False) -> list[str]:
    """Texts of the parts `encode_submit` would send; never splits a surrogate pair or an escape pair."""
    return [part for part, _ in _segments(text, _encoding_for(text, force_ucs2))]


def next_reference(current: int) -> int:
    """The concatenation reference after `current`, wrapping at 8 bits."""
    if not 0 <= current <= 0xFF:
        raise ValueError(f"a concatenation reference is 0-255, not {current}")
    return (current + 1) & 0xFF


# --- SMS-SUBMIT encoding --------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"\+?[0-9]{1,20}")


def _encode_number(number: str) -> bytes:
    """TP-DA of a dialable number (TS 23.040 §9.1.2.5): TOA 0x91 with '+', 0x81 (unknown) without."""
    if not _NUMBER_RE.fullmatch(number):
        raise ValueError(
            f"destination {number!r} must be digits with an optional leading '+' (use normalise_number first)"
        )
    toa = 0x91 if number.startswith("+") else 0x81
    digits = number.lstrip("+")
    return bytes([len(digits), toa]) + bytes(encodeSemiOctets(digits))


def _relative_validity(hours: int) -> int:
    """TP-VP relative format (TS 23.040 §9.2.3.12.1) for at least `hours` hours."""
    if hours < 1:
        raise ValueError(f"validity must be at least 1 hour, not {hours}")
    if hours <= 12:
        return hours * 12 - 1  # (VP + 1) × 5 minutes
    if hours <= 24:
        return 143 + (hours - 12) * 2  # 12 h + (VP − 143) × 30 minutes
    days = -(-hours // 24)
    if days <= 30:
        return 166 + days  # (VP − 166) days
    weeks = -(-hours // (24 * 7))
    if weeks <= 63:
        return 192 + weeks  # (VP − 192) weeks
    raise ValueError(f"validity of {hours} hours exceeds the 63-week maximum of TP-VP")


def _concat_udh(reference: int, total: int, seq: int) -> bytes:
    """UDH with one 8-bit-reference concatenation element: 05 00 03 ref total seq."""
    ie = Concatenation()
    ie.reference, ie.parts, ie.number = reference, total, seq
    element = bytes(ie.encode())
    return bytes([len(element)]) + element


def _gsm7_user_data(septets: bytearray, udh: bytes) -> tuple[int, bytes]:
    """TP-UDL and TP-UD for GSM-7 septets after an optional UDH, with fill bits and CR padding."""
    header_septets = -(-len(udh) * 8 // 7)
    fill_bits = header_septets * 7 - len(udh) * 8  # TS 23.040 §9.2.3.24: the text starts on a septet boundary
    udl = header_septets + len(septets)
    if udl % 8 == 7:
        # TS 23.038 §6.1.2.3.1: 7 spare bits in the last octet carry CR, so they are not read as '@'.
        # (A wanted final CR on an octet boundary is not doubled: receivers that trust TP-UDL show it
        # once, and a doubled CR could show as an extra line break in the middle of a joined text.)
        septets = septets + bytes([_CR])
    # packSeptets(padBits=p) shifts the first septet left by 7 − p bits, so p = 7 − fill.
    packed = bytes(packSeptets(septets, padBits=(7 - fill_bits) % 7))
    return udl, udh + packed


def encode_submit(
    number: str,
    text: str,
    *,
    reference: int,
    request_report: bool = True,
    validity_hours: int | None = 24 * 7,
    force_ucs2: bool = False,
) -> list[SubmitPdu]:
    """SMS-SUBMIT PDUs for `text` to `number`, one per part, TP-MR 00 (the modem assigns it)."""
    if not 0 <= reference <= 0xFF:
        raise ValueError(f"the concatenation reference is 0-255, not {reference}")
    destination = _encode_number(number)
    validity = b"" if validity_hours is None else bytes([_relative_validity(validity_hours)])
    encoding = _encoding_for(text, force_ucs2)
    parts = split(text, force_ucs2=force_ucs2)
    total = len(parts)
    if total > _MAX_PARTS:
        raise ValueError(f"text needs {total} parts; a concatenated SMS has at most {_MAX_PARTS}")
    first_octet = 0x01  # TP-MTI SMS-SUBMIT, TS 23.040 §9.2.2.2
    if validity:
        first_octet |= 0x10  # TP-VPF relative
    if request_report:
        first_octet |= 0x20  # TP-SRR
    if total > 1:
        first_octet |= 0x40  # TP-UDHI
    dcs = 0x00 if encoding is Encoding.GSM7 else 0x08
    pdus = []
    for seq, part in enumerate(parts, start=1):
        udh = _concat_udh(reference, total, seq) if total > 1 else b""
        if encoding is Encoding.GSM7:
            udl, user_data = _gsm7_user_data(_gsm7_encode(part), udh)
        else:
            user_data = udh + part.encode("utf-16-be")  # surrogate pairs for non-BMP characters
            udl = len(user_data)
        tpdu = bytes([first_octet, 0x00]) + destination + bytes([0x00, dcs]) + validity + bytes([udl]) + user_data
        pdus.append(SubmitPdu(hex="00" + tpdu.hex().upper(), tpdu_length=len(tpdu), part=seq, total=total))
    return pdus


# --- Decoding -------------------------------------------------------------------------------------


class _Reader:
    """A cursor over PDU octets that raises PduError instead of running off the end."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def octet(self, what: str) -> int:
        """The next octet; `what` names the field for the error message."""
        return self.take(1, what)[0]

    def take(self, count: int, what: str) -> bytes:
        """The next `count` octets of field `what`."""
        end = self.pos + count
        if end > len(self.data):
            raise PduError(
                f"PDU ends inside {what}: needs {count} octet(s) at offset {self.pos}, "
                f"{len(self.data) - self.pos} left"
            )
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def rest(self) -> bytes:
        """Every octet left."""
        chunk = self.data[self.pos :]
        self.pos = len(self.data)
        return chunk


@dataclass(frozen=True)
class _UserData:
    """Decoded TP-UD before it becomes text: the alphabet and its raw units."""

    alphabet: str
    concat: Concat | None
    septets: tuple[int, ...] = ()  # GSM-7 text septets, unpacked
    octets: bytes = b""  # UCS-2 or 8-bit text octets

    def text(self) -> str:
        """The user data as text."""
        if self.alphabet == ENCODING_GSM7:
            return _gsm7_decode(self.septets)
        if self.alphabet == ENCODING_UCS2:
            return _ucs2_decode(self.octets)
        return self.octets.decode("latin-1")


@dataclass(frozen=True)
class _Parsed:
    """Everything `decode` and `decode_submit` read from a TPDU."""

    kind: str
    address: str
    address_kind: SenderKind
    smsc: str | None
    protocol_id: int = 0
    message_class: int | None = None
    user_data: _UserData | None = None
    scts: datetime | None = None
    discharge: datetime | None = None
    status: int = 0
    message_reference: int = 0
    request_report: bool = False
    validity: timedelta | None = None


_SEMI_OCTET_SYMBOLS = str.maketrans({"a": "*", "b": "#", "c": "a", "d": "b", "e": "c", "f": ""})


def _hex_octets(pdu_hex: str) -> bytes:
    """Octets of a hex PDU; whitespace is ignored."""
    if not isinstance(pdu_hex, str):
        raise PduError(f"a PDU must be a hex string, not {type(pdu_hex).__name__}")
    compact = "".join(pdu_hex.split())
    if not compact:
        raise PduError("empty PDU")
    if not re.fullmatch(r"[0-9A-Fa-f]+", compact):
        raise PduError("PDU is not hexadecimal")
    if len(compact) % 2:
        raise PduError(f"PDU has an odd number of hex digits ({len(compact)})")
    return bytes.fromhex(compact)


def _decode_digits(octets: bytes, count: int) -> str:
    """`count` semi-octet digits (TS 24.008 §10.5.4.7: A-E are * # a b c)."""
    if not octets:
        return ""
    return decodeSemiOctets(bytearray(octets), len(octets))[:count].translate(_SEMI_OCTET_SYMBOLS)


def _decode_address(reader: _Reader, what: str) -> tuple[str, SenderKind]:
    """TP-OA / TP-DA / TP-RA (TS 23.040 §9.1.2.5): value and kind."""
    length = reader.octet(f"{what} length")
    if length > 20:
        raise PduError(f"{what} length {length} exceeds 20 semi-octets")
    toa = reader.octet(f"{what} type")  # present even for an empty address
    octets = reader.take((length + 1) // 2, what)
    ton = (toa >> 4) & 0x07
    if ton == 0b101:  # alphanumeric, GSM-7 packed (§9.1.2.5)
        count = length * 4 // 7
        septets = _unpack_septets(octets, count)
        if septets and count % 8 == 0 and septets[-1] == 0:
            septets.pop()  # zero fill read as a trailing '@' when the sender counted whole octets
        return _gsm7_decode(septets), SenderKind.ALPHANUMERIC
    digits = _decode_digits(octets, length)
    if digits.isdigit() and len(digits) <= 6:
        kind = SenderKind.SHORT_CODE
    elif ton == 0b001:
        kind = SenderKind.INTERNATIONAL
    elif ton == 0b010:
        kind = SenderKind.NATIONAL
    elif ton in (0b011, 0b110):  # network specific, abbreviated
        kind = SenderKind.SHORT_CODE
    else:
        kind = SenderKind.UNKNOWN
    if ton == 0b001 and digits:
        digits = "+" + digits
    return digits, kind


def _decode_smsc(reader: _Reader) -> str | None:
    """The RP-SC address modems prefix to a PDU (27.005 §3.1 <pdu>): octet count, TOA, digits."""
    length = reader.octet("SMSC length")
    if length == 0:
        return None
    if length > 12:
        raise PduError(f"SMSC length {length} exceeds 12 octets")
    field = reader.take(length, "SMSC address")
    digits = _decode_digits(field[1:], 2 * (length - 1))
    return "+" + digits if (field[0] >> 4) & 0x07 == 0b001 and digits else digits


def _bcd(octet: int) -> int | None:
    """Value of a swapped-semi-octet decimal pair, or None when a nibble is not a digit."""
    low, high = octet & 0x0F, octet >> 4
    return None if low > 9 or high > 9 else low * 10 + high


def _decode_timestamp(octets: bytes) -> datetime | None:
    """TP-SCTS / TP-DT (TS 23.040 §9.2.3.11) with its offset, or None when it is not a valid time."""
    # The last octet is the offset in quarter hours; bit 3 of its tens nibble is the sign.
    values = [_bcd(octet) for octet in octets[:6]] + [_bcd(octets[6] & 0xF7)]
    fields = [value for value in values if value is not None]
    if len(fields) != 7:
        return None
    year, month, day, hour, minute, second, quarters = fields
    offset = timedelta(minutes=15 * quarters) * (-1 if octets[6] & 0x08 else 1)
    try:
        return datetime(2000 + year, month, day, hour, minute, second, tzinfo=timezone(offset))
    except ValueError:
        return None


def _data_coding(dcs: int) -> tuple[str, int | None]:
    """Alphabet and message class of a TP-DCS (TS 23.038 §4); reserved codings mean GSM-7."""
    group = dcs >> 4
    if group < 0x8:  # 00xx general, 01xx automatic deletion: same layout of bits 5-0
        if dcs & 0x20:
            raise PduError(f"DCS 0x{dcs:02X}: compressed user data (TS 23.042) is not supported")
        alphabet = {0b00: ENCODING_GSM7, 0b01: ENCODING_8BIT, 0b10: ENCODING_UCS2}.get((dcs >> 2) & 0x03, ENCODING_GSM7)
        return alphabet, (dcs & 0x03) if dcs & 0x10 else None
    if group == 0xE:  # message waiting indication, store, UCS-2
        return ENCODING_UCS2, None
    if group == 0xF:  # data coding / message class
        return (ENCODING_8BIT if dcs & 0x04 else ENCODING_GSM7), dcs & 0x03
    return ENCODING_GSM7, None  # 0xC/0xD message waiting in GSM-7; 0x8-0xB reserved


def _information_elements(header: bytes) -> list[tuple[int, bytes]]:
    """IEs of a user data header (TS 23.040 §9.2.3.24), without the UDHL octet."""
    elements = []
    pos = 0
    while pos < len(header):
        if pos + 2 > len(header):
            raise PduError("user data header ends inside an information element")
        iei, length = header[pos], header[pos + 1]
        if pos + 2 + length > len(header):
            raise PduError(f"information element 0x{iei:02X} overruns the user data header")
        elements.append((iei, header[pos + 2 : pos + 2 + length]))
        pos += 2 + length
    return elements


def _find_concat(elements: list[tuple[int, bytes]]) -> Concat | None:
    """The first usable concatenation element; one with total 0 or seq out of range is ignored (§9.2.3.24.1)."""
    for iei, data in elements:
        if iei == 0x00 and len(data) == 3:
            concat = Concat(reference=data[0], total=data[1], seq=data[2])
        elif iei == 0x08 and len(data) == 4:
            concat = Concat(reference=data[0] << 8 | data[1], total=data[2], seq=data[3])
        else:
            continue
        if 1 <= concat.seq <= concat.total:
            return concat
    return None


def _decode_user_data(udl: int, data: bytes, alphabet: str, udhi: bool) -> _UserData:
    """TP-UD of `udl` septets (GSM-7) or octets (otherwise), trusting TP-UDL over the octets present."""
    if alphabet == ENCODING_GSM7:
        needed = (udl * 7 + 7) // 8
        if len(data) < needed:
            raise PduError(f"user data has {len(data)} octets but TP-UDL {udl} septets needs {needed}")
        septets = _unpack_septets(data[:needed], udl)
        skip = 0
        concat = None
        if udhi:
            header_octets = 1 + (data[0] if data else 0)
            if not data or header_octets > needed:
                raise PduError(f"user data header of {header_octets} octets does not fit TP-UDL {udl}")
            concat = _find_concat(_information_elements(data[1:header_octets]))
            skip = -(-header_octets * 8 // 7)  # header plus fill bits, in septets
            if skip > udl:
                raise PduError(f"user data header of {header_octets} octets does not fit TP-UDL {udl}")
        # Septets past TP-UDL (a CR in 7 spare bits, TS 23.038 §6.1.2.3.1) are never read.
        return _UserData(ENCODING_GSM7, concat, septets=tuple(septets[skip:]))
    if len(data) < udl:
        raise PduError(f"user data has {len(data)} octets but TP-UDL says {udl}")
    payload = data[:udl]
    concat = None
    if udhi:
        header_octets = 1 + (payload[0] if payload else 0)
        if not payload or header_octets > udl:
            raise PduError(f"user data header of {header_octets} octets does not fit TP-UDL {udl}")
        concat = _find_concat(_information_elements(payload[1:header_octets]))
        payload = payload[header_octets:]
    return _UserData(alphabet, concat, octets=payload)


def _ucs2_decode(octets: bytes) -> str:
    """UTF-16BE text; pairs become one character, lone surrogates and an odd last octet become U+FFFD."""
    return octets.decode("utf-16-be", errors="replace")


def _parse(pdu_hex: str) -> tuple[_Parsed, str]:
    """Parse a PDU with its SMSC prefix into fields, and its normalised hex."""
    data = _hex_octets(pdu_hex)
    normalised = data.hex().upper()
    reader = _Reader(data)
    smsc = _decode_smsc(reader)
    first = reader.octet("first octet")
    mti = first & 0x03  # TS 23.040 §9.2.3.1, as received by the MS (or stored by it)
    if mti == 0b00:  # SMS-DELIVER
        sender, kind = _decode_address(reader, "originating address")
        pid = reader.octet("TP-PID")
        dcs = reader.octet("TP-DCS")
        scts = _decode_timestamp(reader.take(7, "TP-SCTS"))
        udl = reader.octet("TP-UDL")
        alphabet, message_class = _data_coding(dcs)
        user_data = _decode_user_data(udl, reader.rest(), alphabet, bool(first & 0x40))
        return (
            _Parsed("deliver", sender, kind, smsc, pid, message_class, user_data, scts=scts),
            normalised,
        )
    if mti == 0b10:  # SMS-STATUS-REPORT; the optional TP-PI and what follows are not needed
        reference = reader.octet("TP-MR")
        recipient, kind = _decode_address(reader, "recipient address")
        scts = _decode_timestamp(reader.take(7, "TP-SCTS"))
        discharge = _decode_timestamp(reader.take(7, "TP-DT"))
        status = reader.octet("TP-ST")
        return (
            _Parsed(
                "status", recipient, kind, smsc, scts=scts, discharge=discharge, status=status,
                message_reference=reference,
            ),
            normalised,
        )
    if mti == 0b01:  # SMS-SUBMIT
        reference = reader.octet("TP-MR")
        recipient, kind = _decode_address(reader, "destination address")
        pid = reader.octet("TP-PID")
        dcs = reader.octet("TP-DCS")
        vpf = (first >> 3) & 0x03
        validity = None
        if vpf == 0b10:
            validity = _relative_validity_period(reader.octet("TP-VP"))
        elif vpf in (0b01, 0b11):
            reader.take(7, "TP-VP")  # enhanced or absolute format
        udl = reader.octet("TP-UDL")
        alphabet, message_class = _data_coding(dcs)
        user_data = _decode_user_data(udl, reader.rest(), alphabet, bool(first & 0x40))
        return (
            _Parsed(
                "submit", recipient, kind, smsc, pid, message_class, user_data,
                message_reference=reference, request_report=bool(first & 0x20), validity=validity,
            ),
            normalised,
        )
    raise PduError(f"first octet 0x{first:02X} has the reserved message type 3")


def _relative_validity_period(vp: int) -> timedelta:
    """Duration of a relative TP-VP (TS 23.040 §9.2.3.12.1)."""
    if vp <= 143:
        return timedelta(minutes=5 * (vp + 1))
    if vp <= 167:
        return timedelta(hours=12, minutes=30 * (vp - 143))
    if vp <= 196:
        return timedelta(days=vp - 166)
    return timedelta(weeks=vp - 192)


def _parse_safely(pdu_hex: str) -> tuple[_Parsed, str]:
    """`_parse`, with any slip past its checks reported as PduError as well."""
    try:
        return _parse(pdu_hex)
    except PduError:
        raise
    except (IndexError, KeyError, ValueError, OverflowError) as exc:
        raise PduError(f"malformed PDU: {exc}") from exc


def decode(pdu_hex: str) -> Deliver | StatusReport:
    """Decode a received SMS-DELIVER or SMS-STATUS-REPORT (hex with the SMSC prefix); raises PduError."""
    parsed, normalised = _parse_safely(pdu_hex)
    if parsed.kind == "status":
        return StatusReport(
            reference=parsed.message_reference,
            recipient=parsed.address,
            status=parsed.status,
            status_class=classify_status(parsed.status),
            discharge_time=parsed.discharge,
            pdu=normalised,
            sc_timestamp=parsed.scts,
        )
    if parsed.kind == "submit":
        raise PduError("this is an SMS-SUBMIT (a stored outgoing message), not a received one; see decode_submit()")
    assert parsed.user_data is not None
    return Deliver(
        sender=parsed.address,
        sender_kind=parsed.address_kind,
        text=parsed.user_data.text(),
        encoding=parsed.user_data.alphabet,
        timestamp=parsed.scts,
        concat=parsed.user_data.concat,
        pdu=normalised,
        smsc=parsed.smsc,
        protocol_id=parsed.protocol_id,
        message_class=parsed.message_class,
    )


def decode_submit(pdu_hex: str) -> Submit:
    """Decode an SMS-SUBMIT (hex with the SMSC prefix), e.g. one stored as sent or unsent; raises PduError."""
    parsed, normalised = _parse_safely(pdu_hex)
    if parsed.kind != "submit" or parsed.user_data is None:
        raise PduError(f"this is an SMS-{parsed.kind.upper()}, not an SMS-SUBMIT")
    return Submit(
        recipient=parsed.address,
        text=parsed.user_data.text(),
        encoding=parsed.user_data.alphabet,
        concat=parsed.user_data.concat,
        message_reference=parsed.message_reference,
        request_report=parsed.request_report,
        validity=parsed.validity,
        pdu=normalised,
    )


def join_parts(parts: Iterable[Deliver]) -> str:
    """Text of a concatenated message from its parts in any order; rejoins pairs a sender split across parts."""
    ordered = sorted(parts, key=lambda part: part.concat.seq if part.concat else 0)
    pieces: list[str] = []
    run: list[_UserData] = []

    def flush() -> None:
        if not run:
            return
        if run[0].alphabet == ENCODING_GSM7:
            # Joined as septets, so an escape pair a sender split across parts stays one character.
            pieces.append(_gsm7_decode([code for ud in run for code in ud.septets]))
        elif run[0].alphabet == ENCODING_UCS2:
            pieces.append(_ucs2_decode(b"".join(ud.octets for ud in run)))
        else:
            pieces.append(b"".join(ud.octets for ud in run).decode("latin-1"))
        run.clear()

    for part in ordered:
        parsed, _ = _parse_safely(part.pdu)
        user_data = parsed.user_data
        if user_data is None:
            raise PduError("join_parts() takes SMS-DELIVER parts only")
        if run and run[0].alphabet != user_data.alphabet:
            flush()
        run.append(user_data)
    flush()
    return "".join(pieces)


def classify_status(tp_st: int) -> DeliveryClass:
    """Class of a TP-Status value (3GPP TS 23.040 §9.2.3.15)."""
    if not 0 <= tp_st <= 0xFF:
        raise ValueError(f"TP-ST is one octet, not {tp_st}")
    if tp_st & 0x80:
        return DeliveryClass.FAILED  # bit 7 is reserved: no defined meaning, so stop waiting
    if tp_st < 0x20:
        # 0x00 received by the SME, 0x01 forwarded (unconfirmed), 0x02 replaced; 0x03-0x0F
        # reserved and 0x10-0x1F SC-specific values of the same "transaction completed" group.
        return DeliveryClass.DELIVERED
    if tp_st < 0x40:
        return DeliveryClass.PENDING  # 0x20-0x2F temporary, 0x30-0x3F SC-specific: SC still trying
    return DeliveryClass.FAILED  # 0x40-0x5F permanent; 0x60-0x7F temporary but SC no longer trying


# --- Phone numbers --------------------------------------------------------------------------------

_NUMBER_CHARS_RE = re.compile(r"\+?[0-9\s().\-]+")


def normalise_number(raw: str, region: str = "RU") -> str:
    """E.164 form ("+79161234567") of a number as people write it; raises InvalidNumber."""
    text = raw.strip()
    if not text:
        raise InvalidNumber("the phone number is empty")
    if not _NUMBER_CHARS_RE.fullmatch(text):
        raise InvalidNumber(
            f"{raw!r} is not a phone number: use digits, spaces, brackets, dashes and a leading '+'"
        )
    compact = re.sub(r"[\s().\-]", "", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]  # the international prefix used in most of Europe
    try:
        number = phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(f"{raw!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidNumber(f"{raw!r} is not a valid phone number (read with region {region})")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse_e164(e164: str) -> phonenumbers.PhoneNumber:
    """A phonenumbers object for an E.164 string; raises InvalidNumber."""
    try:
        return phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(f"{e164!r} is not an E.164 number: {exc}") from None


def is_mobile_number(e164: str) -> bool:
    """True when `e164` is a valid number of a mobile (or fixed-or-mobile) range."""
    try:
        number = _parse_e164(e164)
    except InvalidNumber:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def number_time_zones(e164: str) -> tuple[str, ...]:
    """IANA zones phonenumbers gives for `e164` (16 for a Russian mobile); empty when unknown."""
    zones = phonenumbers_timezone.time_zones_for_number(_parse_e164(e164))
    return tuple(zone for zone in zones if zone != phonenumbers_timezone.UNKNOWN_TIMEZONE)


def is_answerable(sender: str, kind: SenderKind, region: str = "RU") -> bool:
    """True when a reply can go to `sender`: never to alphanumeric senders or short codes."""
    if kind in (SenderKind.ALPHANUMERIC, SenderKind.SHORT_CODE):
        return False
    if not _NUMBER_RE.fullmatch(sender):
        return False
    try:
        normalise_number(sender, region)
    except InvalidNumber:
        return False
    return True
