"""A session with one modem over `serial.serial_for_url()`: init from its profile, identity, health, SMS I/O.

The session is the only code that touches a serial port. It does not decide what to send, retry or store:
it turns bytes into answers with the sans-IO engine in `gateway.at` and serial failures into `ModemGone`.
URCs seen while waiting for an answer are queued in `self.urcs` for the worker to handle.

Field notes that shape it (see ../shared/reference/modem-behaviour.md):
- the first line after a command is not necessarily its answer (Quectel appends `+CPIN: READY` to an OK);
- the prompt is `\\r\\n> ` with nothing after it, so the engine, not a line reader, detects it;
- a modem that never shows the prompt gets ESC, which makes it answer OK and send nothing (TS 27.005 §3.5.1);
- after Ctrl-Z the PDU has left our hands: no answer then means "maybe sent", never "not sent".
"""

from __future__ import annotations

import collections
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from gateway import at
from gateway.errors import CommandFailed, ModemError, ModemGone, ModemTimeout
from gateway.profiles import Profile

log = logging.getLogger("gateway.modem")
wire = logging.getLogger("gateway.wire")

DEFAULT_TIMEOUT = 10.0
BOOT_MARKERS = ("RDY", "+CPIN")
CPIN_TIMEOUT = 15.0
CMGL_TIMEOUT = 60.0


class SubmitUnknown(ModemError):
    """The PDU was handed to the modem (Ctrl-Z written) but no answer came: it may have been sent."""


class PinRefused(ModemError):
    """The SIM needs a PIN/PUK we do not have or that was refused; retrying would lock the SIM."""


@dataclass(frozen=True)
class Identity:
    """Who a modem is: IMEI (the key), SIM identity and hardware strings."""

    imei: str
    imsi: str | None
    iccid: str | None
    manufacturer: str
    model: str
    revision: str


@dataclass(frozen=True)
class Health:
    """Radio state: RSSI 0–31 (99 unknown), dBm, registration text and operator name."""

    rssi: int | None
    dbm: int | None
    registration: str
    operator: str | None

    @property
    def registered(self) -> bool:
        """True when registered at home or roaming."""
        return self.registration in ("home", "roaming")


@dataclass(frozen=True)
class Stored:
    """A message in the modem's store: index, status (0 unread … 3 sent), PDU hex."""

    index: int
    stat: int
    pdu: str


REGISTRATION = {0: "not registered", 1: "home", 2: "searching", 3: "denied", 4: "unknown", 5: "roaming",
                6: "home (SMS only)", 7: "roaming (SMS only)"}


def rssi_to_dbm(rssi: int | None) -> int | None:
    """3GPP TS 27.007 §8.5: rssi 0 → −113 dBm … 31 → −51 dBm or more; 99 unknown."""
    if rssi is None or not 0 <= rssi <= 31:
        return None
    return -113 + 2 * rssi


def _value(line: str) -> str:
    return line.split(":", 1)[1].strip() if ":" in line else line.strip()


def _ints(text: str) -> list[int | None]:
    """The integer fields of an AT answer (quoted text fields become None), split by the AT engine's rules."""
    return [int(part) if part.isdigit() else None for part in at.parse_fields(text)]


