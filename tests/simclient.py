"""A tiny AT client over real pyserial for the simulator tests (independent of the product's engine)."""

from __future__ import annotations

import re
import time

import serial

FINAL = re.compile(rb"(\r\n|^)(OK|ERROR|\+CM[ES] ERROR: [^\r]*|COMMAND NOT SUPPORT)\r\n")


class Client:
    """Opens a pty slave with pyserial and reads until a pattern appears or a deadline passes."""

    def __init__(self, path: str) -> None:
        self.port = serial.Serial(path, 115200, timeout=0.02)
        self.buffer = b""

    def close(self) -> None:
        self.port.close()

    def write(self, data: bytes) -> None:
        self.port.write(data)

    def read_until(self, pattern: bytes | re.Pattern[bytes], timeout: float = 5.0) -> bytes:
        """Read until `pattern` occurs; return everything up to and including it (the rest stays buffered)."""
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        deadline = time.monotonic() + timeout
        while True:
            m = regex.search(self.buffer)
            if m:
                out, self.buffer = self.buffer[: m.end()], self.buffer[m.end() :]
                return out
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {regex.pattern!r} within {timeout} s; got {self.buffer!r}")
            self.buffer += self.port.read(max(1, self.port.in_waiting))

    def drain(self, quiet: float = 0.15) -> bytes:
        """Everything that arrives until the line has been quiet for `quiet` seconds."""
        out, self.buffer = self.buffer, b""
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            chunk = self.port.read(max(1, self.port.in_waiting))
            if chunk:
                out += chunk
                last = time.monotonic()
        return out

    def at(self, command: str, timeout: float = 5.0) -> bytes:
        """Send one command line and return the reply up to its final result code."""
        self.write(command.encode("latin-1") + b"\r")
        return self.read_until(FINAL, timeout)
