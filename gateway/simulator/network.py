"""The virtual GSM network: modems with MSISDNs, virtual phones, routing and delivery reports.

Rules: everything the network does later (delivering a part, a status report, a periodic URC)
runs on one scheduler thread, so no thread ever holds one modem's lock while taking another's.
Timestamps use the injected `clock` (wall-clock seconds); waiting uses the real monotonic clock.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from gateway.profiles import Profile, load_profile
from gateway.simulator import pdu as pdul
from gateway.simulator.modem import SimModem

log = logging.getLogger("gateway.simulator")

DEFAULT_SMSC = "+79168999100"
# TS 23.040 §9.2.3.15 statuses sent for each `dr_status` knob value, in order.
DR_SEQUENCES: dict[str, tuple[int, ...]] = {
    "delivered": (pdul.ST_DELIVERED,),
    "temporary_then_delivered": (pdul.ST_TEMPORARY_SC_TRYING, pdul.ST_DELIVERED),
    "permanent": (pdul.ST_PERMANENT_NOT_OBTAINABLE,),
    "none": (),
}


@dataclass(frozen=True)
class ReceivedMessage:
    """A message as a virtual phone received it, parts already joined."""

    from_: str
    to: str
    text: str
    parts: int
    encoding: str
    received_at: float

    def as_json(self) -> dict[str, object]:
        """The control API's representation."""
        return {"from": self.from_, "to": self.to, "text": self.text, "parts": self.parts, "encoding": self.encoding, "received_at": self.received_at}