class ModemSession:
    """One open serial port to one modem, used by one thread."""

    def __init__(self, port: str, profile: Profile, *, baudrate: int = 115200, pin: str | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 on_activity: Callable[[], None] | None = None) -> None:
        self.port = port
        self.on_activity = on_activity
        self.profile = profile
        self.baudrate = baudrate
        self.pin = pin
        self.monotonic = monotonic
        self.urcs: collections.deque[at.Urc] = collections.deque()
        self._serial: serial.SerialBase | None = None
        self._engine = self._new_engine()

    def _new_engine(self) -> at.AtEngine:
        # Boot markers are never noise to us: they tell that the modem restarted and lost our settings.
        ignore = [p for p in self.profile.urc_ignore if not p.upper().startswith(BOOT_MARKERS)]
        return at.AtEngine(urc_ignore=ignore, cpin_no_ok="cpin_no_ok" in self.profile.quirks)

    # --- port ---------------------------------------------------------------------------------------------

    def open(self) -> None:
        """Open the port (no I/O in the constructor); a missing or busy port raises ModemGone."""
        try:
            self._serial = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=0.2,
                                                 write_timeout=5, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ModemGone(f"{self.port}: cannot open: {exc}") from None
        self._engine = self._new_engine()

    def close(self) -> None:
        """Close the port at once; never raises."""
        port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                pass

    @property
    def is_open(self) -> bool:
        """Whether the port is open."""
        return self._serial is not None

    def _write(self, data: bytes) -> None:
        if self._serial is None:
            raise ModemGone(f"{self.port}: not open")
        wire.debug("%s > %r", self.port, data)
        try:
            self._serial.write(data)
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise ModemGone(f"{self.port}: write failed: {exc}") from None

    def _read(self, timeout: float) -> list[at.Event]:
        if self._serial is None:
            raise ModemGone(f"{self.port}: not open")
        try:
            self._serial.timeout = max(0.0, timeout)
            data = self._serial.read(max(1, self._serial.in_waiting))
        except (serial.SerialException, OSError, TypeError) as exc:
            # pyserial raises SerialException('device reports readiness to read but returned no data') on
            # a vanished USB device, OSError(EIO) on a closed pty master, TypeError from a closed fd.
            self.close()
            raise ModemGone(f"{self.port}: read failed: {exc}") from None
        if not data:
            return []
        wire.debug("%s < %r", self.port, data)
        return self._engine.feed(data)

    def _collect(self, events: list[at.Event]) -> at.Response | at.Prompt | None:
        """Queue URCs; return the first Response or Prompt among events (the rest stay ordered in urcs)."""
        found: at.Response | at.Prompt | None = None
        for event in events:
            if isinstance(event, at.Urc):
                self.urcs.append(event)
            elif isinstance(event, at.Garbage):
                log.debug("%s: ignored %d unexpected byte(s)", self.port, len(event.raw))
            elif isinstance(event, (at.Response, at.Prompt)) and found is None:
                found = event
        return found

    def _await(self, deadline: float, what: str, want_prompt: bool = False) -> at.Response | at.Prompt:
        while True:
            if self.on_activity is not None:
                self.on_activity()
            remaining = deadline - self.monotonic()
            if remaining <= 0:
                raise ModemTimeout(f"{self.port}: no answer to {what}")
            found = self._collect(self._read(min(remaining, 1.0)))
            if found is not None:
                if isinstance(found, at.Prompt) and not want_prompt:
                    continue
                return found

    # --- commands -----------------------------------------------------------------------------------------

    def command(self, cmd: str, timeout: float = DEFAULT_TIMEOUT, *, check: bool = True) -> at.Response:
        """Send one AT command and wait for its final result; raises CommandFailed on an error code."""
        self._write(self._engine.command(cmd))
        try:
            result = self._await(self.monotonic() + timeout, cmd)
        except ModemTimeout:
            self._engine.abandon()
            raise
        assert isinstance(result, at.Response)
        if check and result.final.kind != at.FinalKind.OK:
            raise CommandFailed(cmd, result.final)
        return result

    def poll_urcs(self, timeout: float = 0.0) -> list[at.Urc]:
        """Read whatever the modem sent unprompted (waiting up to timeout for the first byte); return URCs."""
        if self._serial is not None and (timeout > 0 or self._serial.in_waiting):
            self._collect(self._read(timeout))
        out = list(self.urcs)
        self.urcs.clear()
        return out

    def sync(self, attempts: int = 5) -> None:
        """Get the modem's attention: `AT` until OK (auto-bauding modems need the first AT to lock on)."""
        # A previous owner may have died at the `> ` prompt: ESC abandons that submission (the modem answers
        # OK and sends nothing) so our `AT` is not taken as PDU text. The answer, if any, is discarded.
        self._write(b"\x1b")
        deadline = self.monotonic() + 0.3
        while self.monotonic() < deadline:
            self._read(deadline - self.monotonic())
        self.urcs.clear()
        last: Exception | None = None
        for _ in range(attempts):
            try:
                self.command("AT", timeout=2.0)
                return
            except (ModemTimeout, CommandFailed) as exc:
                last = exc
        raise ModemTimeout(f"{self.port}: the modem does not answer AT ({last})")

    def initialise(self) -> None:
        """The explicit minimal init: echo off, numeric errors, profile extras, SIM PIN, PDU mode, storage, CNMI."""
        self.sync()
        self.command("ATE0")
        self.command("AT+CMEE=1")
        for cmd in self.profile.init:
            try:
                self.command(cmd)
            except CommandFailed as exc:  # a vendor extra that a firmware lacks is not fatal
                log.info("%s: optional init %s refused (%s)", self.port, cmd, exc.final)
        self.unlock_sim()
        self.command("AT+CMGF=0")
        storage = self.profile.storage
        memories = ",".join([f'"{storage}"'] * self.profile.cpms_arity)
        self._retry_busy(lambda: self.command(f"AT+CPMS={memories}"))
        for cnmi in self.profile.cnmi_fallbacks:
            try:
                self.command(cnmi)
                break
            except CommandFailed:
                continue
        else:
            log.warning("%s: no CNMI setting accepted; relying on the periodic sweep for new messages", self.port)

    def reconfigure(self, profile: Profile) -> None:
        """Switch to another profile (found by CGMI/CGMM) and initialise again under it."""
        self.profile = profile
        self._engine = self._new_engine()
        self.initialise()

    def _retry_busy(self, action: Callable[[], object], attempts: int = 5) -> object:
        """Retry an action while the SIM answers busy (CME 14 / CMS 314) after boot or PIN entry."""
        for attempt in range(attempts):
            try:
                return action()
            except CommandFailed as exc:
                final = exc.final
                if getattr(final, "code", None) not in (14, 314, 515) or attempt == attempts - 1:
                    raise
                time.sleep(0.5 * (attempt + 1))  # the modem gives no event for "SIM ready" on every family
        return None

    def unlock_sim(self) -> None:
        """Answer `SIM PIN` with the configured PIN once; never guess, never touch a PUK (that locks the SIM)."""
        response = self._retry_busy(lambda: self.command("AT+CPIN?", timeout=CPIN_TIMEOUT))
        state = _value(response.lines[0]) if isinstance(response, at.Response) and response.lines else "READY"
        if state == "READY":
            return
        if state == "SIM PIN" and self.pin:
            try:
                self.command(f'AT+CPIN="{self.pin}"', timeout=CPIN_TIMEOUT)
            except CommandFailed as exc:
                raise PinRefused(f"{self.port}: the SIM refused the configured PIN ({exc.final.text}); "
                                 "fix `pin` in the config before the SIM locks") from None
            return
        if state == "SIM PIN":
            raise PinRefused(f"{self.port}: the SIM asks for a PIN; set `pin` for this modem in the config")
        raise PinRefused(f"{self.port}: the SIM is in state {state!r}; it needs attention in a phone")

    def identity(self) -> Identity:
        """IMEI, IMSI, ICCID and hardware strings."""
        imei = self._single("AT+CGSN")
        imei = re.sub(r"\D", "", imei) or imei
        return Identity(
            imei=imei,
            imsi=self._optional("AT+CIMI"),
            iccid=(lambda v: re.sub(r"[^0-9A-Fa-f]", "", v) if v else None)(self._optional("AT+CCID")),
            manufacturer=self._optional("AT+CGMI") or "",
            model=self._optional("AT+CGMM") or "",
            revision=self._optional("AT+CGMR") or "",
        )

    def _single(self, cmd: str) -> str:
        lines = [ln for ln in self.command(cmd).lines if ln.strip()]
        return _value(lines[0]) if lines and lines[0].startswith("+") else (lines[0].strip() if lines else "")

    def _optional(self, cmd: str) -> str | None:
        try:
            return self._single(cmd) or None
        except CommandFailed:
            return None

    def health(self) -> Health:
        """Signal (CSQ → dBm), registration (CREG) and operator (COPS)."""
        rssi = None
        try:
            values = _ints(_value(self.command("AT+CSQ").lines[0]))
            rssi = values[0] if values and values[0] is not None and values[0] <= 31 else None
        except (CommandFailed, IndexError):
            pass
        registration = "unknown"
        try:
            values = _ints(_value(self.command("AT+CREG?").lines[0]))
            stat = values[1] if len(values) > 1 else values[0]
            registration = REGISTRATION.get(stat if stat is not None else 4, "unknown")
        except (CommandFailed, IndexError):
            pass
        operator = None
        try:
            line = self.command("AT+COPS?").lines[0]
            m = re.search(r'"([^"]*)"', line)
            operator = m.group(1) if m else None
        except (CommandFailed, IndexError):
            pass
        return Health(rssi, rssi_to_dbm(rssi), registration, operator)

    # --- SMS ----------------------------------------------------------------------------------------------

    def send_pdu(self, pdu_hex: str, tpdu_length: int) -> int | None:
        """Submit one PDU with AT+CMGS; returns the TP-MR. CommandFailed before the data is "not sent";
        SubmitUnknown after Ctrl-Z is "maybe sent"."""
        cmd = f"AT+CMGS={tpdu_length}"
        self._write(self._engine.command(cmd, expect_prompt=True))
        try:
            first = self._await(self.monotonic() + self.profile.prompt_timeout_s, cmd, want_prompt=True)
        except ModemTimeout:
            # No prompt: ESC makes the modem drop the half-open submission and answer OK (nothing is sent).
            self._write(self._engine.cancel_data())
            try:
                self._await(self.monotonic() + 2.0, "ESC")
            except ModemTimeout:
                self._engine.abandon()
            raise ModemTimeout(f"{self.port}: no > prompt after {cmd}; cancelled with ESC") from None
        if isinstance(first, at.Response):  # an error instead of the prompt
            if first.final.kind == at.FinalKind.OK:
                raise CommandFailed(cmd, first.final, f"{cmd}: OK without a prompt")
            raise CommandFailed(cmd, first.final)
        try:
            self._write(self._engine.send_data(pdu_hex))
            result = self._await(self.monotonic() + self.profile.cmgs_timeout_s, "the PDU")
        except (ModemTimeout, ModemGone) as exc:
            self._engine.abandon()
            raise SubmitUnknown(f"{self.port}: no answer after the PDU was sent ({exc})") from exc
        assert isinstance(result, at.Response)
        if result.final.kind != at.FinalKind.OK:
            raise CommandFailed(cmd, result.final)
        for line in result.lines:
            if line.startswith("+CMGS:"):
                values = _ints(_value(line))
                return values[0] if values else None
        return None

    def list_messages(self, stat: int = 4) -> list[Stored]:
        """Every stored message (PDU mode `AT+CMGL=<stat>`, 4 = all)."""
        response = self.command(f"AT+CMGL={stat}", timeout=CMGL_TIMEOUT)
        out: list[Stored] = []
        lines = list(response.lines)
        for i, line in enumerate(lines):
            if line.startswith("+CMGL:") and i + 1 < len(lines):
                values = _ints(_value(line))
                if values and values[0] is not None:
                    out.append(Stored(values[0], values[1] if len(values) > 1 and values[1] is not None else 0,
                                      lines[i + 1].strip()))
        return out

    def read_message(self, index: int) -> Stored | None:
        """One stored message by index, or None for an empty slot."""
        try:
            response = self.command(f"AT+CMGR={index}")
        except CommandFailed as exc:
            if getattr(exc.final, "code", None) in (321, 320):  # invalid/empty memory index
                return None
            raise
        lines = [ln for ln in response.lines if ln.strip()]
        if len(lines) < 2:
            return None
        values = _ints(_value(lines[0]))
        return Stored(index, values[0] if values and values[0] is not None else 0, lines[1].strip())

    def delete_message(self, index: int) -> None:
        """Delete one stored message (only after what it carried is committed to the database)."""
        self.command(f"AT+CMGD={index}")

    def select_storage(self, memory: str) -> None:
        """Point reading/deleting (mem1) at another memory, e.g. "SR" for stored status reports."""
        self.command(f'AT+CPMS="{memory}"')
