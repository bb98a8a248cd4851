"""Benchmark: `AT\\r` round trips per second against one simulated modem over its pty.

DESIGN.md §2 lets only `gateway.modem` import pyserial, so this client makes the same system calls
pyserial makes on Linux (open O_RDWR|O_NOCTTY, raw termios, select + read, write); the pyserial
figure is checked in tests/test_simulator_speed.py.
"""

from __future__ import annotations

import argparse
import os
import select
import time
import tty

from gateway.simulator import Network


def _exchange(fd: int, command: bytes, expect: bytes = b"OK\r\n") -> bytes:
    os.write(fd, command)
    data = b""
    while not data.endswith(expect):
        ready, _, _ = select.select([fd], [], [], 2.0)
        if not ready:
            raise RuntimeError(f"simulated modem did not answer {command!r}; got {data!r}")
        data += os.read(fd, 4096)
    return data


def measure(rounds: int, profile: str = "generic") -> float:
    """Round trips per second for `rounds` sequential `AT` / `OK` exchanges."""
    with Network() as network:
        modem = network.add_modem(profile=profile)
        modem.wait_booted()
        fd = os.open(modem.path, os.O_RDWR | os.O_NOCTTY)
        try:
            tty.setraw(fd)
            _exchange(fd, b"ATE0\r")
            started = time.perf_counter()
            for _ in range(rounds):
                _exchange(fd, b"AT\r")
            elapsed = time.perf_counter() - started
        finally:
            os.close(fd)
    return rounds / elapsed


def main(argv: list[str]) -> int:
    """Print `sim_roundtrips_per_s: <n>`."""
    parser = argparse.ArgumentParser(prog="python -m gateway.bench sim", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5000)
    parser.add_argument("--profile", default="generic")
    args = parser.parse_args(argv)
    rate = measure(args.rounds, args.profile)
    print(f"sim_roundtrips_per_s: {rate:.0f}")
    return 0
