"""AT engine throughput: `python -m gateway.bench at [--rounds N]` prints MB/s and events/s."""

from __future__ import annotations

import argparse
import time

from gateway.at import AtEngine

_PDU = (
    "07919761989901F0440B919761214365F70008523041011270218C0500035C03010414043E04310440044B0439002004340435"
    "043D044C00210020041D0430043F043E043C0438043D04300435043C002C002004470442043E002004370430043204420440"
    "043000200432002000300039003A00330030002004430020043204300441002004370430043F04380441044C0020043A0020"
    "04320440043004470443002004320020"
)


def _exchanges(messages: int) -> list[tuple[str, bool, bytes, str | None, bytes]]:
    """A realistic mix: echo, URC noise inside replies, a +CMGL list, a PDU send with its echo."""
    listing = "".join(f"\r\n+CMGL: {i},0,,159\r\n{_PDU}" if i else f"+CMGL: {i},0,,159\r\n{_PDU}" for i in range(messages))
    return [
        ("AT+CSQ", False, b"AT+CSQ\r\r\n+CSQ: 17,99\r\n\r\nOK\r\n", None, b""),
        ("AT+CGMI", False, b'A\r\n^RSSI:20\r\n\r\n^HCSQ:"LTE",49,39,121,20\r\nT+CGMI\r\nhuawei\r\n\r\nOK\r\n', None, b""),
        ("AT+CMGL=4", False, f'\r\n{listing}\r\n\r\n+CMTI: "SM",9\r\n\r\nOK\r\n'.encode(), None, b""),
        ("AT+CMGS=159", True, b"\r\n> ", _PDU, f"{_PDU}\x1a\r\n+CMGS: 23\r\n\r\nOK\r\n".encode()),
    ]


def _feed(engine: AtEngine, wire: bytes, chunk: int) -> int:
    """Feed `wire` in `chunk`-byte reads; return the number of events."""
    return sum(len(engine.feed(wire[i : i + chunk])) for i in range(0, len(wire), chunk))


def _run(rounds: int, chunk: int, messages: int) -> tuple[int, int, float]:
    """Feed the mix `rounds` times in `chunk`-byte reads; return bytes, events and seconds."""
    engine = AtEngine(urc_ignore=["^RSSI:"])
    exchanges = _exchanges(messages)
    total = events = 0
    start = time.perf_counter()
    for _ in range(rounds):
        for cmd, prompt, reply, data, after in exchanges:
            engine.command(cmd, expect_prompt=prompt)
            events += _feed(engine, reply, chunk)
            if data is not None:
                engine.send_data(data)
                events += _feed(engine, after, chunk)
            total += len(reply) + len(after)
            assert engine.pending is None, f"{cmd} did not complete"
    return total, events, time.perf_counter() - start


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.bench at", description=__doc__)
    parser.add_argument("--rounds", type=int, default=200, help="repetitions of the exchange mix")
    parser.add_argument("--messages", type=int, default=30, help="stored messages in the +CMGL reply")
    args = parser.parse_args(argv)
    for label, chunk in (("64k", 65536), ("64", 64), ("1", 1)):
        rounds = args.rounds if chunk > 1 else max(1, args.rounds // 20)
        size, events, seconds = _run(rounds, chunk, args.messages)
        print(f"chunk_{label}_mb_per_s: {size / seconds / 1e6:.2f}")
        print(f"chunk_{label}_events_per_s: {events / seconds:.0f}")
    return 0
