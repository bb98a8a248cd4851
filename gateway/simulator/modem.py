"""One simulated GSM modem on the master side of a pty, written from 3GPP TS 27.005 and TS 27.007.

Rules this module keeps:
- One thread per modem reads the master fd with `select`; it alone parses commands. Other threads
  (the network, tests) only deliver messages and URCs through methods that take `_lock`.
- A URC is written at once when the modem is idle; while a command is being answered or a `> `
  prompt is open it waits in `_urc_queue` and goes out right after the final result code
  (CNMI mode 2 semantics, TS 27.005 §3.4.1).
- Framing follows V.250: with ATV1 each line is `\\r\\n<line>\\r\\n`; the echo of a command line ends
  with `\\r` only; the SMS prompt is exactly `\\r\\n> `.
- SIM state (stores, PIN, SMSC) survives unplug/replug; session state (echo, CMGF, CNMI, CPMS)
  returns to the profile's power-up defaults, as on real hardware.
- A client's garbage never kills the thread: every command runs inside a catch-all that answers ERROR.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import pty
import re
import select
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from gateway.profiles import PeriodicUrc, Profile
from gateway.simulator import pdu as pdul

if TYPE_CHECKING:
    from gateway.simulator.network import Network

log = logging.getLogger("gateway.simulator")
wire = logging.getLogger("gateway.simulator.wire")

CTRL_Z = 0x1A
ESC = 0x1B

# TS 27.007 §9.2 / TS 27.005 §3.2.5 texts for AT+CMEE=2.
CME_TEXT = {
    3: "operation not allowed", 4: "operation not supported", 10: "SIM not inserted", 11: "SIM PIN required",
    12: "SIM PUK required", 13: "SIM failure", 14: "SIM busy", 16: "incorrect password", 20: "memory full",
    21: "invalid index", 22: "not found", 30: "no network service", 100: "unknown", 515: "device busy",
}
CMS_TEXT = {
    38: "network out of order", 42: "congestion", 300: "ME failure", 302: "operation not allowed",
    303: "operation not supported", 304: "invalid PDU mode parameter", 305: "invalid text mode parameter",
    311: "SIM PIN required", 314: "SIM busy", 316: "SIM PUK required", 321: "invalid memory index",
    322: "memory full", 330: "SMSC address unknown", 331: "no network service", 332: "network timeout",
    340: "no +CNMA acknowledgement expected", 500: "unknown error",
}
# Numeric result codes for ATV0 (V.250 §5.7.1).
V0_CODES = {"OK": "0", "ERROR": "4", "NO CARRIER": "3"}

TEXT_STATS = ("REC UNREAD", "REC READ", "STO UNSENT", "STO SENT", "ALL")
DR_STATUSES = ("delivered", "temporary_then_delivered", "permanent", "none")
# Commands that work while the SIM is locked (everything else answers CME 11 / CMS 311).
_NO_SIM_NEEDED = frozenset({
    "", "E", "V", "Q", "Z", "I", "&F", "&W", "&C", "&D", "X", "S", "+CPIN", "+CMEE", "+CGMI", "+CGMM", "+CGMR",
    "+CGSN", "+GMI", "+GMM", "+GMR", "+GSN", "+CFUN", "+CSQ", "+CREG", "+CGREG", "+CEREG", "+GCAP", "+CLAC",
    "+CSCS", "+CMGF", "+CPINR", "^CURC", "+CCID", "+ICCID", "+QCCID",
})
# Commands that need the SMS service (CMS errors rather than CME errors).
_SMS_COMMANDS = frozenset({"+CMGS", "+CMGL", "+CMGR", "+CMGD", "+CMGW", "+CMSS", "+CPMS", "+CNMI", "+CSCA", "+CSMP", "+CMGF", "+CSMS", "+CNMA", "+CMMS", "+CSDH"})
_SIM_COMMANDS = _SMS_COMMANDS | {"+CIMI", "+CCID", "+CNUM", "+CPBS", "+CPBR"}


@dataclass
class Faults:
    """Knobs a test can flip at any time (all default to a healthy modem).

    - latency_cmd: seconds before the answer to every command line.
    - latency_part: extra seconds between Ctrl-Z and `+CMGS:` for each submitted part.
    - cms_error_next: `(code, k)` — the next k submits fail with `+CMS ERROR: code`.
    - cms_error_for: `{number: code}` — submits to that destination always fail with that code.
    - no_prompt: `AT+CMGS`/`AT+CMGW` never send `> `; ESC still cancels with OK.
    - garbage: bytes (any, non-UTF-8 allowed) written once just before the next response.
    - urc_inside_reply: a URC line written once inside the next response (inside the echo when echo
      is on, else after the first information line).
    - split_writes: 0 or a chunk size; responses go out in chunks of that many bytes, 2 ms apart.
    - pin: a PIN string makes the SIM locked (`+CPIN: SIM PIN`) until `AT+CPIN="<pin>"`; None unlocks.
    - puk: the PUK for the PIN/PUK flow (3 wrong PINs lock to SIM PUK).
    - sim_full: the SIM store reports itself full: CPMS shows used = total, AT+CMGW answers
      `+CMS ERROR: 322`, and incoming messages wait in the network until it is cleared.
    - no_network: `+CREG: n,2`, `+CSQ: 99,99`, `+COPS: 0`; submits fail with the profile's
      `no_network_cms` (331); incoming messages wait in the network.
    - rssi: signal level 0..31 reported by `+CSQ` and `^RSSI`.
    - dr_delay: seconds from submit to each status report.
    - dr_status: "delivered", "temporary_then_delivered", "permanent" or "none".
    - periodic_urcs: False silences the profile's periodic URCs (like AT^CURC=0).
    """

    latency_cmd: float = 0.0
    latency_part: float = 0.0
    cms_error_next: tuple[int, int] | None = None
    cms_error_for: dict[str, int] = field(default_factory=dict)
    no_prompt: bool = False
    garbage: bytes = b""
    urc_inside_reply: str = ""
    split_writes: int = 0
    pin: str | None = None
    puk: str = "12345678"
    sim_full: bool = False
    no_network: bool = False
    rssi: int = 20
    dr_delay: float = 0.2
    dr_status: str = "delivered"
    periodic_urcs: bool = True


@dataclass
class Slot:
    """One stored message: TS 27.005 stat 0..3 and the PDU with its SMSC prefix."""

    index: int
    stat: int
    pdu: bytes
    kind: str  # "deliver", "status" or "submit"


@dataclass(frozen=True)
class StoredMessage:
    """A decoded view of a stored message for tests."""

    memory: str
    index: int
    stat: int
    kind: str
    pdu: str
    sender: str
    text: str
    concat: pdul.Concat | None


@dataclass(frozen=True)
class SubmitRecord:
    """One part a client submitted with AT+CMGS/AT+CMSS."""

    time: float
    destination: str
    part: int
    total: int
    mr: int
    text: str
    encoding: str
    status_report: bool
    error: int | None = None


class Memory:
    """A finite message store (SM, ME or SR) with the modem's index base."""

    def __init__(self, name: str, capacity: int, base: int) -> None:
        self.name = name
        self.capacity = capacity
        self.base = base
        self.slots: dict[int, Slot] = {}

    def free_index(self) -> int | None:
        """The lowest free index from the base, or None when the store is full."""
        for index in range(self.base, self.base + self.capacity):
            if index not in self.slots:
                return index
        return None


@dataclass
class Session:
    """Per-power-cycle settings (TS 27.005 / 27.007 parameters)."""

    echo: bool
    verbose: bool = True
    cmee: int = 0
    cmgf: int = 0
    cscs: str = "GSM"
    cnmi: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    csmp: tuple[int, int, int, int] = (17, 167, 0, 0)
    mems: tuple[str, str, str] = ("SM", "SM", "SM")
    csdh: int = 0
    csms: int = 0
    creg_n: int = 0
    cgreg_n: int = 0
    cops_format: int = 0
    cmms: int = 0
    cfun: int = 1
    busy_until: float = 0.0
    cfun_busy: int = 0
    cnma_pending: int = 0


