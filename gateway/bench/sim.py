"""Benchmark: `AT\\r` round trips per second against one simulated modem over its pty, with pyserial."""

from __future__ import annotations

import argparse
import time

import serial

from gateway.simulator import Network


def measure(rounds: int, profile: str = "generic") -> float:
    """Round trips per second for `rounds` sequential `AT` / `OK` exchanges."""
    with Network() as network:
        modem = network.add_modem(profile=profile)
        modem.wait_booted()
        port = serial.Serial(modem.path, 115200, timeout=2)
        try:
            port.write(b"ATE0\r")
            port.read_until(b"OK\r\n")
            port.reset_input_buffer()
            started = time.perf_counter()
            for _ in range(rounds):
                port.write(b"AT\r")
                if not port.read_until(b"OK\r\n").endswith(b"OK\r\n"):
                    raise RuntimeError("simulated modem did not answer OK")
            elapsed = time.perf_counter() - started
        finally:
            port.close()
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
