"""Tests for gateway.sms: transcript vectors, segment boundaries, round trips, gsmmodem defects, numbers.

Round trips are checked with a SUBMIT reader written here from TS 23.040/23.038 (bit-string septet
unpacking and a GSM-7 table derived from ASCII), independent of the product's decoder.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from gsmmodem import pdu as upstream
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway import sms
from gateway.sms import (
    Concat,
    Deliver,
    DeliveryClass,
    Encoding,
    InvalidNumber,
    PduError,
    SenderKind,
    StatusReport,
)

RECIPIENT = "+79161234567"
OA_RECIPIENT = bytes.fromhex("0B919761214365F7")  # 11 digits, international, +79161234567
SCTS = bytes.fromhex("52304101127021")  # 2025-03-14 10:21:07 +03:00

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- An independent reader of SMS-SUBMIT PDUs (TS 23.040 §9.2.2.2) --------------------------------

# GSM 7-bit default alphabet, derived from ASCII plus the positions where TS 23.038 §6.2.1 differs.
_T_BASIC = {code: chr(code) for code in range(0x20, 0x80)}
_T_BASIC.update(
    {0x24: "¤", 0x40: "¡", 0x5B: "Ä", 0x5C: "Ö", 0x5D: "Ñ", 0x5E: "Ü", 0x5F: "§", 0x60: "¿",
     0x7B: "ä", 0x7C: "ö", 0x7D: "ñ", 0x7E: "ü", 0x7F: "à"}
)
_T_BASIC.update(dict(enumerate("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ")))
_T_BASIC.update({0x1C: "Æ", 0x1D: "æ", 0x1E: "ß", 0x1F: "É"})
_T_EXT = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]",
          0x40: "|", 0x65: "€"}
GSM7_ALPHABET = "".join(sorted(_T_BASIC.values())) + "".join(_T_EXT.values())


def _septets_bitwise(data: bytes, count: int) -> list[int]:
    """Septets by walking an LSB-first bit string, one bit at a time."""
    bits = "".join(format(octet, "08b")[::-1] for octet in data)
    return [int(bits[7 * i : 7 * i + 7][::-1], 2) for i in range(count)]


def _t_gsm7_text(septets: list[int]) -> str:
    out, i = [], 0
    while i < len(septets):
        if septets[i] == 0x1B:
            out.append(_T_EXT[septets[i + 1]])
            i += 2
        else:
            out.append(_T_BASIC[septets[i]])
            i += 1
    return "".join(out)


def read_submit(pdu_hex: str) -> dict:
    """Fields of one of our SUBMIT PDUs (SMSC prefix 00, relative or no VP)."""
    data = bytes.fromhex(pdu_hex)
    assert data[0] == 0x00, "SMSC prefix must be the zero-length 00"
    first, mr, da_len, toa = data[1], data[2], data[3], data[4]
    pos = 5 + (da_len + 1) // 2
    digits = "".join(f"{octet & 0xF:x}{octet >> 4:x}" for octet in data[5:pos])[:da_len]
    pid, dcs = data[pos], data[pos + 1]
    pos += 2
    vp = None
    if first & 0x18 == 0x10:
        vp = data[pos]
        pos += 1
    udl = data[pos]
    ud = data[pos + 1 :]
    udh = b""
    if first & 0x40:
        udh = ud[: 1 + ud[0]]
    if dcs == 0x00:
        assert len(ud) == (udl * 7 + 7) // 8
        header_septets = (len(udh) * 8 + 6) // 7
        text = _t_gsm7_text(_septets_bitwise(ud, udl)[header_septets:])
        units = udl - header_septets
    else:
        assert dcs == 0x08 and len(ud) == udl
        body = ud[len(udh) :]
        text = body.decode("utf-16-be")
        units = len(body) // 2
    return {
        "first": first, "mr": mr, "number": ("+" if toa == 0x91 else "") + digits, "toa": toa,
        "pid": pid, "dcs": dcs, "vp": vp, "udl": udl, "udh": udh, "text": text, "units": units,
        "ud": ud, "tpdu_length": len(data) - 1,
    }


def as_deliver(submit_hex: str) -> str:
    """A DELIVER carrying the user data of one of our SUBMITs, as a modem would store it."""
    parsed = read_submit(submit_hex)
    first = 0x04 | (parsed["first"] & 0x40)  # DELIVER, TP-MMS, keep TP-UDHI
    tpdu = bytes([first]) + OA_RECIPIENT + bytes([0x00, parsed["dcs"]]) + SCTS + bytes([parsed["udl"]]) + parsed["ud"]
    return "07919761989901F0" + tpdu.hex().upper()


def deliver_pdu(ud: bytes, udl: int, *, dcs: int = 0x00, udhi: bool = False, oa: bytes = OA_RECIPIENT,
                scts: bytes = SCTS, pid: int = 0) -> str:
    """A DELIVER PDU with a zero-length SMSC around the given user data."""
    first = 0x04 | (0x40 if udhi else 0)
    return "00" + (bytes([first]) + oa + bytes([pid, dcs]) + scts + bytes([udl]) + ud).hex().upper()


def pack(septets: list[int], fill_bits: int = 0) -> bytes:
    """Pack septets LSB-first after `fill_bits` zero bits, bit by bit (test-side encoder)."""
    bits = "0" * fill_bits + "".join(format(s, "07b")[::-1] for s in septets)
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i : i + 8][::-1], 2) for i in range(0, len(bits), 8))


def gsm7_codes(text: str) -> list[int]:
    reverse = {ch: code for code, ch in _T_BASIC.items()}
    ext = {ch: code for code, ch in _T_EXT.items()}
    out: list[int] = []
    for ch in text:
        out += [reverse[ch]] if ch in reverse else [0x1B, ext[ch]]
    return out


# --- Vectors from reference/transcripts.md -------------------------------------------------------

T2_CMGL = [
    "07919761989901F0440B919761214365F70008523041011270218C0500035C03010414043E04310440044B0439002004340435043D044C00210020041D0430043F043E043C0438043D04300435043C002C002004470442043E002004370430043204420440043000200432002000300039003A00330030002004430020043204300441002004370430043F04380441044C0020043A002004320440043004470443002004320020",
    "07919761989901F0440B919761214365F70008523041011280218C0500035C0302043A043B0438043D0438043A04350020043D043000200443043B002E0020041B0435043D0438043D0430002C002000310035002C0020043A043004310438043D043504420020003200300034002E002004150441043B04380020043D043500200441043C043E04360435044204350020043F04400438043904420438002C0020043E04420432",
    "07919761989901F0440B919761214365F7000852304101129021420500035C030304350442044C044204350020041E0422041C0415041D04100020043D04300020044D0442043E00200441043E043E043104490435043D04380435002E",
]
T2_TEXTS = [
    "Добрый день! Напоминаем, что завтра в 09:30 у вас запись к врачу в ",
    "клинике на ул. Ленина, 15, кабинет 204. Если не сможете прийти, отв",
    "етьте ОТМЕНА на это сообщение.",
]
T3_TEXT = (
    "Здравствуйте! Ваш заказ №12345 принят и будет доставлен завтра с 10:00 до 14:00. "
    "Курьер позвонит за час до приезда. Спасибо, что выбрали нас!"
)
T3_PDUS = [
    "0071000B919761214365F70008A78C0500032A030104170434044004300432044104420432044304390442043500210020041204300448002004370430043A0430043700202116003100320033003400350020043F04400438043D044F04420020043800200431044304340435044200200434043E0441044204300432043B0435043D002004370430043204420440043000200441002000310030",
    "0071000B919761214365F70008A78C0500032A0302003A0030003000200434043E002000310034003A00300030002E0020041A04430440044C043504400020043F043E04370432043E043D04380442002004370430002004470430044100200434043E0020043F044004380435043704340430002E00200421043F0430044104380431043E002C002004470442043E00200432044B043104400430",
    "0071000B919761214365F70008A7140500032A0303043B04380020043D043004410021",
]
APPENDIX_GSM7_TEXT = (
    "This is a long English message that needs more than one hundred and sixty characters, so the "
    "modem must send it as a concatenated SMS with a user data header [part ~1/2]."
)
APPENDIX_GSM7_PDUS = [
    "0071000B919761214365F70000A7A0050003070201A8E8F41C949E83C220F6DB7D0615DD67767A8E06B5CBF379F85C06D1D1613AC85D2E93E7A0F65B5E06D1D16137E8ED2E83D07537595E2683C26E32689EC6D3F3A0313A2C0F8FE965F99C059ABF41747419D47E93CB6D50BB3EA783E665371994A683C2735018347EBBC7617AD91DA697C9A069730ABAA7E9685018549F97E52072981E06A1CB",
    "0071000B919761214365F70000A71B050003070202C2E4B21CB4E1C1C3723A68D38BBD641B9F0B",
]
APPENDIX_UCS2_TEXT = "Ваш код: 4821. Никому его не сообщайте."
APPENDIX_UCS2_PDU = "0031000B919761214365F70008A74E0412043004480020043A043E0434003A00200034003800320031002E0020041D0438043A043E043C0443002004350433043E0020043D043500200441043E043E043104490430043904420435002E"
T3_CDS = [
    ("07919761989901F006170B919761214365F7523041210020215230412100902100", 23, 0x00, DeliveryClass.DELIVERED, (12, 0, 9)),
    ("07919761989901F006190B919761214365F7523041210080215230412100212100", 25, 0x00, DeliveryClass.DELIVERED, (12, 0, 12)),
    ("07919761989901F006180B919761214365F7523041210050215230412100042130", 24, 0x30, DeliveryClass.PENDING, (12, 0, 40)),
    ("07919761989901F006180B919761214365F7523041210050215230412110532100", 24, 0x00, DeliveryClass.DELIVERED, (12, 1, 35)),
]
MSK = timezone(timedelta(hours=3))


def test_t2_inbound_cyrillic_parts_decode_as_captured() -> None:
    parts = [sms.decode(pdu) for pdu in T2_CMGL]
    for seq, (part, text) in enumerate(zip(parts, T2_TEXTS), start=1):
        assert isinstance(part, Deliver)
        assert part.sender == RECIPIENT and part.sender_kind is SenderKind.INTERNATIONAL
        assert part.smsc == "+79168999100"
        assert part.encoding == "ucs2"
        assert part.concat == Concat(reference=92, total=3, seq=seq)
        assert part.text == text
        assert part.timestamp == datetime(2025, 3, 14, 10, 21, 6 + seq, tzinfo=MSK)
        assert part.pdu == T2_CMGL[seq - 1]
    assert len(parts[0].text) == len(parts[1].text) == 67
    joined = sms.join_parts(reversed(parts))
    assert joined == "".join(T2_TEXTS) and len(joined) == 164


def test_t2_parts_agree_with_gsmmodem_decoder() -> None:
    for pdu, text in zip(T2_CMGL, T2_TEXTS):
        assert upstream.decodeSmsPdu(pdu)["text"] == text == sms.decode(pdu).text


def test_t3_outbound_cyrillic_matches_transcript_byte_for_byte() -> None:
    pdus = sms.encode_submit(RECIPIENT, T3_TEXT, reference=0x2A, validity_hours=24)
    assert [p.hex for p in pdus] == T3_PDUS  # the transcript shows them with the 00 SMSC octet
    assert [p.tpdu_length for p in pdus] == [154, 154, 34]
    assert [(p.part, p.total) for p in pdus] == [(1, 3), (2, 3), (3, 3)]
    assert sms.plan(T3_TEXT) == sms.SegmentPlan(Encoding.UCS2, parts=3, units=141, units_per_part=67, units_left=60)


def test_appendix_gsm7_two_part_vector_with_fill_bit() -> None:
    assert len(APPENDIX_GSM7_TEXT) == 170
    pdus = sms.encode_submit(RECIPIENT, APPENDIX_GSM7_TEXT, reference=7, validity_hours=24)
    assert [p.hex for p in pdus] == APPENDIX_GSM7_PDUS
    assert [p.tpdu_length for p in pdus] == [154, 38]
    assert [read_submit(p.hex)["udl"] for p in pdus] == [160, 27]  # 7 header septets + text
    assert sms.plan(APPENDIX_GSM7_TEXT).units == 173  # '[', '~' and ']' cost 2 septets each


def test_appendix_ucs2_single_part_vector() -> None:
    (pdu,) = sms.encode_submit(RECIPIENT, APPENDIX_UCS2_TEXT, reference=99, validity_hours=24)
    assert pdu.hex == APPENDIX_UCS2_PDU and pdu.tpdu_length == 92
    assert sms.decode_submit(pdu.hex).text == APPENDIX_UCS2_TEXT


@pytest.mark.parametrize(("pdu", "mr", "status", "status_class", "dt"), T3_CDS)
def test_t3_status_reports(pdu: str, mr: int, status: int, status_class: DeliveryClass, dt: tuple) -> None:
    report = sms.decode(pdu)
    assert isinstance(report, StatusReport)
    assert (report.reference, report.recipient, report.status, report.status_class) == (mr, RECIPIENT, status, status_class)
    assert report.discharge_time == datetime(2025, 3, 14, *dt, tzinfo=MSK)
    assert report.sc_timestamp is not None and report.sc_timestamp.tzinfo is not None


def test_python_gsmmodem_status_report_sample_with_national_recipient() -> None:
    report = sms.decode("07917248014000F506B70AA18092020000317071518590803170715185418000")
    assert isinstance(report, StatusReport)
    assert (report.reference, report.recipient, report.status) == (0xB7, "0829200000", 0)
    assert report.discharge_time == datetime(2013, 7, 17, 15, 58, 14, tzinfo=timezone(timedelta(hours=2)))


# --- Encoding choice and segment plans -------------------------------------------------------------

SEGMENT_CASES = [
    # text, encoding, part lengths in units
    ("A" * 160, Encoding.GSM7, [160]),
    ("A" * 161, Encoding.GSM7, [153, 8]),
    ("A" * 306, Encoding.GSM7, [153, 153]),
    ("A" * 307, Encoding.GSM7, [153, 153, 1]),
    ("€" * 80, Encoding.GSM7, [160]),
    ("€" * 81, Encoding.GSM7, [152, 10]),  # 76 + 5 characters: an escape pair is never split
    ("A" * 159 + "€", Encoding.GSM7, [153, 8]),  # 161 septets
    ("A" * 152 + "€" + "B" * 10, Encoding.GSM7, [152, 12]),  # € would be septets 153-154
    ("Я" * 70, Encoding.UCS2, [70]),
    ("Я" * 71, Encoding.UCS2, [67, 4]),
    ("Я" * 134, Encoding.UCS2, [67, 67]),
    ("Я" * 135, Encoding.UCS2, [67, 67, 1]),
    ("😀" * 35, Encoding.UCS2, [70]),  # surrogate pairs count 2 units
    ("😀" * 36, Encoding.UCS2, [66, 6]),
    ("Я" * 66 + "😀" + "Я" * 4, Encoding.UCS2, [66, 6]),  # the pair would be units 67-68
    ("Я" * 68 + "😀", Encoding.UCS2, [70]),
    ("A" * 200 + "Я", Encoding.UCS2, [67, 67, 67]),  # one Cyrillic letter makes it all UCS-2
    ("", Encoding.GSM7, [0]),
]


@pytest.mark.parametrize(("text", "encoding", "lengths"), SEGMENT_CASES)
def test_segment_boundaries(text: str, encoding: Encoding, lengths: list[int]) -> None:
    plan = sms.plan(text)
    parts = sms.split(text)
    assert plan.encoding is encoding and sms.choose_encoding(text) is encoding
    assert plan.parts == len(parts) == len(lengths)
    assert "".join(parts) == text
    unit = (lambda s: len(gsm7_codes(s))) if encoding is Encoding.GSM7 else (lambda s: len(s.encode("utf-16-be")) // 2)
    assert [unit(p) for p in parts] == lengths
    assert plan.units == sum(lengths)
    single = 160 if encoding is Encoding.GSM7 else 70
    multi = 153 if encoding is Encoding.GSM7 else 67
    assert plan.units_per_part == (single if len(lengths) == 1 else multi)
    assert plan.units_left == plan.units_per_part - lengths[-1]
    pdus = sms.encode_submit(RECIPIENT, text, reference=1)
    assert [read_submit(p.hex)["units"] for p in pdus] == lengths


@pytest.mark.parametrize("ch", list("{}[]~\\|^€\f"))
def test_extension_characters_cost_two_septets(ch: str) -> None:
    assert sms.choose_encoding("a" + ch) is Encoding.GSM7
    assert sms.plan("a" + ch).units == 3


@pytest.mark.parametrize("ch", ["`", "ç", "Я", "😀", "\x1b", "\t", "ÿ", "’"])
def test_characters_outside_gsm7_force_ucs2(ch: str) -> None:
    assert sms.choose_encoding("abc" + ch) is Encoding.UCS2


def test_force_ucs2_uses_ucs2_limits() -> None:
    plan = sms.plan("A" * 71, force_ucs2=True)
    assert (plan.encoding, plan.parts) == (Encoding.UCS2, 2)
    pdus = sms.encode_submit(RECIPIENT, "Hi", reference=0, force_ucs2=True)
    assert read_submit(pdus[0].hex)["dcs"] == 0x08 and sms.decode_submit(pdus[0].hex).text == "Hi"


# --- Round trips through an independent reader -----------------------------------------------------

def _check_round_trip(text: str, reference: int, request_report: bool, validity: int | None) -> None:
    pdus = sms.encode_submit(RECIPIENT, text, reference=reference, request_report=request_report,
                             validity_hours=validity)
    plan = sms.plan(text)
    assert len(pdus) == plan.parts
    total = len(pdus)
    texts = []
    for seq, pdu in enumerate(pdus, start=1):
        parsed = read_submit(pdu.hex)
        assert pdu.hex == pdu.hex.upper() and pdu.tpdu_length == parsed["tpdu_length"]
        assert (pdu.part, pdu.total) == (seq, total)
        assert parsed["mr"] == 0 and parsed["number"] == RECIPIENT and parsed["toa"] == 0x91
        assert parsed["first"] & 0x03 == 0x01
        assert bool(parsed["first"] & 0x20) == request_report
        assert (parsed["vp"] is None) == (validity is None)
        assert len(parsed["ud"]) <= 140
        if total > 1:
            assert parsed["udh"] == bytes([5, 0, 3, reference, total, seq])
            assert parsed["units"] <= (153 if parsed["dcs"] == 0 else 67)
        else:
            assert parsed["udh"] == b""
            assert parsed["units"] <= (160 if parsed["dcs"] == 0 else 70)
        assert parsed["dcs"] == (0x00 if plan.encoding is Encoding.GSM7 else 0x08)
        texts.append(parsed["text"])
        decoded = sms.decode(as_deliver(pdu.hex))
        assert isinstance(decoded, Deliver) and decoded.text == parsed["text"]
        assert decoded.concat == (Concat(reference, total, seq) if total > 1 else None)
        assert sms.decode_submit(pdu.hex).text == parsed["text"]
    assert "".join(texts) == text
    assert texts == sms.split(text)
    parts = [sms.decode(as_deliver(p.hex)) for p in reversed(pdus)]
    assert sms.join_parts(parts) == text  # type: ignore[arg-type]


@FAST
@given(st.text(max_size=400), st.integers(0, 255), st.booleans(), st.sampled_from([None, 1, 24, 168]))
def test_any_text_round_trips(text: str, reference: int, request_report: bool, validity: int | None) -> None:
    _check_round_trip(text, reference, request_report, validity)


@FAST
@given(st.text(alphabet=GSM7_ALPHABET, max_size=500), st.integers(0, 255))
def test_gsm7_text_round_trips(text: str, reference: int) -> None:
    assert sms.choose_encoding(text) is Encoding.GSM7
    _check_round_trip(text, reference, True, 24 * 7)


@FAST
@given(st.lists(st.sampled_from(["Я", "😀", "a", "€", "🇷🇺", "\U0001F9D1\u200D\U0001F4BB"]), max_size=120).map("".join))
def test_emoji_heavy_text_round_trips(text: str) -> None:
    _check_round_trip(text, 200, True, 24)


def _t_units(text: str, encoding: Encoding) -> int:
    if encoding is Encoding.GSM7:
        return len(gsm7_codes(text))
    return len(text.encode("utf-16-be")) // 2


@FAST
@given(st.one_of(st.text(max_size=600), st.text(alphabet=GSM7_ALPHABET, max_size=600)))
def test_split_is_greedy_and_consistent_with_plan(text: str) -> None:
    parts = sms.split(text)
    plan = sms.plan(text)
    assert "".join(parts) == text and len(parts) == plan.parts
    assert plan.units == _t_units(text, plan.encoding)
    assert plan.units_left == plan.units_per_part - _t_units(parts[-1], plan.encoding)
    for part, following in zip(parts, parts[1:]):
        # every part is full: the next part's first character would not have fitted
        assert _t_units(part, plan.encoding) <= plan.units_per_part
        assert _t_units(part + following[0], plan.encoding) > plan.units_per_part


@FAST
@given(st.one_of(st.text(alphabet=GSM7_ALPHABET.replace("§", "").replace("\f", ""), max_size=400),
                 st.text(alphabet=st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"]), max_size=300)))
def test_gsmmodem_decoder_agrees_where_it_is_correct(text: str) -> None:
    for pdu in sms.encode_submit(RECIPIENT, text, reference=77):
        parsed = read_submit(pdu.hex)
        if parsed["dcs"] == 0 and (parsed["udl"] % 8 == 7 or (parsed["udl"] % 8 == 0 and parsed["text"][-1:] == "@")):
            continue  # upstream ignores TP-UDL: reads the CR in spare bits, drops a final '@' (D6)
        if parsed["dcs"] == 0 and ("§" in parsed["text"] or "\f" in parsed["text"]):
            continue  # upstream's tables lack '§' and form feed (D4)
        theirs = upstream.decodeSmsPdu(pdu.hex)
        assert theirs["text"] == parsed["text"] and theirs["number"] == RECIPIENT
        if pdu.total > 1:
            (concat,) = theirs["udh"]
            assert (concat.reference, concat.parts, concat.number) == (77, pdu.total, pdu.part)


# --- Defects of gsmmodem.pdu 0.13 and our fixes ----------------------------------------------------

def test_d1_gsm7_after_16bit_concat_header_keeps_first_character() -> None:
    septets = gsm7_codes("Hello world")
    udh = bytes([6, 0x08, 4, 0x12, 0x34, 2, 1])  # 7 octets = 8 septets exactly: no fill bits
    pdu = deliver_pdu(udh + pack(septets), 8 + len(septets), udhi=True)
    assert upstream.decodeSmsPdu(pdu)["text"] == "ello world"  # upstream drops the first character
    decoded = sms.decode(pdu)
    assert decoded.text == "Hello world"
    assert decoded.concat == Concat(reference=0x1234, total=2, seq=1)


def test_d2_emoji_encode_and_decode() -> None:
    text = "Ваш заказ готов 😀👍"
    with pytest.raises(ValueError):
        upstream.encodeSmsSubmitPdu(RECIPIENT, text)
    (pdu,) = sms.encode_submit(RECIPIENT, text, reference=0)
    assert read_submit(pdu.hex)["units"] == len(text) + 2  # each emoji is a surrogate pair
    deliver = as_deliver(pdu.hex)
    garbled = upstream.decodeSmsPdu(deliver)["text"]
    with pytest.raises(UnicodeEncodeError):
        garbled.encode("utf-8")  # upstream returns lone surrogates
    assert sms.decode(deliver).text == text


def test_d2_upstream_ucs2_split_counts_code_points() -> None:
    text = "😀" * 40  # 80 UTF-16 units: upstream packs all 40 into one "part" of 67 code points
    assert upstream.divideTextUcs2(text) == [text]
    assert [len(p) for p in sms.split(text)] == [33, 7]


@pytest.mark.parametrize(
    ("dcs", "encoding", "message_class"),
    [
        (0x00, "gsm7", None), (0x04, "8bit", None), (0x08, "ucs2", None), (0x0C, "gsm7", None),
        (0x10, "gsm7", 0), (0x11, "gsm7", 1), (0x18, "ucs2", 0), (0x16, "8bit", 2),
        (0x40, "gsm7", None), (0x44, "8bit", None), (0x48, "ucs2", None), (0x5A, "ucs2", 2),
        (0x80, "gsm7", None), (0xC0, "gsm7", None), (0xD8, "gsm7", None), (0xE0, "ucs2", None),
        (0xE8, "ucs2", None), (0xF0, "gsm7", 0), (0xF1, "gsm7", 1), (0xF4, "8bit", 0), (0xF6, "8bit", 2),
    ],
)
def test_d3_data_coding_groups(dcs: int, encoding: str, message_class: int | None) -> None:
    text = "Привет" if encoding == "ucs2" else "Hello"
    if encoding == "gsm7":
        septets = gsm7_codes(text)
        ud, udl = pack(septets), len(septets)
    elif encoding == "ucs2":
        ud = text.encode("utf-16-be")
        udl = len(ud)
    else:
        ud, udl = text.encode("latin-1"), len(text)
    decoded = sms.decode(deliver_pdu(ud, udl, dcs=dcs))
    assert (decoded.text, decoded.encoding, decoded.message_class) == (text, encoding, message_class)


def test_d3_upstream_misreads_dcs_0x48() -> None:
    ud = "Привет".encode("utf-16-be")
    pdu = deliver_pdu(ud, len(ud), dcs=0x48)
    assert upstream.decodeSmsPdu(pdu)["text"] != "Привет"
    assert sms.decode(pdu).text == "Привет"


def test_compressed_user_data_is_a_clear_error() -> None:
    with pytest.raises(PduError, match="compressed"):
        sms.decode(deliver_pdu(b"\x00", 1, dcs=0x20))


def test_d4_section_sign_backtick_and_form_feed() -> None:
    assert upstream.GSM7_BASIC[0x5F] == "`"  # TS 23.038 has '§' there
    with pytest.raises(TypeError):
        upstream.encodeGsm7("ÿ")
    assert sms.choose_encoding("§") is Encoding.GSM7 and sms.choose_encoding("`") is Encoding.UCS2
    (pdu,) = sms.encode_submit(RECIPIENT, "§ 5\fpage", reference=0)
    parsed = read_submit(pdu.hex)
    assert parsed["dcs"] == 0 and parsed["text"] == "§ 5\fpage"
    assert sms.decode(as_deliver(pdu.hex)).text == "§ 5\fpage"


def test_d4_unknown_escape_shows_basic_character_and_lone_escape_is_dropped() -> None:
    septets = [0x1B, ord("A"), ord("b"), 0x1B, 0x1B, ord("c"), 0x1B]  # ESC A: undefined; ESC ESC; trailing ESC
    decoded = sms.decode(deliver_pdu(pack(septets), len(septets)))
    assert decoded.text == "Ab c"
    with pytest.raises(StopIteration):
        upstream.decodeGsm7(bytearray([ord("a"), 0x1B]))


def test_d5_message_reference_is_zero_and_concat_reference_is_in_the_udh() -> None:
    text = "B" * 200
    ours = sms.encode_submit(RECIPIENT, text, reference=0x2A)
    theirs = upstream.encodeSmsSubmitPdu(RECIPIENT, text, reference=0x2A)
    assert bytes(theirs[0].data)[2] == 0x2A  # upstream puts the concat reference into TP-MR
    assert all(read_submit(p.hex)["mr"] == 0 and read_submit(p.hex)["udh"][3] == 0x2A for p in ours)


def test_d6_cr_padding_in_spare_bits_is_not_text() -> None:
    text = "Hello!!"  # 7 septets: 7 spare bits in the last octet
    (pdu,) = sms.encode_submit(RECIPIENT, text, reference=0)
    ud = read_submit(pdu.hex)["ud"]
    assert len(ud) == 7 and ud[-1] >> 1 == 0x0D  # our encoder fills them with CR (TS 23.038 §6.1.2.3.1)
    deliver = as_deliver(pdu.hex)
    assert upstream.decodeSmsPdu(deliver)["text"] == "Hello!!\r"
    assert sms.decode(deliver).text == "Hello!!"


def test_d6_a_cr_inside_tp_udl_is_text() -> None:
    boundary = gsm7_codes("000\f€\r")  # 8 septets ending in CR on an octet boundary (found by fuzzing)
    assert sms.decode(deliver_pdu(pack(boundary), 8)).text == "000\f€\r"
    for text in ("000\f€\r", "Hello!\r", "A" * 152 + "\r" + "B" * 20):
        pdus = sms.encode_submit(RECIPIENT, text, reference=3)
        assert sms.join_parts([sms.decode(as_deliver(p.hex)) for p in pdus]) == text  # type: ignore[list-item]


def test_d6_final_at_sign_on_an_octet_boundary_is_kept() -> None:
    (pdu,) = sms.encode_submit(RECIPIENT, "0000000@", reference=0)  # 8 septets, the last one 0x00
    assert upstream.decodeSmsPdu(pdu.hex)["text"] == "0000000"  # found by the cross-check below
    assert sms.decode_submit(pdu.hex).text == "0000000@"
    assert sms.decode(as_deliver(pdu.hex)).text == "0000000@"


def test_d6_octets_after_user_data_are_ignored() -> None:
    septets = gsm7_codes("Hi")
    assert sms.decode(deliver_pdu(pack(septets) + b"\x41\x42\x43", 2)).text == "Hi"


@pytest.mark.parametrize("pdu", ["", "00", "0004", "00040B91", "07919761989901F0440B919761214365F70008"])
def test_d7_truncated_pdus_raise_pdu_error(pdu: str) -> None:
    with pytest.raises(Exception) as upstream_error:
        upstream.decodeSmsPdu(pdu)
    assert not isinstance(upstream_error.value, PduError)
    with pytest.raises(PduError):
        sms.decode(pdu)


def test_d7_empty_originating_address_keeps_its_type_octet() -> None:
    septets = gsm7_codes("Hi")
    decoded = sms.decode(deliver_pdu(pack(septets), 2, oa=bytes([0x00, 0x81])))
    assert (decoded.sender, decoded.text) == ("", "Hi")


# --- Inbound details ---------------------------------------------------------------------------------

def _alpha_oa(name: str, semi_octets: int | None = None) -> bytes:
    packed = pack(gsm7_codes(name))
    length = semi_octets if semi_octets is not None else (len(name) * 7 + 3) // 4
    return bytes([length, 0xD0]) + packed


@pytest.mark.parametrize(
    ("oa", "sender", "kind", "answerable"),
    [
        (OA_RECIPIENT, "+79161234567", SenderKind.INTERNATIONAL, True),
        (bytes.fromhex("0BA19861214365F7"), "89161234567", SenderKind.NATIONAL, True),
        (bytes.fromhex("0B819761214365F7"), "79161234567", SenderKind.UNKNOWN, True),
        (bytes.fromhex("038109F0"), "900", SenderKind.SHORT_CODE, False),
        (bytes.fromhex("04810609"), "6090", SenderKind.SHORT_CODE, False),
        (_alpha_oa("MegaFon"), "MegaFon", SenderKind.ALPHANUMERIC, False),
        (_alpha_oa("MegaFon", 14), "MegaFon", SenderKind.ALPHANUMERIC, False),  # length counted in whole octets
        (_alpha_oa("InfoService"), "InfoService", SenderKind.ALPHANUMERIC, False),
        (bytes.fromhex("0B919761214365F7")[:1] + bytes([0x91]) + bytes.fromhex("1032547698F0"), "+01234567890", SenderKind.INTERNATIONAL, False),
    ],
)
def test_sender_kinds(oa: bytes, sender: str, kind: SenderKind, answerable: bool) -> None:
    decoded = sms.decode(deliver_pdu(pack(gsm7_codes("x")), 1, oa=oa))
    assert (decoded.sender, decoded.sender_kind) == (sender, kind)
    assert sms.is_answerable(decoded.sender, decoded.sender_kind) is answerable


def test_timestamps_with_negative_offset_and_invalid_values() -> None:
    negative = bytes.fromhex("52304101127029")[:6] + bytes([0x0A])  # tens nibble 0xA: sign + 2 → −20 quarters
    decoded = sms.decode(deliver_pdu(pack([0x41]), 1, scts=negative))
    assert decoded.timestamp == datetime(2025, 3, 14, 10, 21, 7, tzinfo=timezone(timedelta(hours=-5)))
    for bad in ("52134101127021", "523041011A7021", "FFFFFFFFFFFFFF", "52200301127021"):  # month 31, hour nibble A, Feb 30
        assert sms.decode(deliver_pdu(pack([0x41]), 1, scts=bytes.fromhex(bad))).timestamp is None


def test_lone_surrogates_become_replacement_characters_and_join_parts_repairs_split_pairs() -> None:
    emoji = "😀".encode("utf-16-be")
    part1 = bytes([5, 0, 3, 9, 2, 1]) + "ok ".encode("utf-16-be") + emoji[:2]
    part2 = bytes([5, 0, 3, 9, 2, 2]) + emoji[2:] + "!".encode("utf-16-be")
    first = sms.decode(deliver_pdu(part1, len(part1), dcs=0x08, udhi=True))
    second = sms.decode(deliver_pdu(part2, len(part2), dcs=0x08, udhi=True))
    assert first.text == "ok \ufffd" and second.text == "\ufffd!"
    first.text.encode("utf-8")
    assert sms.join_parts([second, first]) == "ok 😀!"


def test_join_parts_repairs_an_escape_pair_split_across_parts() -> None:
    udh1, udh2 = bytes([5, 0, 3, 4, 2, 1]), bytes([5, 0, 3, 4, 2, 2])
    s1, s2 = gsm7_codes("cost ") + [0x1B], [0x65] + gsm7_codes("5")
    first = sms.decode(deliver_pdu(udh1 + pack(s1, fill_bits=1), 7 + len(s1), udhi=True))
    second = sms.decode(deliver_pdu(udh2 + pack(s2, fill_bits=1), 7 + len(s2), udhi=True))
    assert first.text == "cost " and second.text == "e5"
    assert sms.join_parts([first, second]) == "cost €5"


def test_concat_element_with_zero_total_or_seq_out_of_range_is_ignored() -> None:
    for header in (bytes([5, 0, 3, 1, 0, 0]), bytes([5, 0, 3, 1, 2, 3]), bytes([5, 0, 3, 1, 2, 0])):
        ud = header + "Да".encode("utf-16-be")
        decoded = sms.decode(deliver_pdu(ud, len(ud), dcs=0x08, udhi=True))
        assert decoded.concat is None and decoded.text == "Да"


def test_other_information_elements_are_skipped() -> None:
    elements = bytes([0x04, 2, 0x10, 0x20]) + bytes([0x24, 1, 0]) + bytes([0x00, 3, 7, 2, 2])  # ports, shift table, concat
    header = bytes([len(elements)]) + elements
    ud = header + "Да".encode("utf-16-be")
    decoded = sms.decode(deliver_pdu(ud, len(ud), dcs=0x08, udhi=True))
    assert decoded.concat == Concat(7, 2, 2) and decoded.text == "Да"


def test_type0_and_flash_fields_are_exposed() -> None:
    decoded = sms.decode(deliver_pdu(pack([0x41]), 1, pid=0x40, dcs=0x10))
    assert (decoded.protocol_id, decoded.message_class) == (0x40, 0)


def test_submit_and_deliver_are_not_confused() -> None:
    (submit,) = sms.encode_submit(RECIPIENT, "Hi", reference=0, validity_hours=None)
    with pytest.raises(PduError, match="SMS-SUBMIT"):
        sms.decode(submit.hex)
    with pytest.raises(PduError, match="not an SMS-SUBMIT"):
        sms.decode_submit(T2_CMGL[0])
    stored = sms.decode_submit(submit.hex)
    assert (stored.recipient, stored.text, stored.validity, stored.request_report) == (RECIPIENT, "Hi", None, True)


def test_reserved_message_type_is_a_pdu_error() -> None:
    with pytest.raises(PduError, match="reserved"):
        sms.decode("0003")


@pytest.mark.parametrize("bad", ["zz", "0 0 4", "00 04 0", 1234, "00FF"])
def test_garbage_input_raises_pdu_error(bad: object) -> None:
    with pytest.raises(PduError):
        sms.decode(bad)  # type: ignore[arg-type]


# --- Fuzzing: PduError is the only exception ---------------------------------------------------------

def _decode_or_pdu_error(pdu: object) -> None:
    try:
        result = sms.decode(pdu)  # type: ignore[arg-type]
    except PduError:
        return
    assert isinstance(result, (Deliver, StatusReport))
    if isinstance(result, Deliver):
        result.text.encode("utf-8")  # storable: no lone surrogates
        result.sender.encode("utf-8")


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_random_bytes(data: bytes) -> None:
    _decode_or_pdu_error(data.hex())


@FUZZ
@given(st.text(alphabet="0123456789ABCDEFabcdef \n", max_size=400))
def test_fuzz_random_hex_strings(text: str) -> None:
    _decode_or_pdu_error(text)


@FAST
@given(st.text(max_size=80))
def test_fuzz_random_text(text: str) -> None:
    _decode_or_pdu_error(text)


@FUZZ
@given(
    st.integers(0, 255), st.binary(min_size=0, max_size=14), st.integers(0, 255), st.integers(0, 255),
    st.binary(min_size=7, max_size=7), st.integers(0, 255), st.binary(max_size=160),
)
def test_fuzz_structured_deliver(first: int, oa: bytes, pid: int, dcs: int, scts: bytes, udl: int, ud: bytes) -> None:
    tpdu = bytes([first & 0xFC]) + oa + bytes([pid, dcs]) + scts + bytes([udl]) + ud
    _decode_or_pdu_error("00" + tpdu.hex())


@FUZZ
@given(st.sampled_from(T2_CMGL + [c[0] for c in T3_CDS] + [APPENDIX_UCS2_PDU]),
       st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=4), st.integers(0, 200))
def test_fuzz_mutated_vectors(pdu: str, edits: list[tuple[int, int]], cut: int) -> None:
    data = bytearray.fromhex(pdu)
    for index, value in edits:
        if index < len(data):
            data[index] = value
    _decode_or_pdu_error(bytes(data[: len(data) - cut % (len(data) + 1)]).hex())


# --- Status classes, references, validity -------------------------------------------------------------

@pytest.mark.parametrize(
    ("tp_st", "expected"),
    [
        (0x00, DeliveryClass.DELIVERED), (0x01, DeliveryClass.DELIVERED), (0x02, DeliveryClass.DELIVERED),
        (0x10, DeliveryClass.DELIVERED), (0x1F, DeliveryClass.DELIVERED),
        (0x20, DeliveryClass.PENDING), (0x25, DeliveryClass.PENDING), (0x30, DeliveryClass.PENDING),
        (0x3F, DeliveryClass.PENDING),
        (0x40, DeliveryClass.FAILED), (0x46, DeliveryClass.FAILED), (0x49, DeliveryClass.FAILED),
        (0x60, DeliveryClass.FAILED), (0x65, DeliveryClass.FAILED), (0x7F, DeliveryClass.FAILED),
        (0x80, DeliveryClass.FAILED), (0xFF, DeliveryClass.FAILED),
    ],
)
def test_classify_status(tp_st: int, expected: DeliveryClass) -> None:
    assert sms.classify_status(tp_st) is expected


@pytest.mark.parametrize("bad", [-1, 256])
def test_classify_status_rejects_non_octets(bad: int) -> None:
    with pytest.raises(ValueError):
        sms.classify_status(bad)


def test_next_reference_wraps_at_eight_bits() -> None:
    assert [sms.next_reference(n) for n in (0, 41, 254, 255)] == [1, 42, 255, 0]
    for bad in (-1, 256):
        with pytest.raises(ValueError):
            sms.next_reference(bad)


@pytest.mark.parametrize(("hours", "vp"), [(1, 11), (12, 143), (13, 145), (24, 167), (25, 168), (168, 173),
                                           (720, 196), (721, 197), (63 * 168, 255)])
def test_validity_period_octet(hours: int, vp: int) -> None:
    (pdu,) = sms.encode_submit(RECIPIENT, "x", reference=0, validity_hours=hours)
    assert read_submit(pdu.hex)["vp"] == vp


@FAST
@given(st.integers(1, 63 * 168))
def test_validity_is_never_shorter_than_asked(hours: int) -> None:
    (pdu,) = sms.encode_submit(RECIPIENT, "x", reference=0, validity_hours=hours)
    granted = upstream._decodeRelativeValidityPeriod(read_submit(pdu.hex)["vp"])
    assert granted >= timedelta(hours=hours)
    assert sms.decode_submit(pdu.hex).validity == granted


def test_no_validity_and_no_report_give_first_octet_0x01() -> None:
    (pdu,) = sms.encode_submit(RECIPIENT, "x", reference=0, validity_hours=None, request_report=False)
    assert read_submit(pdu.hex)["first"] == 0x01 and read_submit(pdu.hex)["vp"] is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"number": RECIPIENT, "text": "x", "reference": 256}, "0-255"),
        ({"number": "8 916 123-45-67", "text": "x", "reference": 0}, "normalise_number"),
        ({"number": "MegaFon", "text": "x", "reference": 0}, "digits"),
        ({"number": RECIPIENT, "text": "x", "reference": 0, "validity_hours": 0}, "at least 1 hour"),
        ({"number": RECIPIENT, "text": "x", "reference": 0, "validity_hours": 64 * 168}, "63-week"),
        ({"number": RECIPIENT, "text": "A" * (153 * 255 + 1), "reference": 0}, "at most 255"),
    ],
)
def test_encode_submit_rejects_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sms.encode_submit(**kwargs)


def test_national_and_short_destinations_use_unknown_type_of_number() -> None:
    (pdu,) = sms.encode_submit("900", "BALANCE", reference=0)
    parsed = read_submit(pdu.hex)
    assert (parsed["toa"], parsed["number"]) == (0x81, "900")


# --- Numbers --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "raw", ["8 916 123-45-67", "+7(916)1234567", "79161234567", "9161234567", " +7 916 123 45 67 ", "0079161234567"]
)
def test_normalise_russian_mobile_forms(raw: str) -> None:
    assert sms.normalise_number(raw) == "+79161234567"


def test_normalise_other_regions() -> None:
    assert sms.normalise_number("+44 7911 123456") == "+447911123456"
    assert sms.normalise_number("07911 123456", region="GB") == "+447911123456"
    assert sms.normalise_number("8 (495) 123-45-67") == "+74951234567"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"), ("   ", "empty"), ("8-916-FLOWERS", "not a phone number"), ("abc", "not a phone number"),
        ("12345", "not a valid"), ("+7916123456789", "not a valid"), ("+7 916 123 45 6", "not a valid"),
        ("+", "not a phone number"), ("89161234567 ext 12", "not a phone number"), ("+7+9161234567", "not a phone number"),
    ],
)
def test_normalise_rejects_with_a_clear_message(raw: str, message: str) -> None:
    with pytest.raises(InvalidNumber, match=message):
        sms.normalise_number(raw)


def test_is_mobile_number() -> None:
    assert sms.is_mobile_number("+79161234567")
    assert sms.is_mobile_number("+447911123456")
    assert not sms.is_mobile_number("+74951234567")  # Moscow landline
    assert not sms.is_mobile_number("+7916123")
    assert not sms.is_mobile_number("not a number")


def test_number_time_zones() -> None:
    assert sms.number_time_zones("+74951234567") == ("Europe/Moscow",)
    mobile = sms.number_time_zones("+79161234567")
    assert "Europe/Moscow" in mobile and len(mobile) > 1  # a Russian mobile does not tell its zone
    assert sms.number_time_zones("+7000") == ()
    with pytest.raises(InvalidNumber):
        sms.number_time_zones("junk")


def test_is_answerable() -> None:
    assert sms.is_answerable("+79161234567", SenderKind.INTERNATIONAL)
    assert sms.is_answerable("89161234567", SenderKind.NATIONAL)
    assert not sms.is_answerable("+79161234567", SenderKind.SHORT_CODE)
    assert not sms.is_answerable("900", SenderKind.UNKNOWN)  # not a valid number either
    assert not sms.is_answerable("Bank", SenderKind.ALPHANUMERIC)
    assert not sms.is_answerable("Bank", SenderKind.UNKNOWN)
    assert not sms.is_answerable("", SenderKind.UNKNOWN)


# --- Interoperation with the simulator's independent codec (gateway/simulator/pdu.py) ----------------

@FAST
@given(st.one_of(st.text(max_size=300), st.text(alphabet=GSM7_ALPHABET, max_size=400)), st.booleans(),
       st.sampled_from([None, "+79168999100"]))
def test_interoperates_with_the_simulator_codec(text: str, sixteen_bit: bool, smsc: str | None) -> None:
    from gateway.simulator import pdu as sim

    received = [sim.decode_submit(bytes.fromhex(p.hex)) for p in sms.encode_submit(RECIPIENT, text, reference=9)]
    assert "".join(s.text for s in received) == text
    when = datetime(2025, 3, 14, 10, 21, 7, tzinfo=MSK)
    _, parts = sim.split_text(text)
    delivered = []
    for seq, part in enumerate(parts, start=1):
        concat = sim.Concat(ref=0x1234 if sixteen_bit else 9, total=len(parts), seq=seq, sixteen_bit=sixteen_bit)
        raw = sim.encode_deliver(RECIPIENT, part, when, concat=concat if len(parts) > 1 else None, smsc=smsc)
        decoded = sms.decode(raw.hex())
        assert isinstance(decoded, Deliver) and (decoded.sender, decoded.smsc, decoded.timestamp) == (RECIPIENT, smsc, when)
        delivered.append(decoded)
    assert sms.join_parts(reversed(delivered)) == text
    report = sms.decode(sim.encode_status_report(23, RECIPIENT, when, when + timedelta(seconds=7), 0x30, smsc=smsc).hex())
    assert isinstance(report, StatusReport) and (report.reference, report.status_class) == (23, DeliveryClass.PENDING)
