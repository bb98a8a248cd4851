"""The simulator's own SMS PDU codec, written from 3GPP TS 23.040 and TS 23.038.

It is deliberately independent of the product's `gateway.sms` so that the simulator cross-checks it.
Scope: decode SMS-SUBMIT (optional SMSC prefix, concatenation UDH with 8- and 16-bit references,
GSM-7 with the extension table, UCS-2, 8-bit, TP-SRR, TP-MR); encode and decode SMS-DELIVER and
SMS-STATUS-REPORT; encode SMS-SUBMIT (for phones and tests); split a text into parts.

Octet strings are `bytes`; the AT layer converts to and from upper-case hex.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

# TS 23.038 §6.2.1: the GSM 7-bit default alphabet, indexed by septet value.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# TS 23.038 §6.2.1.1: the default extension table, reached with ESC (0x1B) and costing 2 septets.
GSM7_EXTENSION = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|", 0x65: "€"}
ESC = 0x1B
_BASIC_INDEX = {ch: i for i, ch in enumerate(GSM7_BASIC) if i != ESC}
_EXT_INDEX = {ch: code for code, ch in GSM7_EXTENSION.items()}

# TS 23.040 §9.2.3.1: TP-MTI values as seen by the MS.
MTI_DELIVER = 0
MTI_SUBMIT = 1
MTI_STATUS_REPORT = 2

# TS 23.040 §9.2.3.15: TP-Status values the simulator emits.
ST_DELIVERED = 0x00
ST_TEMPORARY_SC_TRYING = 0x30
ST_PERMANENT_NOT_OBTAINABLE = 0x43

assert len(GSM7_BASIC) == 128


class PduError(ValueError):
    """A PDU cannot be decoded (truncated, bad field, unsupported coding)."""


class Encoding(StrEnum):
    """The alphabet of a message's user data (TS 23.038 §4)."""

    GSM7 = "gsm7"
    UCS2 = "ucs2"
    EIGHT_BIT = "8bit"


@dataclass(frozen=True)
class Concat:
    """A concatenation information element (TS 23.040 §9.2.3.24.1 and .8)."""

    ref: int
    total: int
    seq: int
    sixteen_bit: bool = False


@dataclass(frozen=True)
class Submit:
    """A decoded SMS-SUBMIT."""

    smsc: str | None
    mr: int
    destination: str
    status_report: bool
    pid: int
    dcs: int
    encoding: Encoding
    text: str
    concat: Concat | None
    tpdu_length: int


@dataclass(frozen=True)
class Deliver:
    """A decoded SMS-DELIVER."""

    smsc: str | None
    sender: str
    pid: int
    dcs: int
    encoding: Encoding
    timestamp: dt.datetime
    text: str
    concat: Concat | None


@dataclass(frozen=True)
class StatusReport:
    """A decoded SMS-STATUS-REPORT."""

    smsc: str | None
    mr: int
    recipient: str
    timestamp: dt.datetime
    discharge: dt.datetime
    status: int


# --- GSM 7-bit -------------------------------------------------------------------------------


def is_gsm7(text: str) -> bool:
    """Whether every character is in the default alphabet or its extension table."""
    return all(ch in _BASIC_INDEX or ch in _EXT_INDEX for ch in text)


def gsm7_septets(text: str) -> list[int]:
    """Map text to septets, extension characters as ESC pairs (TS 23.038 §6.2.1.1)."""
    out: list[int] = []
    for ch in text:
        if ch in _BASIC_INDEX:
            out.append(_BASIC_INDEX[ch])
        elif ch in _EXT_INDEX:
            out.extend((ESC, _EXT_INDEX[ch]))
        else:
            raise PduError(f"character {ch!r} is not in the GSM 7-bit alphabet")
    return out


def gsm7_text(septets: list[int]) -> str:
    """Map septets back to text; an ESC before an undefined code yields the basic character."""
    out: list[str] = []
    escaped = False
    for s in septets:
        if escaped:
            out.append(GSM7_EXTENSION.get(s, GSM7_BASIC[s] if s != ESC else " "))
            escaped = False
        elif s == ESC:
            escaped = True
        else:
            out.append(GSM7_BASIC[s])
    return "".join(out)