def _luhn(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


class Phone:
    """A virtual handset: receives MT messages (decoded) and originates MO messages."""

    def __init__(self, network: Network, number: str) -> None:
        self.network = network
        self.number = number
        self._inbox: list[ReceivedMessage] = []
        self._changed = threading.Condition()
        self._ref = 0

    @property
    def inbox(self) -> list[ReceivedMessage]:
        """A copy of the messages received so far."""
        with self._changed:
            return list(self._inbox)

    def wait_inbox(self, count: int, timeout: float = 10.0) -> list[ReceivedMessage]:
        """Block until at least `count` messages arrived; raise TimeoutError otherwise."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._inbox) >= count, timeout):
                raise TimeoutError(f"phone {self.number}: {len(self._inbox)} of {count} messages after {timeout} s")
            return list(self._inbox)

    def _receive(self, message: ReceivedMessage) -> None:
        with self._changed:
            self._inbox.append(message)
            self._changed.notify_all()
        log.info("phone %s received %d part(s), %d chars", self.number, message.parts, len(message.text))

    def send(self, to: str, text: str) -> int:
        """Originate an SMS to a modem's MSISDN: multipart when long, GSM-7 or UCS-2 by content; returns parts."""
        modem = self.network.modem_for(to)
        encoding, parts = pdul.split_text(text)
        with self._changed:
            self._ref = ref = (self._ref + 1) % 256
        now = self.network.now()
        for seq, part in enumerate(parts, 1):
            concat = pdul.Concat(ref, len(parts), seq) if len(parts) > 1 else None
            data = pdul.encode_deliver(self.number, part, now, encoding=encoding, concat=concat, smsc=self.network.smsc)
            self.network.schedule(0.0, functools.partial(modem.deliver, "deliver", data))
        return len(parts)

    def send_pdu(self, to: str, pdu: str) -> int:
        """Originate a raw TPDU (hex, no SMSC field): an SMS-SUBMIT is re-addressed from this phone, an SMS-DELIVER is stored verbatim."""
        modem = self.network.modem_for(to)
        tpdu = bytes.fromhex(pdu)
        if not tpdu:
            raise ValueError("empty PDU")
        if tpdu[0] & 0x03 == pdul.MTI_SUBMIT:
            submit = pdul.decode_submit(tpdu, with_smsc=False)
            data = pdul.encode_deliver(self.number, submit.text, self.network.now(), encoding=submit.encoding, concat=submit.concat, smsc=self.network.smsc)
        elif tpdu[0] & 0x03 == pdul.MTI_DELIVER:
            data = pdul.encode_smsc(self.network.smsc) + tpdu
        else:
            raise ValueError("PDU must be an SMS-SUBMIT or SMS-DELIVER TPDU")
        self.network.schedule(0.0, lambda: modem.deliver("deliver", data))
        return 1


class Network:
    """Modems, phones and the SMS centre between them; use as a context manager or call close()."""

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        *,
        smsc: str = DEFAULT_SMSC,
        tz: dt.tzinfo = dt.timezone(dt.timedelta(hours=3)),
        link_dir: Path | None = None,
        profiles_directory: Path | None = None,
        boot_delay: float = 0.2,
    ) -> None:
        self.clock = clock
        self.boot_delay = boot_delay
        self.smsc = smsc
        self.tz = tz
        self.link_dir = Path(link_dir) if link_dir is not None else None
        self.profiles_directory = profiles_directory
        self.modems: list[SimModem] = []
        self.phones: dict[str, Phone] = {}
        self._lock = threading.Lock()
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._wakeup = threading.Condition(self._lock)
        self._closed = False
        self._partial: dict[tuple[str, str, int, int], dict[int, str]] = {}
        self._scheduler = threading.Thread(target=self._run, name="sim-network", daemon=True)
        self._scheduler.start()

    # --- modems and phones ---------------------------------------------------------------------

    def add_modem(self, profile: str | Profile = "generic", msisdn: str | None = None) -> SimModem:
        """Create a modem with the given personality and start serving it on a fresh pty."""
        loaded = profile if isinstance(profile, Profile) else load_profile(profile, self.profiles_directory)
        with self._lock:
            index = len(self.modems)
            number = msisdn or f"+7916555{index:04d}"
            modem = SimModem(
                self,
                index,
                loaded,
                msisdn=number,
                imei=_luhn(f"35693803{index:06d}"),
                imsi=f"25001{index:010d}",
                iccid=_luhn(f"897010{index:012d}"),
            )
            self.modems.append(modem)
        modem.start()
        self.relink(modem)
        log.info("modem%d %s on %s (%s)", index, number, modem.path, loaded.name)
        return modem

    def modem_for(self, msisdn: str) -> SimModem:
        """The modem with this MSISDN (KeyError when none)."""
        for modem in self.modems:
            if modem.msisdn == msisdn:
                return modem
        raise KeyError(f"no modem has MSISDN {msisdn}")

    def phone(self, number: str) -> Phone:
        """The virtual phone with this number (created on first use)."""
        with self._lock:
            phone = self.phones.get(number)
            if phone is None:
                phone = self.phones[number] = Phone(self, number)
            return phone

    def link_path(self, modem: SimModem) -> Path | None:
        """The stable symlink for a modem (`link_dir/modem<N>`), if a link directory is set."""
        return self.link_dir / f"modem{modem.index}" if self.link_dir is not None else None

    def relink(self, modem: SimModem) -> None:
        """Point `link_dir/modem<N>` at the modem's current pty, atomically (like /dev/serial/by-id)."""
        link = self.link_path(modem)
        if link is None:
            return
        link.parent.mkdir(parents=True, exist_ok=True)
        temp = link.with_name(f".{link.name}.tmp")
        if temp.is_symlink() or temp.exists():
            temp.unlink()
        os.symlink(modem.path, temp)
        os.replace(temp, link)

    # --- time and scheduling -------------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The network's current time in its zone, from the injected clock."""
        return dt.datetime.fromtimestamp(self.clock(), tz=self.tz).replace(microsecond=0)

    def schedule(self, delay: float, action: Callable[[], None]) -> None:
        """Run `action` on the network thread after `delay` seconds."""
        with self._wakeup:
            if self._closed:
                return
            heapq.heappush(self._queue, (time.monotonic() + delay, next(self._seq), action))
            self._wakeup.notify()

    def _run(self) -> None:
        while True:
            with self._wakeup:
                while not self._closed and (not self._queue or self._queue[0][0] > time.monotonic()):
                    self._wakeup.wait(None if not self._queue else self._queue[0][0] - time.monotonic())
                if self._closed:
                    return
                _, _, action = heapq.heappop(self._queue)
            try:
                action()
            except Exception:
                log.exception("network action failed")

    # --- routing -------------------------------------------------------------------------------

    def submitted(self, modem: SimModem, submit: pdul.Submit, mr: int) -> None:
        """A modem accepted a part: route it and schedule its status reports."""
        faults = modem.faults
        submitted_at = self.now()
        statuses = DR_SEQUENCES[faults.dr_status]
        if faults.dr_status != "permanent":
            self.schedule(0.0, lambda: self._route(modem.msisdn, submit))
        if submit.status_report:
            for step, status in enumerate(statuses, 1):
                self.schedule(faults.dr_delay * step, functools.partial(self._report, modem, mr, submit.destination, submitted_at, status))

    def _report(self, modem: SimModem, mr: int, recipient: str, submitted_at: dt.datetime, status: int) -> None:
        data = pdul.encode_status_report(mr, recipient, submitted_at, self.now(), status, smsc=self.smsc)
        modem.deliver("status", data)

    def _route(self, sender: str, submit: pdul.Submit) -> None:
        destination = submit.destination
        for target in self.modems:
            if target.msisdn == destination:
                data = pdul.encode_deliver(sender, submit.text, self.now(), encoding=submit.encoding, concat=submit.concat, smsc=self.smsc)
                target.deliver("deliver", data)
                return
        phone = self.phone(destination)
        concat = submit.concat
        if concat is None or concat.total <= 1:
            phone._receive(ReceivedMessage(sender, destination, submit.text, 1, submit.encoding.value, self.clock()))
            return
        key = (sender, destination, concat.ref, concat.total)
        parts = self._partial.setdefault(key, {})
        parts[concat.seq] = submit.text
        if len(parts) == concat.total:
            del self._partial[key]
            text = "".join(parts[i] for i in sorted(parts))
            phone._receive(ReceivedMessage(sender, destination, text, concat.total, submit.encoding.value, self.clock()))

    # --- shutdown ------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every modem and the network thread; remove the symlinks this network made."""
        with self._wakeup:
            self._closed = True
            self._wakeup.notify_all()
        self._scheduler.join(timeout=5)
        for modem in self.modems:
            modem.stop()
            link = self.link_path(modem)
            if link is not None and link.is_symlink():
                link.unlink()

    def __enter__(self) -> Network:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