class _Fail(Exception):
    """A command's final result other than OK: kind is error, cme, cms or unsupported."""

    def __init__(self, kind: str, code: int = 0) -> None:
        super().__init__(kind, code)
        self.kind = kind
        self.code = code


class _Prompted(Exception):
    """The command opened the `> ` prompt."""


@dataclass
class _Prompt:
    """State of an open `> ` prompt: what was asked for and the bytes typed so far."""

    kind: str  # "cmgs" or "cmgw"
    length: int | None  # PDU mode: declared TPDU length
    address: str | None  # text mode: destination
    stat: int
    silent: bool
    data: bytearray = field(default_factory=bytearray)


def _ranges(spec: str) -> list[set[int]]:
    """Parse a `+CNMI=?` answer like `(0-3),(0,1)` into allowed value sets."""
    out: list[set[int]] = []
    for group in re.findall(r"\(([^)]*)\)", spec):
        allowed: set[int] = set()
        for item in group.split(","):
            if "-" in item:
                lo, hi = item.split("-")
                allowed.update(range(int(lo), int(hi) + 1))
            elif item.strip():
                allowed.add(int(item))
        out.append(allowed)
    return out


def _split_args(args: str) -> list[str]:
    """Split a parameter list on commas outside quotes; quotes are kept."""
    out: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in args:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    out.append("".join(current).strip())
    return out