def pack_septets(septets: list[int], fill_bits: int = 0) -> bytes:
    """Pack septets LSB first after `fill_bits` zero bits (TS 23.038 §6.1.2.1.1)."""
    out = bytearray()
    acc = 0
    bits = fill_bits
    for s in septets:
        acc |= (s & 0x7F) << bits
        bits += 7
        while bits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            bits -= 8
    if bits:
        if bits == 1:
            # TS 23.038 §6.1.2.3.1: 7 spare bits would read as '@'; pad them with CR instead.
            acc |= 0x0D << 1
        out.append(acc & 0xFF)
    return bytes(out)


def unpack_septets(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    """Unpack `count` septets that start after `fill_bits` bits of `data`."""
    needed = (fill_bits + 7 * count + 7) // 8
    if needed > len(data):
        raise PduError(f"user data too short: {count} septets need {needed} octets, have {len(data)}")
    value = int.from_bytes(data[:needed], "little") >> fill_bits
    return [(value >> (7 * i)) & 0x7F for i in range(count)]


# --- Addresses and timestamps ------------------------------------------------------------------

_BCD_DIGITS = "0123456789*#abc"


def _swap_digits(data: bytes, count: int) -> str:
    digits: list[str] = []
    for octet in data:
        digits.append(_BCD_DIGITS[octet & 0x0F] if (octet & 0x0F) < 15 else "")
        digits.append(_BCD_DIGITS[octet >> 4] if (octet >> 4) < 15 else "")
    return "".join(digits)[:count]


def _bcd_encode(digits: str) -> bytes:
    if len(digits) % 2:
        digits += "F"
    values = [(_BCD_DIGITS.index(d) if d != "F" else 15) for d in digits]
    return bytes(values[i] | (values[i + 1] << 4) for i in range(0, len(values), 2))


def encode_address(number: str) -> bytes:
    """TP-OA/TP-DA/TP-RA (TS 23.040 §9.1.2.5): length in semi-octets, type, digits or GSM-7 name."""
    if number.startswith("+"):
        digits = number[1:]
        return bytes([len(digits), 0x91]) + _bcd_encode(digits)
    if number and all(ch in _BCD_DIGITS[:12] for ch in number):
        return bytes([len(number), 0x81]) + _bcd_encode(number)
    septets = gsm7_septets(number)
    packed = pack_septets(septets)
    return bytes([(len(septets) * 7 + 3) // 4, 0xD0]) + packed


def decode_address(data: bytes, pos: int) -> tuple[str, int]:
    """Decode an address at `pos`; return it ('+' for international) and the next position."""
    if pos + 2 > len(data):
        raise PduError("address truncated")
    semi, toa = data[pos], data[pos + 1]
    size = (semi + 1) // 2
    body = data[pos + 2 : pos + 2 + size]
    if len(body) < size:
        raise PduError("address digits truncated")
    if (toa >> 4) & 0x07 == 0x05:  # TON alphanumeric
        number = gsm7_text(unpack_septets(body, semi * 4 // 7))
    else:
        number = _swap_digits(body, semi)
        if (toa >> 4) & 0x07 == 0x01 and number:
            number = "+" + number
    return number, pos + 2 + size


def encode_smsc(number: str | None) -> bytes:
    """The SMSC prefix as modems show it (TS 24.011 RP address): length in octets, type, digits."""
    if not number:
        return b"\x00"
    address = encode_address(number)
    return bytes([len(address) - 1]) + address[1:]


def split_smsc(data: bytes) -> tuple[str | None, bytes]:
    """Split a PDU with an SMSC prefix into (SMSC or None, TPDU)."""
    if not data:
        raise PduError("empty PDU")
    size = data[0]
    if size == 0:
        return None, data[1:]
    if size + 1 > len(data):
        raise PduError("SMSC field longer than the PDU")
    toa = data[1]
    digits = _swap_digits(data[2 : 1 + size], (size - 1) * 2)
    return ("+" + digits if (toa >> 4) & 0x07 == 0x01 else digits), data[1 + size :]


def _bcd(value: int) -> int:
    return ((value % 10) << 4) | (value // 10)


def _unbcd(octet: int) -> int:
    return (octet & 0x0F) * 10 + (octet >> 4)


def encode_timestamp(moment: dt.datetime) -> bytes:
    """TP-SCTS (TS 23.040 §9.2.3.11): swapped BCD with the zone in quarter hours."""
    offset = moment.utcoffset() or dt.timedelta(0)
    quarters = int(offset.total_seconds() // 900)
    zone = _bcd(abs(quarters)) | (0x08 if quarters < 0 else 0)
    fields = (moment.year % 100, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    return bytes(_bcd(v) for v in fields) + bytes([zone])


def decode_timestamp(data: bytes) -> dt.datetime:
    """Decode a 7-octet TP-SCTS/TP-DT."""
    if len(data) < 7:
        raise PduError("timestamp truncated")
    year, month, day, hour, minute, second = (_unbcd(o) for o in data[:6])
    quarters = _unbcd(data[6] & 0xF7) * (-1 if data[6] & 0x08 else 1)
    try:
        return dt.datetime(2000 + year, month, day, hour, minute, second, tzinfo=dt.timezone(dt.timedelta(minutes=15 * quarters)))
    except ValueError as exc:
        raise PduError(f"bad timestamp: {exc}") from None


# --- User data ---------------------------------------------------------------------------------


def alphabet(dcs: int) -> Encoding:
    """The alphabet a TP-DCS selects (TS 23.038 §4)."""
    group = dcs >> 4
    if group & 0x0C in (0x00, 0x04):  # general data coding, with or without automatic deletion
        if dcs & 0x20:
            raise PduError(f"compressed user data (DCS 0x{dcs:02X}) is not supported")
        return (Encoding.GSM7, Encoding.EIGHT_BIT, Encoding.UCS2, Encoding.GSM7)[(dcs >> 2) & 0x03]
    if group == 0x0E:
        return Encoding.UCS2
    if group == 0x0F:
        return Encoding.EIGHT_BIT if dcs & 0x04 else Encoding.GSM7
    return Encoding.GSM7


def _parse_udh(header: bytes) -> Concat | None:
    concat: Concat | None = None
    pos = 0
    while pos + 2 <= len(header):
        iei, size = header[pos], header[pos + 1]
        body = header[pos + 2 : pos + 2 + size]
        if len(body) < size:
            raise PduError("user data header element truncated")
        if iei == 0x00 and size == 3:
            concat = Concat(ref=body[0], total=body[1], seq=body[2])
        elif iei == 0x08 and size == 4:
            concat = Concat(ref=(body[0] << 8) | body[1], total=body[2], seq=body[3], sixteen_bit=True)
        pos += 2 + size
    return concat


def decode_user_data(ud: bytes, udl: int, udhi: bool, encoding: Encoding) -> tuple[str, Concat | None]:
    """Decode TP-UD given TP-UDL, TP-UDHI and the alphabet (TS 23.040 §9.2.3.24)."""
    header_octets = 0
    concat = None
    if udhi:
        if not ud:
            raise PduError("UDHI set but user data is empty")
        header_octets = ud[0] + 1
        if header_octets > len(ud):
            raise PduError("user data header longer than the user data")
        concat = _parse_udh(ud[1:header_octets])
    if encoding is Encoding.GSM7:
        header_septets = (header_octets * 8 + 6) // 7
        fill = header_septets * 7 - header_octets * 8
        count = udl - header_septets
        if count < 0:
            raise PduError("TP-UDL smaller than the header")
        return gsm7_text(unpack_septets(ud[header_octets:], count, fill)), concat
    if udl > len(ud):
        raise PduError(f"TP-UDL {udl} exceeds the {len(ud)} octets present")
    payload = ud[header_octets:udl]
    if encoding is Encoding.UCS2:
        return payload.decode("utf-16-be", errors="replace"), concat
    return payload.hex().upper(), concat


def encode_user_data(text: str, encoding: Encoding, concat: Concat | None) -> tuple[int, bytes]:
    """Encode TP-UDL and TP-UD for `text`, with a concatenation header when `concat` is given."""
    header = b""
    if concat is not None:
        if concat.sixteen_bit:
            element = bytes([0x08, 4, concat.ref >> 8, concat.ref & 0xFF, concat.total, concat.seq])
        else:
            element = bytes([0x00, 3, concat.ref & 0xFF, concat.total, concat.seq])
        header = bytes([len(element)]) + element
    if encoding is Encoding.GSM7:
        septets = gsm7_septets(text)
        header_septets = (len(header) * 8 + 6) // 7
        fill = header_septets * 7 - len(header) * 8
        return header_septets + len(septets), header + pack_septets(septets, fill)
    if encoding is Encoding.UCS2:
        payload = text.encode("utf-16-be")
    else:
        payload = bytes.fromhex(text)
    return len(header) + len(payload), header + payload


def choose_encoding(text: str) -> Encoding:
    """GSM-7 when every character fits, else UCS-2 (TS 23.038)."""
    return Encoding.GSM7 if is_gsm7(text) else Encoding.UCS2


def split_text(text: str, encoding: Encoding | None = None) -> tuple[Encoding, list[str]]:
    """Split text into parts: 160/153 septets (escape pairs intact) or 70/67 UTF-16 units (pairs intact)."""
    encoding = encoding or choose_encoding(text)
    if encoding is Encoding.GSM7:
        cost = [2 if ch in _EXT_INDEX else 1 for ch in text]
        single, multi = 160, 153
    else:
        cost = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
        single, multi = 70, 67
    if sum(cost) <= single:
        return encoding, [text]
    parts: list[str] = []
    start = used = 0
    for i, c in enumerate(cost):
        if used + c > multi:
            parts.append(text[start:i])
            start, used = i, 0
        used += c
    parts.append(text[start:])
    return encoding, parts


# --- TPDUs ------------------------------------------------------------------------------------


def _dcs_for(encoding: Encoding) -> int:
    return {Encoding.GSM7: 0x00, Encoding.EIGHT_BIT: 0x04, Encoding.UCS2: 0x08}[encoding]


def encode_deliver(
    sender: str,
    text: str,
    timestamp: dt.datetime,
    *,
    encoding: Encoding | None = None,
    concat: Concat | None = None,
    smsc: str | None = None,
    with_smsc: bool = True,
) -> bytes:
    """Encode an SMS-DELIVER (TS 23.040 §9.2.2.1), by default with the SMSC prefix modems show."""
    encoding = encoding or choose_encoding(text)
    first = MTI_DELIVER | 0x04 | (0x40 if concat else 0)  # TP-MMS=1: no more messages waiting
    udl, ud = encode_user_data(text, encoding, concat)
    tpdu = bytes([first]) + encode_address(sender) + bytes([0x00, _dcs_for(encoding)]) + encode_timestamp(timestamp) + bytes([udl]) + ud
    return (encode_smsc(smsc) if with_smsc else b"") + tpdu


def encode_submit(
    destination: str,
    text: str,
    *,
    encoding: Encoding | None = None,
    concat: Concat | None = None,
    mr: int = 0,
    status_report: bool = False,
    smsc: str | None = None,
    validity: int | None = 0xA7,
) -> bytes:
    """Encode an SMS-SUBMIT (TS 23.040 §9.2.2.2) with an SMSC prefix (`00` when `smsc` is None)."""
    encoding = encoding or choose_encoding(text)
    first = MTI_SUBMIT | (0x10 if validity is not None else 0) | (0x20 if status_report else 0) | (0x40 if concat else 0)
    udl, ud = encode_user_data(text, encoding, concat)
    vp = bytes([validity]) if validity is not None else b""
    tpdu = bytes([first, mr & 0xFF]) + encode_address(destination) + bytes([0x00, _dcs_for(encoding)]) + vp + bytes([udl]) + ud
    return encode_smsc(smsc) + tpdu


def encode_status_report(
    mr: int, recipient: str, submitted: dt.datetime, discharged: dt.datetime, status: int, *, smsc: str | None = None, with_smsc: bool = True
) -> bytes:
    """Encode an SMS-STATUS-REPORT (TS 23.040 §9.2.2.3): MR, RA, SCTS, DT and TP-ST."""
    first = MTI_STATUS_REPORT | 0x04  # TP-MMS=1
    tpdu = bytes([first, mr & 0xFF]) + encode_address(recipient) + encode_timestamp(submitted) + encode_timestamp(discharged) + bytes([status & 0xFF])
    return (encode_smsc(smsc) if with_smsc else b"") + tpdu


def decode_submit(data: bytes, *, with_smsc: bool = True) -> Submit:
    """Decode an SMS-SUBMIT, with or without the SMSC prefix."""
    smsc, tpdu = split_smsc(data) if with_smsc else (None, data)
    try:
        first = tpdu[0]
        if first & 0x03 != MTI_SUBMIT:
            raise PduError(f"TP-MTI {first & 0x03} is not SMS-SUBMIT")
        mr = tpdu[1]
        destination, pos = decode_address(tpdu, 2)
        pid, dcs = tpdu[pos], tpdu[pos + 1]
        pos += 2
        vpf = (first >> 3) & 0x03
        pos += {0: 0, 2: 1, 1: 7, 3: 7}[vpf]
        udl = tpdu[pos]
        ud = tpdu[pos + 1 :]
    except IndexError:
        raise PduError("SMS-SUBMIT truncated") from None
    encoding = alphabet(dcs)
    text, concat = decode_user_data(ud, udl, bool(first & 0x40), encoding)
    return Submit(smsc, mr, destination, bool(first & 0x20), pid, dcs, encoding, text, concat, len(tpdu))


def decode_deliver(data: bytes, *, with_smsc: bool = True) -> Deliver:
    """Decode an SMS-DELIVER, with or without the SMSC prefix."""
    smsc, tpdu = split_smsc(data) if with_smsc else (None, data)
    try:
        first = tpdu[0]
        if first & 0x03 != MTI_DELIVER:
            raise PduError(f"TP-MTI {first & 0x03} is not SMS-DELIVER")
        sender, pos = decode_address(tpdu, 1)
        pid, dcs = tpdu[pos], tpdu[pos + 1]
        timestamp = decode_timestamp(tpdu[pos + 2 : pos + 9])
        udl = tpdu[pos + 9]
        ud = tpdu[pos + 10 :]
    except IndexError:
        raise PduError("SMS-DELIVER truncated") from None
    encoding = alphabet(dcs)
    text, concat = decode_user_data(ud, udl, bool(first & 0x40), encoding)
    return Deliver(smsc, sender, pid, dcs, encoding, timestamp, text, concat)


def decode_status_report(data: bytes, *, with_smsc: bool = True) -> StatusReport:
    """Decode an SMS-STATUS-REPORT, with or without the SMSC prefix."""
    smsc, tpdu = split_smsc(data) if with_smsc else (None, data)
    try:
        first = tpdu[0]
        if first & 0x03 != MTI_STATUS_REPORT:
            raise PduError(f"TP-MTI {first & 0x03} is not SMS-STATUS-REPORT")
        mr = tpdu[1]
        recipient, pos = decode_address(tpdu, 2)
        submitted = decode_timestamp(tpdu[pos : pos + 7])
        discharged = decode_timestamp(tpdu[pos + 7 : pos + 14])
        status = tpdu[pos + 14]
    except IndexError:
        raise PduError("SMS-STATUS-REPORT truncated") from None
    return StatusReport(smsc, mr, recipient, submitted, discharged, status)


def tpdu_length(data: bytes) -> int:
    """The TPDU length of a PDU with an SMSC prefix, as AT+CMGS/+CMGL/+CMT declare it."""
    return len(data) - 1 - data[0]