def _unquote(value: str) -> str:
    """Strip one pair of surrounding double quotes."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _int(value: str) -> int:
    """Parse an integer parameter or fail with ERROR."""
    try:
        return int(value.strip())
    except ValueError:
        raise _Fail("error") from None


class SimModem:
    """A simulated modem: identity, SIM store, session and the pty it answers on."""

    def __init__(self, network: Network, index: int, profile: Profile, msisdn: str, imei: str, imsi: str, iccid: str) -> None:
        self.network = network
        self.index = index
        self.profile = profile
        self.msisdn = msisdn
        self.imei = imei
        self.imsi = imsi
        self.iccid = iccid
        self.faults = Faults()
        self.submits: list[SubmitRecord] = []
        self.smsc = network.smsc
        traits = profile.simulator
        base = profile.index_base
        sm = Memory("SM", profile.capacity, base)
        self.memories: dict[str, Memory] = {"SM": sm, "ME": Memory("ME", 100, base), "SR": Memory("SR", 20, base)}
        self.memories["MT"] = sm
        self._supported_mems = tuple(traits.memories)
        self._cnmi_allowed = _ranges(traits.cnmi_test)
        self._mr = traits.mr_start
        self._pin_tries = 3
        self._sim_state = "READY"
        self._pending: list[tuple[str, bytes]] = []
        self._lock = threading.RLock()
        self._store_changed = threading.Condition(self._lock)
        self._urc_queue: list[bytes] = []
        self._held_indications: list[bytes] = []
        self._busy = False
        self._prompt: _Prompt | None = None
        self._inbuf = bytearray()
        self._last_line = b"AT"
        self._master = -1
        self._slave = -1
        self._node = -1
        self._path = ""
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake_r = -1
        self._wake_w = -1
        self._generation = 0
        self._urcs_on = True
        self.session = self._fresh_session()
        self.plugged = False
        self.booted = threading.Event()
        self._handlers: dict[str, Callable[[str, str, list[str]], None]] = self._table()

    # --- lifecycle ------------------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The pty slave path a client opens (changes on replug)."""
        return self._path

    def _fresh_session(self) -> Session:
        """The power-up session for this profile (echo default, CNMI default, preferred storage)."""
        cnmi = tuple(int(v) for v in self.profile.simulator.cnmi_default.split(","))
        storage = self.profile.storage
        return Session(echo=self.profile.echo_default, cnmi=cnmi, mems=(storage, storage, storage))  # type: ignore[arg-type]

    def start(self, fds: tuple[int, int] | None = None) -> None:
        """Open a fresh pty (or use `fds`) and start answering on it (power-up)."""
        master, slave = fds or pty.openpty()
        tty.setraw(slave)  # no line discipline echo or CR mapping between us and the client
        os.set_blocking(master, False)
        self._wake_r, self._wake_w = os.pipe()
        self._master, self._slave = master, slave
        self._path = os.ttyname(slave)
        self._stop.clear()
        self._generation += 1
        with self._lock:
            self.session = self._fresh_session()
            if self.faults.pin:
                # A power-cycled SIM with PIN protection asks for the PIN again.
                self._sim_state = "SIM PIN"
                self._pin_tries = 3
            self._urcs_on = True
            self._inbuf.clear()
            self._urc_queue.clear()
            self._held_indications.clear()
            self._prompt = None
            self._busy = False
            self.plugged = True
        self._thread = threading.Thread(target=self._run, name=f"sim-modem{self.index}", daemon=True)
        self._thread.start()
        generation = self._generation
        self.booted.clear()
        # Boot URCs go out shortly after power-up; a client that opens the port later loses them
        # to the flush on open, as with a real USB modem that re-enumerates.
        self.network.schedule(self.network.boot_delay, lambda: self._boot(generation))
        for urc in self.profile.simulator.periodic_urcs:
            self.network.schedule(urc.period_s, functools.partial(self._periodic, urc, generation))
        self.network.schedule(0.0, self.flush_pending)

    def _boot(self, generation: int) -> None:
        """Emit the profile's boot URCs, `network.boot_delay` seconds after power-up."""
        if generation == self._generation and self.plugged:
            for urc in self.profile.simulator.boot_urcs:
                self.emit_urc(urc)
        self.booted.set()

    def wait_booted(self, timeout: float = 5.0) -> None:
        """Block until the boot URCs went out (a client that opens later never sees them)."""
        if not self.booted.wait(timeout):
            raise TimeoutError(f"modem{self.index} did not boot within {timeout} s")

    def stop(self, *, keep_node: bool = False) -> None:
        """Power off: stop the thread and close the master (the client then gets EIO).

        With `keep_node` our own slave fd stays open until the next start(), so the old pty number
        stays taken and a replug always shows up under a new path.
        """
        with self._lock:
            if not self.plugged:
                if not keep_node:
                    self._release_node()
                return
            self.plugged = False
        self._stop.set()
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        for fd in (self._master, self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._master = self._wake_r = self._wake_w = -1
        self._node = self._slave
        self._slave = -1
        if not keep_node:
            self._release_node()

    def _release_node(self) -> None:
        """Close the slave fd kept after an unplug, freeing the old pty number."""
        if self._node >= 0:
            try:
                os.close(self._node)
            except OSError:
                pass
            self._node = -1

    def unplug(self) -> None:
        """Pull the USB plug: close the master so the client's reads and writes fail with EIO."""
        self.stop(keep_node=True)
        log.info("modem%d unplugged", self.index)

    def replug(self) -> str:
        """Plug back in under a new pty path; re-point its symlink; return the new path."""
        # Open the new pty before releasing the old one so the kernel cannot hand out the same
        # number: a re-plugged USB modem whose old node is still held gets a new name too.
        fds = pty.openpty()
        self.stop()
        self.start(fds)
        self._release_node()
        self.network.relink(self)
        log.info("modem%d replugged at %s", self.index, self._path)
        return self._path

    def set_faults(self, **knobs: Any) -> Faults:
        """Change knobs (see `Faults`); returns the new settings."""
        names = {f.name for f in fields(Faults)}
        for name in knobs:
            if name not in names:
                raise TypeError(f"unknown fault knob {name!r}; known: {sorted(names)}")
        if "dr_status" in knobs and knobs["dr_status"] not in DR_STATUSES:
            raise ValueError(f"dr_status must be one of {DR_STATUSES}")
        if "garbage" in knobs and isinstance(knobs["garbage"], str):
            knobs["garbage"] = knobs["garbage"].encode("latin-1")
        if knobs.get("cms_error_next") is not None:
            code, count = knobs["cms_error_next"]
            knobs["cms_error_next"] = (int(code), int(count))
        if "split_writes" in knobs:
            knobs["split_writes"] = 3 if knobs["split_writes"] is True else int(knobs["split_writes"] or 0)
        with self._lock:
            before = self.faults
            self.faults = replace(before, **knobs)
            if "pin" in knobs:
                self._sim_state = "SIM PIN" if knobs["pin"] else "READY"
                self._pin_tries = 3
            if before.no_network != self.faults.no_network:
                self._creg_changed()
        self.network.schedule(0.0, self.flush_pending)
        return self.faults

    # --- network side ---------------------------------------------------------------------------

    def stored(self, memory: str = "SM") -> list[StoredMessage]:
        """Decoded copies of the messages in one store, by index."""
        with self._lock:
            slots = sorted(self.memories[memory].slots.values(), key=lambda s: s.index)
        out = []
        for slot in slots:
            sender, text, concat = "", "", None
            try:
                if slot.kind == "deliver":
                    d = pdul.decode_deliver(slot.pdu)
                    sender, text, concat = d.sender, d.text, d.concat
                elif slot.kind == "submit":
                    s = pdul.decode_submit(slot.pdu)
                    sender, text, concat = s.destination, s.text, s.concat
                else:
                    r = pdul.decode_status_report(slot.pdu)
                    sender, text = r.recipient, f"status 0x{r.status:02X} mr {r.mr}"
            except pdul.PduError:
                pass
            out.append(StoredMessage(memory, slot.index, slot.stat, slot.kind, slot.pdu.hex().upper(), sender, text, concat))
        return out

    def wait_stored(self, count: int, memory: str = "SM", timeout: float = 5.0) -> list[StoredMessage]:
        """Block until the store holds exactly `count` messages; raise TimeoutError otherwise."""
        with self._store_changed:
            if not self._store_changed.wait_for(lambda: len(self.memories[memory].slots) == count, timeout):
                raise TimeoutError(f"modem{self.index} {memory}: {len(self.memories[memory].slots)} stored, not {count}")
        return self.stored(memory)

    def _available(self) -> bool:
        """Whether the network can deliver to this modem now (plugged, registered, radio on, SIM ready)."""
        return self.plugged and not self.faults.no_network and self.session.cfun == 1 and self._sim_state == "READY"

    def deliver(self, kind: str, pdu: bytes) -> None:
        """Network → modem: an SMS-DELIVER ("deliver") or SMS-STATUS-REPORT ("status") with SMSC prefix."""
        with self._lock:
            if not self._available() or self._pending:
                self._pending.append((kind, pdu))
                return
            if not self._accept(kind, pdu):
                self._pending.append((kind, pdu))

    def flush_pending(self) -> None:
        """Retry delivery of messages the network is holding (store full, no network, unplugged)."""
        with self._lock:
            while self._pending and self._available():
                kind, data = self._pending[0]
                if not self._accept(kind, data):
                    return
                self._pending.pop(0)

    def _accept(self, kind: str, data: bytes) -> bool:
        """Store or route one message per CNMI (TS 27.005 §3.4.1); False when it cannot be taken now."""
        session = self.session
        _mode, mt, _bm, ds, _bfr = session.cnmi
        tpdu_len = pdul.tpdu_length(data)
        if kind == "status":
            if ds == 1:
                self._cnma_expect()
                self.emit_urc(f"+CDS: {tpdu_len}\r\n{data.hex().upper()}" if session.cmgf == 0 else self._cds_text(data))
                return True
            if ds == 2:
                memory = self.memories["SR"] if "SR" in self._supported_mems else self.memories[session.mems[2]]
                index = self._store(memory, Slot(0, 0, data, "status"))
                if index is None:
                    return False
                self.emit_urc(f'+CDSI: "{memory.name}",{index}')
            return True
        if mt in (2, 3):
            self._cnma_expect()
            if session.cmgf == 0:
                self.emit_urc(f"+CMT: ,{tpdu_len}\r\n{data.hex().upper()}")
            else:
                d = pdul.decode_deliver(data)
                self.emit_urc(f'+CMT: "{self._str_out(d.sender)}",,"{self._scts(d.timestamp)}"\r\n{self._text_out(d.text, d.encoding)}')
            return True
        memory = self.memories[session.mems[2]]
        index = self._store(memory, Slot(0, 0, data, "deliver"))
        if index is None:
            return False
        if mt == 1:
            self.emit_urc(f'+CMTI: "{session.mems[2]}",{index}')
        return True

    def _cnma_expect(self) -> None:
        """Count one more +CMT/+CDS the host must acknowledge under AT+CSMS=1."""
        if self.session.csms == 1:
            self.session.cnma_pending += 1

    def _store(self, memory: Memory, slot: Slot) -> int | None:
        """Put a message in the first free slot; None when the store is (or reports itself) full."""
        if self._full(memory):
            return None
        index = memory.free_index()
        if index is None:
            return None
        slot.index = index
        memory.slots[index] = slot
        self._store_changed.notify_all()
        return index

    def _full(self, memory: Memory) -> bool:
        """Whether a store is at capacity, or the sim_full knob makes the SIM say so."""
        return (self.faults.sim_full and memory is self.memories["SM"]) or len(memory.slots) >= memory.capacity

    def emit_urc(self, text: str) -> None:
        """Send an unsolicited result code now, or right after the answer in progress."""
        data = f"\r\n{text}\r\n".encode("latin-1", "replace") if self.session.verbose else f"{text}\r\n".encode("latin-1", "replace")
        with self._lock:
            if not self.plugged:
                return
            if self.session.cnmi[0] == 0 and text.startswith(("+CMTI", "+CMT", "+CDS")):
                # TS 27.005 §3.4.1 mode 0: indications stay in the TA until AT+CNMI selects mode 1-3.
                self._held_indications.append(data)
            elif self._busy:
                self._urc_queue.append(data)
            else:
                self._send(data)

    def inject(self, data: bytes) -> None:
        """Write raw bytes to the client at once (for noise tests)."""
        with self._lock:
            if self.plugged:
                self._write(data)

    def _periodic(self, urc: PeriodicUrc, generation: int) -> None:
        """Emit one periodic URC and schedule the next, until the modem is powered off."""
        if generation != self._generation or not self.plugged:
            return
        if self._urcs_on and self.faults.periodic_urcs:
            self.emit_urc(urc.text.format(rssi=self._rssi()))
        self.network.schedule(urc.period_s, lambda: self._periodic(urc, generation))

    def _creg_changed(self) -> None:
        """Send +CREG: <stat> when registration changed and AT+CREG=1/2 asked for it."""
        if self.session.creg_n:
            self.emit_urc(f"+CREG: {self._creg_stat()}")

    # --- I/O thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        """The modem thread: read the master until stopped, feeding bytes to the parser."""
        master, wake = self._master, self._wake_r
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([master, wake], [], [])
            except (OSError, ValueError):
                return
            if wake in ready:
                return
            try:
                data = os.read(master, 4096)
            except BlockingIOError:
                continue
            except OSError:
                # EIO: nobody holds the slave; we keep our own slave fd open, so this means closing.
                return
            if not data:
                return
            try:
                self._feed(data)
            except Exception:  # a client's bytes must never kill the modem thread
                log.exception("modem%d: error handling input", self.index)
                with self._lock:
                    self._prompt = None
                    self._inbuf.clear()
                    self._respond(b"", [], "ERROR")

    def _write(self, data: bytes) -> None:
        """Write all of `data` to the master (caller holds `_lock`); drop it if the client stalls for 2 s."""
        if wire.isEnabledFor(logging.DEBUG):
            wire.debug("modem%d -> %r", self.index, data)
        view = memoryview(data)
        deadline = 0.0
        while view:
            try:
                written = os.write(self._master, view)
                view = view[written:]
            except BlockingIOError:
                deadline = deadline or time.monotonic() + 2.0
                if time.monotonic() > deadline:
                    log.warning("modem%d: client not reading; dropped %d bytes", self.index, len(view))
                    return
                select.select([], [self._master], [], 0.05)
            except OSError:
                return

    def _feed(self, data: bytes) -> None:
        """Split input into command lines (terminated by CR, S3) or route it to an open prompt."""
        if wire.isEnabledFor(logging.DEBUG):
            wire.debug("modem%d <- %r", self.index, data)
        if self._prompt is not None:
            data = self._prompt_feed(data)
        buf = self._inbuf
        buf += data
        while buf:
            cr = buf.find(b"\r")
            if cr < 0:
                if len(buf) > 8192:
                    buf.clear()
                return
            line = bytes(buf[:cr])
            del buf[: cr + 1]
            self._line(line)
            if self._prompt is not None and buf:
                rest = self._prompt_feed(bytes(buf))
                buf.clear()
                buf += rest

    def _line(self, raw: bytes) -> None:
        """Echo and execute one command line, then write its answer."""
        line = raw.lstrip(b"\n")
        if b"\x08" in line:
            chars: list[int] = []
            for b in line:
                if b == 0x08:
                    if chars:
                        chars.pop()
                else:
                    chars.append(b)
            line = bytes(chars)
        echo = line + b"\r" if self.session.echo else b""
        start = -1
        upper = line.upper()
        if upper == b"A/":
            upper = line = self._last_line
        start = upper.find(b"AT")
        if start < 0:
            if echo:
                with self._lock:
                    self._write(echo)
            return
        command = line[start + 2 :].decode("latin-1")
        self._last_line = line[start:]
        with self._lock:
            self._busy = True
            latency = self.faults.latency_cmd
            if latency and echo:
                # A real modem echoes while the host types; only the answer is slow.
                self._send(echo)
                echo = b""
        if latency:
            self._stop.wait(latency)
        with self._lock:
            lines: list[str] = []
            final: str | None = "OK"
            try:
                self._execute(command, lines)
            except _Prompted:
                self._open_prompt(echo, lines)
                return
            except _Fail as fail:
                final = self._final(fail)
            except Exception:
                log.exception("modem%d: command %r failed", self.index, command)
                final = "ERROR"
            self._respond(echo, lines, final)

    def _final(self, fail: _Fail) -> str | None:
        """The final result code text for a failure under the current AT+CMEE setting."""
        if fail.kind == "none":
            return None
        if fail.kind == "unsupported":
            return self.profile.simulator.not_supported_text or "ERROR"
        if fail.kind == "error" or self.session.cmee == 0:
            return "ERROR"
        name, table = ("CME", CME_TEXT) if fail.kind == "cme" else ("CMS", CMS_TEXT)
        if self.session.cmee == 2:
            return f"+{name} ERROR: {table.get(fail.code, 'unknown error')}"
        return f"+{name} ERROR: {fail.code}"

    def _respond(self, echo: bytes, lines: list[str], final: str | None) -> None:
        """Write echo, information lines, final code and any queued URCs (caller holds `_lock`)."""
        v1 = self.session.verbose
        out = bytearray()
        faults = self.faults
        if faults.garbage:
            out += faults.garbage
            self.faults = faults = replace(faults, garbage=b"")
        out += echo
        body = bytearray()
        for line in lines:
            encoded = line.encode("latin-1", "replace")
            body += b"\r\n" + encoded + b"\r\n" if v1 else encoded + b"\r\n"
        if final is not None:
            if v1:
                body += b"\r\n" + final.encode("latin-1") + b"\r\n"
            else:
                body += V0_CODES.get(final, "4").encode() + b"\r"
        if faults.urc_inside_reply:
            urc = f"\r\n{faults.urc_inside_reply}\r\n".encode("latin-1", "replace")
            self.faults = faults = replace(faults, urc_inside_reply="")
            if echo:
                out = out[: len(out) - len(echo) + 1] + urc + echo[1:]
            elif lines:
                first = body.find(b"\r\n", 2) + 2
                body = body[:first] + urc + body[first:]
            else:
                out += urc
        out += body
        self._busy = self._prompt is not None
        if not self._busy:
            for urc_bytes in self._urc_queue:
                out += urc_bytes
            self._urc_queue.clear()
        self._send(bytes(out))

    def _send(self, data: bytes) -> None:
        """Write bytes, in chunks of `split_writes` bytes 2 ms apart when that knob is set."""
        chunk = self.faults.split_writes
        if not chunk:
            self._write(data)
            return
        for i in range(0, len(data), chunk):
            self._write(data[i : i + chunk])
            time.sleep(0.002)

    # --- the > prompt -----------------------------------------------------------------------------

    def _open_prompt(self, echo: bytes, lines: list[str]) -> None:
        """Write the echo and the prompt (CR LF, then "> " with nothing after the space), unless no_prompt is set."""
        prompt = self._prompt
        assert prompt is not None
        if prompt.silent:
            self._busy = True
            if echo:
                self._send(echo)
            return
        self._busy = True
        self._send(echo + b"".join(b"\r\n" + line.encode("latin-1") + b"\r\n" for line in lines) + b"\r\n> ")

    def _prompt_feed(self, data: bytes) -> bytes:
        """Collect PDU/text after `> ` until Ctrl-Z (send) or ESC (cancel); return the bytes after it."""
        prompt = self._prompt
        assert prompt is not None
        ends = [i for i in (data.find(CTRL_Z), data.find(ESC)) if i >= 0]
        cut = min(ends) if ends else -1
        body = data if cut < 0 else data[:cut]
        with self._lock:
            if self.session.echo and body and not prompt.silent:
                self._send(body)
            if prompt.address is not None and b"\r" in body and not prompt.silent:
                # TS 27.005 §3.5.1 text mode: each <CR> inside the text is answered with a new prompt.
                self._send(b"\r\n> " * body.count(b"\r"))
                body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        prompt.data += body
        if cut < 0:
            if len(prompt.data) > 65536:
                prompt.data.clear()
            return b""
        terminator = data[cut]
        rest = data[cut + 1 :]
        self._prompt = None
        if terminator == ESC:
            with self._lock:
                self._respond(b"", [], "OK")
            return rest
        if prompt.silent:
            with self._lock:
                self._respond(b"", [], "ERROR")
            return rest
        self._finish_prompt(prompt)
        return rest

    def _finish_prompt(self, prompt: _Prompt) -> None:
        """Submit or store what was typed at the prompt and answer +CMGS/+CMGW or an error."""
        lines: list[str] = []
        final: str | None = "OK"
        try:
            if prompt.kind == "cmgs":
                mr = self._submit_from_prompt(prompt)
                lines.append(f"+CMGS: {mr}")
            else:
                index = self._write_from_prompt(prompt)
                lines.append(f"+CMGW: {index}")
        except _Fail as fail:
            final = self._final(fail)
        with self._lock:
            self._respond(b"", lines, final)

    def _prompt_pdu(self, prompt: _Prompt) -> bytes:
        """The hex PDU typed at the prompt, checked against the declared TPDU length."""
        text = bytes(prompt.data).strip().replace(b"\n", b"").replace(b" ", b"")
        try:
            data = bytes.fromhex(text.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raise _Fail("cms", 304) from None
        if not data or prompt.length is None or pdul.tpdu_length(data) != prompt.length:
            # 27.005 §3.5.1: <length> counts TPDU octets only; a mismatch is an invalid PDU parameter.
            raise _Fail("cms", 304)
        return data

    def _prompt_text(self, prompt: _Prompt) -> tuple[str, pdul.Encoding]:
        """The text typed at the prompt, decoded per AT+CSCS and the CSMP data coding scheme."""
        raw = bytes(prompt.data).decode("latin-1")
        dcs = self.session.csmp[3]
        try:
            encoding = pdul.alphabet(dcs)
        except pdul.PduError:
            raise _Fail("cms", 305) from None
        if encoding is pdul.Encoding.UCS2 or self.session.cscs == "UCS2":
            try:
                text = bytes.fromhex(raw.strip()).decode("utf-16-be")
            except ValueError:
                raise _Fail("cms", 305) from None
        else:
            text = raw
        if encoding is pdul.Encoding.GSM7 and not pdul.is_gsm7(text):
            raise _Fail("cms", 305)
        return text, encoding

    def _submit_from_prompt(self, prompt: _Prompt) -> int:
        """Turn what was typed after AT+CMGS into a submit and send it."""
        if prompt.address is None:
            data = self._prompt_pdu(prompt)
            try:
                submit = pdul.decode_submit(data)
            except pdul.PduError:
                raise _Fail("cms", 304) from None
        else:
            text, encoding = self._prompt_text(prompt)
            fo = self.session.csmp[0]
            if len(text) > (160 if encoding is pdul.Encoding.GSM7 else 70):
                raise _Fail("cms", 305)
            submit = pdul.Submit(None, 0, prompt.address, bool(fo & 0x20), 0, self.session.csmp[3], encoding, text, None, 0)
        return self._submit(submit)

    def _submit(self, submit: pdul.Submit) -> int:
        """Check faults, wait the per-part latency, hand the part to the network, return TP-MR."""
        faults = self.faults
        code: int | None = None
        if faults.no_network or self.session.cfun != 1:
            code = self.profile.simulator.no_network_cms
        elif submit.destination in faults.cms_error_for:
            code = faults.cms_error_for[submit.destination]
        elif faults.cms_error_next and faults.cms_error_next[1] > 0:
            code, left = faults.cms_error_next
            self.faults = replace(faults, cms_error_next=(code, left - 1) if left > 1 else None)
        elif not (submit.smsc or self.smsc):
            code = 330
        if faults.latency_part:
            self._stop.wait(faults.latency_part)
        total = submit.concat.total if submit.concat else 1
        part = submit.concat.seq if submit.concat else 1
        now = self.network.clock()
        if code is not None:
            self.submits.append(SubmitRecord(now, submit.destination, part, total, -1, submit.text, submit.encoding.value, submit.status_report, code))
            raise _Fail("cms", code)
        self._mr = (self._mr + 1) % 256
        mr = self._mr
        self.submits.append(SubmitRecord(now, submit.destination, part, total, mr, submit.text, submit.encoding.value, submit.status_report))
        self.network.submitted(self, submit, mr)
        return mr

    def _write_from_prompt(self, prompt: _Prompt) -> int:
        """Store what was typed after AT+CMGW as an unsent message; return its index."""
        if prompt.address is None:
            data = self._prompt_pdu(prompt)
            try:
                pdul.decode_submit(data)
            except pdul.PduError:
                raise _Fail("cms", 304) from None
        else:
            text, encoding = self._prompt_text(prompt)
            data = pdul.encode_submit(prompt.address, text, encoding=encoding, status_report=bool(self.session.csmp[0] & 0x20))
        with self._lock:
            memory = self.memories[self.session.mems[1]]
            index = self._store(memory, Slot(0, prompt.stat, data, "submit"))
        if index is None:
            raise _Fail("cms", 322)
        return index

    # --- command dispatch -------------------------------------------------------------------------

    def _execute(self, command: str, lines: list[str]) -> None:
        """Run every command on one AT line (basic ones chained, extended ones split by ';')."""
        i = 0
        n = len(command)
        if not command.strip():
            self._dispatch("", "", lines)
            return
        while i < n:
            ch = command[i]
            if ch in "; ":
                i += 1
                continue
            if ch in "+^$%*#":
                j = i + 1
                quoted = False
                while j < n and (quoted or command[j] != ";"):
                    if command[j] == '"':
                        quoted = not quoted
                    j += 1
                token = command[i:j]
                i = j
                m = re.match(r"([+^$%*#][A-Za-z0-9^]+)(.*)", token, re.S)
                if not m:
                    raise _Fail("error")
                name, suffix = m.group(1).upper(), m.group(2).strip()
            elif ch == "&":
                m = re.match(r"&([A-Za-z])(\d*)", command[i:])
                if not m:
                    raise _Fail("error")
                name, suffix = "&" + m.group(1).upper(), m.group(2)
                i += m.end()
            elif ch.upper() == "S":
                m = re.match(r"[Ss](\d+)(\?|=\d*)?", command[i:])
                if not m:
                    raise _Fail("error")
                name, suffix = "S", (m.group(2) or "")
                i += m.end()
            elif ch.isalpha():
                m = re.match(r"([A-Za-z])(\d*)", command[i:])
                assert m is not None
                name, suffix = m.group(1).upper(), m.group(2)
                i += m.end()
            else:
                raise _Fail("error")
            self._dispatch(name, suffix, lines)

    def _dispatch(self, name: str, suffix: str, lines: list[str]) -> None:
        """Run one command by name and form (action, set, read, test) or answer not supported."""
        if suffix.startswith("=?"):
            form, args = "test", suffix[2:]
        elif suffix.startswith("?"):
            form, args = "read", ""
        elif suffix.startswith("="):
            form, args = "set", suffix[1:]
        else:
            form, args = "action", suffix
        handler = self._handlers.get(name)
        if handler is None:
            base = name.split("=")[0]
            if base in self.profile.simulator.vendor_ok or name in self.profile.simulator.vendor_ok:
                return
            raise _Fail("unsupported")
        self._gate(name)
        if name == self.profile.simulator.urcs_stop_on:
            # ZTE MF190: the +ZUSIMR:2 flood stops once the host sends AT+CPMS? (ModemManager).
            self._urcs_on = False
        handler(form, args, lines)

    def _gate(self, name: str) -> None:
        """SIM lock and SIM-busy checks before a command runs (TS 27.007 §8.3)."""
        session = self.session
        if session.cfun_busy > 0:
            session.cfun_busy -= 1
            raise _Fail("cme", 515)
        sms = name in _SMS_COMMANDS
        if self._sim_state != "READY" and name not in _NO_SIM_NEEDED:
            puk = self._sim_state == "SIM PUK"
            raise _Fail("cms", 316 if puk else 311) if sms else _Fail("cme", 12 if puk else 11)
        if name in _SIM_COMMANDS and time.monotonic() < session.busy_until:
            raise _Fail("cms", 314) if sms else _Fail("cme", 14)

    def _table(self) -> dict[str, Callable[[str, str, list[str]], None]]:
        """The command table: name to handler."""
        return {
            "": self._c_nop, "E": self._c_echo, "V": self._c_verbose, "Q": self._c_nop, "Z": self._c_reset,
            "I": self._c_info, "&F": self._c_reset, "&W": self._c_nop, "&C": self._c_nop, "&D": self._c_nop,
            "X": self._c_nop, "S": self._c_sreg, "L": self._c_nop, "M": self._c_nop, "H": self._c_nop,
            "+CMEE": self._c_cmee, "+CGMI": self._c_cgmi, "+GMI": self._c_cgmi, "+CGMM": self._c_cgmm,
            "+GMM": self._c_cgmm, "+CGMR": self._c_cgmr, "+GMR": self._c_cgmr, "+CGSN": self._c_cgsn,
            "+GSN": self._c_cgsn, "+CIMI": self._c_cimi, "+CCID": self._c_ccid, "+ICCID": self._c_ccid,
            "+CNUM": self._c_cnum, "+GCAP": self._c_gcap, "+CLAC": self._c_clac, "+CPIN": self._c_cpin,
            "+CFUN": self._c_cfun, "+CSQ": self._c_csq, "+CREG": self._c_creg, "+CGREG": self._c_cgreg,
            "+CEREG": self._c_cgreg, "+COPS": self._c_cops, "+CMGF": self._c_cmgf, "+CSCS": self._c_cscs,
            "+CSCA": self._c_csca, "+CSMP": self._c_csmp, "+CSDH": self._c_csdh, "+CSMS": self._c_csms,
            "+CNMA": self._c_cnma, "+CMMS": self._c_cmms, "+CPMS": self._c_cpms, "+CNMI": self._c_cnmi,
            "+CMGS": self._c_cmgs, "+CMGW": self._c_cmgw, "+CMSS": self._c_cmss, "+CMGL": self._c_cmgl,
            "+CMGR": self._c_cmgr, "+CMGD": self._c_cmgd, "+CLIP": self._c_nop, "+CRC": self._c_nop,
            "+CVHU": self._c_nop, "^CURC": self._c_curc,
        }

    # --- string conversion (TS 27.007 §5.5: +CSCS applies to every string parameter) ----------------

    def _str_in(self, value: str) -> str:
        """A string parameter from the host, decoded per AT+CSCS."""
        value = _unquote(value)
        if self.session.cscs == "UCS2":
            try:
                return bytes.fromhex(value).decode("utf-16-be")
            except ValueError:
                raise _Fail("cms", 305) from None
        return value

    def _str_out(self, value: str) -> str:
        """A string parameter for the host, encoded per AT+CSCS."""
        if self.session.cscs == "UCS2":
            return value.encode("utf-16-be").hex().upper()
        return value

    def _text_out(self, text: str, encoding: pdul.Encoding) -> str:
        """Text-mode <data>: hex for UCS-2 (SIM7600 manual) or under CSCS "UCS2"; 8-bit data is already hex."""
        if encoding is pdul.Encoding.UCS2 or self.session.cscs == "UCS2":
            return text.encode("utf-16-be").hex().upper()
        return text

    @staticmethod
    def _scts(moment: dt.datetime) -> str:
        """A timestamp in text-mode form: yy/MM/dd,hh:mm:ss±zz (zone in quarter hours)."""
        offset = moment.utcoffset() or dt.timedelta(0)
        quarters = int(offset.total_seconds() // 900)
        return moment.strftime("%y/%m/%d,%H:%M:%S") + f"{'+' if quarters >= 0 else '-'}{abs(quarters):02d}"

    # --- basic commands ----------------------------------------------------------------------------

    def _c_nop(self, form: str, args: str, lines: list[str]) -> None:
        """Accept and ignore."""

    def _c_echo(self, form: str, args: str, lines: list[str]) -> None:
        if args not in ("", "0", "1"):
            raise _Fail("error")
        self.session.echo = args == "1"

    def _c_verbose(self, form: str, args: str, lines: list[str]) -> None:
        if args not in ("", "0", "1"):
            raise _Fail("error")
        self.session.verbose = args == "1"

    def _c_sreg(self, form: str, args: str, lines: list[str]) -> None:
        if args == "?":
            lines.append("013")

    def _c_reset(self, form: str, args: str, lines: list[str]) -> None:
        """ATZ / AT&F: back to the power-up settings (the SIM and its store are untouched)."""
        self.session = self._fresh_session()

    def _ati_lines(self) -> list[str]:
        """The profile's ATI lines with identity placeholders filled in."""
        t = self.profile.simulator
        return [line.format(manufacturer=t.manufacturer, model=t.model, revision=t.revision, imei=self.imei) for line in t.ati]

    def _c_info(self, form: str, args: str, lines: list[str]) -> None:
        lines.append("\r\n".join(self._ati_lines()))

    def _c_cmee(self, form: str, args: str, lines: list[str]) -> None:
        if form == "read":
            lines.append(f"+CMEE: {self.session.cmee}")
        elif form == "test":
            lines.append("+CMEE: (0-2)")
        else:
            value = _int(args or "0")
            if value not in (0, 1, 2):
                raise _Fail("error")
            self.session.cmee = value

    def _identity(self, form: str, value: str, lines: list[str]) -> None:
        """Answer an identity command (CGMI, CGMM, CGMR, CGSN, CIMI) with its bare value."""
        if form == "action":
            lines.append(value)
        elif form != "test":
            raise _Fail("error")

    def _c_cgmi(self, form: str, args: str, lines: list[str]) -> None:
        self._identity(form, self.profile.simulator.manufacturer, lines)

    def _c_cgmm(self, form: str, args: str, lines: list[str]) -> None:
        self._identity(form, self.profile.simulator.model, lines)

    def _c_cgmr(self, form: str, args: str, lines: list[str]) -> None:
        self._identity(form, self.profile.simulator.revision, lines)

    def _c_cgsn(self, form: str, args: str, lines: list[str]) -> None:
        self._identity(form, self.imei, lines)

    def _c_cimi(self, form: str, args: str, lines: list[str]) -> None:
        self._identity(form, self.imsi, lines)

    def _c_ccid(self, form: str, args: str, lines: list[str]) -> None:
        if form in ("action", "read"):
            lines.append(f"+CCID: {self.iccid}")
        elif form != "test":
            raise _Fail("error")

    def _c_cnum(self, form: str, args: str, lines: list[str]) -> None:
        if form == "action":
            lines.append(f'+CNUM: "","{self._str_out(self.msisdn)}",{145 if self.msisdn.startswith("+") else 129}')

    def _c_gcap(self, form: str, args: str, lines: list[str]) -> None:
        lines.append("+GCAP: +CGSM")

    def _c_clac(self, form: str, args: str, lines: list[str]) -> None:
        lines.append("\r\n".join(f"AT{name}" for name in self._handlers if name.startswith(("+", "^"))))

    def _c_curc(self, form: str, args: str, lines: list[str]) -> None:
        if self.profile.simulator.urc_switch != "^CURC":
            raise _Fail("unsupported")
        if form == "set":
            self._urcs_on = _int(args) != 0
        elif form == "read":
            lines.append(f"^CURC: {int(self._urcs_on)}")

    # --- SIM, radio, network (TS 27.007) ------------------------------------------------------------

    def _c_cpin(self, form: str, args: str, lines: list[str]) -> None:
        if form == "read":
            lines.append(f"+CPIN: {self._sim_state}")
            if "cpin_no_ok" in self.profile.quirks:
                raise _Fail("none")
            return
        if form == "test":
            return
        if form != "set":
            raise _Fail("error")
        values = [_unquote(v) for v in _split_args(args)]
        if self._sim_state == "READY":
            return
        if self._sim_state == "SIM PIN":
            if values[0] == self.faults.pin:
                self._unlock()
                return
            self._pin_tries -= 1
            if self._pin_tries <= 0:
                self._sim_state = "SIM PUK"
            raise _Fail("cme", 16)
        if len(values) == 2 and values[0] == self.faults.puk:
            self.faults = replace(self.faults, pin=values[1])
            self._unlock()
            return
        raise _Fail("cme", 16)

    def _unlock(self) -> None:
        """The SIM accepted a PIN or PUK: ready, maybe busy for a while, held messages released."""
        self._sim_state = "READY"
        self._pin_tries = 3
        if "sim_busy_after_pin" in self.profile.quirks:
            self.session.busy_until = time.monotonic() + self.profile.simulator.sim_busy_after_pin_s
        self._urc_queue.append(b"\r\n+CPIN: READY\r\n")
        self.network.schedule(0.0, self.flush_pending)

    def _c_cfun(self, form: str, args: str, lines: list[str]) -> None:
        if form == "read":
            lines.append(f"+CFUN: {self.session.cfun}")
        elif form == "test":
            lines.append("+CFUN: (0,1,4),(0-1)")
        elif form == "set":
            values = _split_args(args)
            fun = _int(values[0])
            if fun not in (0, 1, 4):
                raise _Fail("cme", 4)
            reset = len(values) > 1 and _int(values[1]) == 1
            if reset:
                # AT+CFUN=1,1: the module reboots; settings return to power-up values, boot URCs again.
                self.session = self._fresh_session()
                self.booted.clear()
                generation = self._generation
                self.network.schedule(self.network.boot_delay, lambda: self._boot(generation))
            self.session.cfun = fun
            if fun == 1 and "cme_515_after_cfun" in self.profile.quirks:
                self.session.cfun_busy = 2
            self.network.schedule(0.0, self.flush_pending)
        else:
            raise _Fail("error")

    def _rssi(self) -> int:
        """The CSQ signal value: the knob's level, or 99 (unknown) without network or radio."""
        return 99 if self.faults.no_network or self.session.cfun != 1 else max(0, min(31, self.faults.rssi))

    def _c_csq(self, form: str, args: str, lines: list[str]) -> None:
        if form == "test":
            lines.append("+CSQ: (0-31,99),(0-7,99)")
        elif form == "action":
            lines.append(f"+CSQ: {self._rssi()},99")
        else:
            raise _Fail("error")

    def _creg_stat(self) -> int:
        """Registration status for +CREG/+CGREG: 1 home, 2 searching, 0 not registered."""
        if self.session.cfun != 1 or self._sim_state != "READY":
            return 0
        return 2 if self.faults.no_network else 1

    def _reg(self, form: str, args: str, lines: list[str], name: str, attr: str) -> None:
        """AT+CREG / AT+CGREG / AT+CEREG: read, test and set of the URC mode."""
        if form == "read":
            n = getattr(self.session, attr)
            stat = self._creg_stat()
            extra = ',"1A2B","0C3D4E5F"' if n == 2 and stat in (1, 5) else ""
            lines.append(f"+{name}: {n},{stat}{extra}")
        elif form == "test":
            lines.append(f"+{name}: (0-2)")
        elif form == "set":
            value = _int(args or "0")
            if value not in (0, 1, 2):
                raise _Fail("cme", 3)
            setattr(self.session, attr, value)
        else:
            raise _Fail("error")

    def _c_creg(self, form: str, args: str, lines: list[str]) -> None:
        self._reg(form, args, lines, "CREG", "creg_n")

    def _c_cgreg(self, form: str, args: str, lines: list[str]) -> None:
        self._reg(form, args, lines, "CGREG", "cgreg_n")

    def _c_cops(self, form: str, args: str, lines: list[str]) -> None:
        t = self.profile.simulator
        if form == "read":
            if self._creg_stat() != 1:
                lines.append("+COPS: 0")
                return
            fmt = self.session.cops_format
            name = {0: t.operator, 1: t.operator[:8], 2: self.imsi[:5]}[fmt]
            lines.append(f'+COPS: 0,{fmt},"{self._str_out(name)}",{t.act}')
        elif form == "test":
            lines.append(f'+COPS: (2,"{t.operator}","{t.operator[:8]}","{self.imsi[:5]}",{t.act}),,(0-4),(0-2)')
        elif form == "set":
            values = _split_args(args)
            mode = _int(values[0])
            if mode not in (0, 1, 2, 3, 4):
                raise _Fail("cme", 3)
            if mode == 3 and len(values) > 1:
                fmt = _int(values[1])
                if fmt not in (0, 1, 2):
                    raise _Fail("cme", 3)
                self.session.cops_format = fmt
        else:
            raise _Fail("error")

    # --- SMS settings (TS 27.005 §3) ----------------------------------------------------------------

    def _c_cmgf(self, form: str, args: str, lines: list[str]) -> None:
        text_ok = self.profile.simulator.text_mode
        if form == "read":
            lines.append(f"+CMGF: {self.session.cmgf}")
        elif form == "test":
            lines.append("+CMGF: (0,1)" if text_ok else "+CMGF: (0)")
        elif form == "set" or form == "action":
            value = _int(args or "0")
            if value not in (0, 1) or (value == 1 and not text_ok):
                raise _Fail("cms", 303)
            self.session.cmgf = value

    def _c_cscs(self, form: str, args: str, lines: list[str]) -> None:
        charsets = ("IRA", "GSM", "UCS2")
        if form == "read":
            lines.append(f'+CSCS: "{self.session.cscs}"')
        elif form == "test":
            lines.append('+CSCS: ("IRA","GSM","UCS2")')
        elif form == "set":
            value = _unquote(args).upper()
            if value not in charsets:
                raise _Fail("cme", 4)
            self.session.cscs = value
        else:
            raise _Fail("error")

    def _c_csca(self, form: str, args: str, lines: list[str]) -> None:
        if form == "read":
            if not self.smsc:
                lines.append('+CSCA: "",129')
            else:
                lines.append(f'+CSCA: "{self._str_out(self.smsc)}",{145 if self.smsc.startswith("+") else 129}')
        elif form == "set":
            values = _split_args(args)
            number = self._str_in(values[0])
            if number and not re.fullmatch(r"\+?[0-9]{3,20}", number):
                raise _Fail("cms", 304 if self.session.cmgf == 0 else 305)
            self.smsc = number
        elif form != "test":
            raise _Fail("error")

    def _c_csmp(self, form: str, args: str, lines: list[str]) -> None:
        if form == "read":
            lines.append("+CSMP: " + ",".join(str(v) for v in self.session.csmp))
        elif form == "test":
            return
        elif form == "set":
            values = [_int(v) if v else None for v in _split_args(args)]
            current = list(self.session.csmp)
            for i, v in enumerate(values[:4]):
                if v is not None:
                    if not 0 <= v <= 255:
                        raise _Fail("cms", 305)
                    current[i] = v
            self.session.csmp = tuple(current)  # type: ignore[assignment]
            if "csmp_clears_smsc" in self.profile.quirks:
                self.smsc = ""
        else:
            raise _Fail("error")

    def _c_csdh(self, form: str, args: str, lines: list[str]) -> None:
        if form == "read":
            lines.append(f"+CSDH: {self.session.csdh}")
        elif form == "test":
            lines.append("+CSDH: (0,1)")
        else:
            value = _int(args or "0")
            if value not in (0, 1):
                raise _Fail("cms", 303)
            self.session.csdh = value

    def _c_csms(self, form: str, args: str, lines: list[str]) -> None:
        if form == "read":
            lines.append(f"+CSMS: {self.session.csms},1,1,1")
        elif form == "test":
            lines.append("+CSMS: (0,1)")
        elif form == "set":
            value = _int(args)
            if value not in (0, 1):
                raise _Fail("cms", 303)
            self.session.csms = value
            lines.append("+CSMS: 1,1,1")
        else:
            raise _Fail("error")

    def _c_cnma(self, form: str, args: str, lines: list[str]) -> None:
        if self.session.csms != 1 or self.session.cnma_pending <= 0:
            raise _Fail("cms", 340)
        self.session.cnma_pending -= 1

    def _c_cmms(self, form: str, args: str, lines: list[str]) -> None:
        if form == "read":
            lines.append(f"+CMMS: {self.session.cmms}")
        elif form == "test":
            lines.append("+CMMS: (0-2)")
        elif form == "set":
            value = _int(args)
            if value not in (0, 1, 2):
                raise _Fail("cms", 303)
            self.session.cmms = value
        else:
            raise _Fail("error")

    def _c_cpms(self, form: str, args: str, lines: list[str]) -> None:
        arity = self.profile.cpms_arity
        mems = self._supported_mems
        if form == "test":
            group = "(" + ",".join(f'"{m}"' for m in mems) + ")"
            lines.append("+CPMS: " + ",".join([group] * arity))
            return
        if form == "read":
            parts = [f'"{m}",{self._used(m)},{self.memories[m].capacity}' for m in self.session.mems[:arity]]
            lines.append("+CPMS: " + ",".join(parts))
            return
        if form != "set":
            raise _Fail("error")
        values = [_unquote(v).upper() for v in _split_args(args)]
        if not 1 <= len(values) <= arity or any(v not in mems for v in values):
            raise _Fail("cms", 302)
        current = list(self.session.mems)
        for i, v in enumerate(values):
            current[i] = v
        self.session.mems = tuple(current)  # type: ignore[assignment]
        lines.append("+CPMS: " + ",".join(f"{self._used(m)},{self.memories[m].capacity}" for m in current[:arity]))

    def _used(self, name: str) -> int:
        """Messages in a store as +CPMS reports them."""
        memory = self.memories[name]
        return memory.capacity if self._full(memory) and self.faults.sim_full else len(memory.slots)

    def _c_cnmi(self, form: str, args: str, lines: list[str]) -> None:
        if form == "read":
            lines.append("+CNMI: " + ",".join(str(v) for v in self.session.cnmi))
            return
        if form == "test":
            lines.append("+CNMI: " + self.profile.simulator.cnmi_test)
            return
        if form != "set":
            raise _Fail("error")
        raw = _split_args(args)
        current = list(self.session.cnmi)
        if len(raw) > 5:
            raise _Fail("cms", 303)
        for i, v in enumerate(raw):
            if v == "":
                continue
            value = _int(v)
            if i < len(self._cnmi_allowed) and value not in self._cnmi_allowed[i]:
                raise _Fail("cms", 303)
            current[i] = value
        self.session.cnmi = tuple(current)  # type: ignore[assignment]
        if current[0] != 0:
            # <bfr> 0 flushes the indications held in mode 0 after the OK; 1 discards them.
            if current[4] == 0:
                self._urc_queue.extend(self._held_indications)
            self._held_indications.clear()
        self.network.schedule(0.0, self.flush_pending)

    # --- sending and the store (TS 27.005 §3.5, §3.4) ---------------------------------------------

    def _c_cmgs(self, form: str, args: str, lines: list[str]) -> None:
        if form == "test":
            return
        if form != "set":
            raise _Fail("error")
        self._begin_prompt("cmgs", args, 0)

    def _c_cmgw(self, form: str, args: str, lines: list[str]) -> None:
        if form == "test":
            return
        if form != "set" and form != "action":
            raise _Fail("error")
        memory = self.memories[self.session.mems[1]]
        if self._full(memory):
            raise _Fail("cms", 322)
        values = _split_args(args) if args else []
        stat = 2
        if self.session.cmgf == 0 and len(values) > 1:
            stat = _int(values[1])
        elif self.session.cmgf == 1 and len(values) > 2:
            stat = TEXT_STATS.index(_unquote(values[2])) if _unquote(values[2]) in TEXT_STATS[:4] else 2
        self._begin_prompt("cmgw", args, stat)

    def _begin_prompt(self, kind: str, args: str, stat: int) -> None:
        """Validate AT+CMGS/AT+CMGW parameters and open the prompt."""
        values = _split_args(args) if args else [""]
        silent = self.faults.no_prompt
        if self.session.cmgf == 0:
            length = _int(values[0]) if values[0] else -1
            if not 1 <= length <= 180 and not (kind == "cmgw" and not values[0]):
                raise _Fail("cms", 304)
            self._prompt = _Prompt(kind, length, None, stat, silent)
        else:
            if not values[0] and kind == "cmgs":
                raise _Fail("cms", 305)
            number = self._str_in(values[0]) if values[0] else ""
            if values[0] and not re.fullmatch(r"\+?[0-9*#]{1,20}", number):
                raise _Fail("cms", 305)
            self._prompt = _Prompt(kind, None, number, stat, silent)
        raise _Prompted()

    def _c_cmss(self, form: str, args: str, lines: list[str]) -> None:
        if form == "test":
            return
        if form != "set":
            raise _Fail("error")
        values = _split_args(args)
        memory = self.memories[self.session.mems[1]]
        slot = memory.slots.get(_int(values[0]))
        if slot is None or slot.kind != "submit":
            raise _Fail("cms", 321)
        submit = pdul.decode_submit(slot.pdu)
        if len(values) > 1 and values[1]:
            submit = replace(submit, destination=self._str_in(values[1]))
        mr = self._submit(submit)
        slot.stat = 3
        lines.append(f"+CMSS: {mr}")

    def _stat_filter(self, args: str) -> int:
        """CMGL <stat>: integers in PDU mode, strings in text mode; the wrong form is an error."""
        value = args.strip() or ("4" if self.session.cmgf == 0 else '"REC UNREAD"')
        if self.session.cmgf == 0:
            if value.startswith('"'):
                raise _Fail("cms", 304) if self.session.cmee else _Fail("error")
            stat = _int(value)
            if not 0 <= stat <= 4:
                raise _Fail("cms", 304)
            return stat
        if not value.startswith('"') or _unquote(value).upper() not in TEXT_STATS:
            raise _Fail("cms", 305) if self.session.cmee else _Fail("error")
        return TEXT_STATS.index(_unquote(value).upper())

    def _c_cmgl(self, form: str, args: str, lines: list[str]) -> None:
        if form == "test":
            lines.append("+CMGL: (0-4)" if self.session.cmgf == 0 else '+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")')
            return
        wanted = self._stat_filter(args)
        memory = self.memories[self.session.mems[0]]
        listing: list[str] = []
        for index in sorted(memory.slots):
            slot = memory.slots[index]
            if wanted != 4 and slot.stat != wanted:
                continue
            if self.session.cmgf == 0:
                listing.append(f"+CMGL: {index},{slot.stat},,{pdul.tpdu_length(slot.pdu)}")
                listing.append(slot.pdu.hex().upper())
            else:
                listing.extend(self._text_entry(f"+CMGL: {index},", slot))
            if slot.stat == 0:
                slot.stat = 1
        if listing:
            # One information text: entries are separated by a single CR LF (transcripts T2).
            lines.append("\r\n".join(listing))

    def _text_entry(self, prefix: str, slot: Slot) -> list[str]:
        """Text-mode header line and data line for one stored message (TS 27.005 §3.4.2, §3.4.3)."""
        stat = f'"{TEXT_STATS[slot.stat]}"'
        try:
            if slot.kind == "status":
                r = pdul.decode_status_report(slot.pdu)
                return [f'{prefix}{stat},6,{r.mr},"{self._str_out(r.recipient)}",145,"{self._scts(r.timestamp)}","{self._scts(r.discharge)}",{r.status}']
            if slot.kind == "submit":
                s = pdul.decode_submit(slot.pdu)
                return [f'{prefix}{stat},"{self._str_out(s.destination)}",', self._text_out(s.text, s.encoding)]
            d = pdul.decode_deliver(slot.pdu)
        except pdul.PduError:
            return [f"{prefix}{stat},,", ""]
        head = f'{prefix}{stat},"{self._str_out(d.sender)}",,"{self._scts(d.timestamp)}"'
        if self.session.csdh:
            tooa = 145 if d.sender.startswith("+") else 129
            head += f",{tooa},{pdul.tpdu_length(slot.pdu)}"
        return [head, self._text_out(d.text, d.encoding)]

    def _c_cmgr(self, form: str, args: str, lines: list[str]) -> None:
        if form == "test":
            return
        if form != "set":
            raise _Fail("error")
        values = _split_args(args)
        index = _int(values[0])
        keep_unread = len(values) > 1 and values[1] == "1"
        memory = self.memories[self.session.mems[0]]
        slot = memory.slots.get(index)
        if slot is None:
            if "cmgr_empty_ok" in self.profile.quirks:
                return
            raise _Fail("cms", 321)
        if self.session.cmgf == 0:
            lines.append(f"+CMGR: {slot.stat},,{pdul.tpdu_length(slot.pdu)}\r\n{slot.pdu.hex().upper()}")
        else:
            lines.append("\r\n".join(self._text_entry("+CMGR: ", slot)))
        if slot.stat == 0 and not keep_unread:
            slot.stat = 1

    def _c_cmgd(self, form: str, args: str, lines: list[str]) -> None:
        memory = self.memories[self.session.mems[0]]
        if form == "test":
            used = ",".join(str(i) for i in sorted(memory.slots))
            lines.append(f"+CMGD: ({used}),(0-4)")
            return
        if form != "set":
            raise _Fail("error")
        values = _split_args(args)
        flag = _int(values[1]) if len(values) > 1 and values[1] else 0
        if not 0 <= flag <= 4:
            raise _Fail("cms", 302)
        if flag == 0:
            index = _int(values[0])
            if not memory.base <= index < memory.base + memory.capacity:
                raise _Fail("cms", 321)
            memory.slots.pop(index, None)
            self._store_changed.notify_all()
        else:
            # TS 27.005 §3.5.4 delflag: 1 read, 2 read+sent, 3 read+sent+unsent, 4 all.
            doomed = {1: {1}, 2: {1, 3}, 3: {1, 2, 3}, 4: {0, 1, 2, 3}}[flag]
            for index in [i for i, s in memory.slots.items() if s.stat in doomed]:
                del memory.slots[index]
            self._store_changed.notify_all()
        self.network.schedule(0.0, self.flush_pending)

    def _cds_text(self, data: bytes) -> str:
        """A status report in text-mode +CDS form (TS 27.005 §3.4.1)."""
        r = pdul.decode_status_report(data)
        return f'+CDS: 6,{r.mr},"{self._str_out(r.recipient)}",145,"{self._scts(r.timestamp)}","{self._scts(r.discharge)}",{r.status}'
