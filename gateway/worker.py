"""One worker thread per modem, and the supervisor that finds modems by identity.

The worker owns its serial port; nothing else touches it. Its loop: drain URCs (new messages, status reports)
→ store inbound and delete from the SIM after the commit → claim the next message → send it part by part,
committing each part's reference → health and sweep on their periods → sleep until work is due or woken.

The supervisor expands the configured ports (paths or globs), asks each unowned port for its IMEI and hands it
to the worker of that IMEI — so a modem that comes back under another /dev name is recognised, and two modems
are never mixed up. A worker whose modem vanishes closes the port at once and waits for the supervisor.
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway import at, inbound, outbox, overrides, policy, profiles, sms, store
from gateway.config import Config, ModemConfig
from gateway.errors import CommandFailed, ModemError, ModemGone, ModemTimeout
from gateway.modem import ModemSession, PinRefused, SubmitUnknown
from gateway.states import ModemStatus, OutState, PartState, Priority
from gateway.store import modems as store_modems
from gateway.store import inbox as box
from gateway.store import outbox as q

log = logging.getLogger("gateway.worker")

HEALTH_PERIOD_S = 30.0
SWEEP_PERIOD_S = 60.0
RESCAN_PERIOD_S = 5.0
PROBE_BACKOFF_MAX_S = 300.0
STOP_BUDGET_S = 75.0  # systemd/smsgw.service gives TimeoutStopSec=90

InboundHandler = Callable[[store.Database, int], None]

# +CMS codes that mean "this SIM cannot send now", whatever the message (modem-behaviour.md §9.1):
# 8 operator-determined barring, 10 call barred, 50 facility not subscribed, 330 SMSC unknown,
# 331 no network service, 332 network timeout.
SIM_LEVEL_CMS = frozenset({8, 10, 50, 330, 331, 332})


@dataclass
class Wiring:
    """What every worker shares: config, clocks, profile set, hooks and the wake-up event."""

    config: Config
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    clock_ok: Callable[[], bool] = policy.clock_synchronised
    profiles: dict[str, profiles.Profile] = dataclasses.field(default_factory=dict)
    on_inbound: InboundHandler | None = None
    wake: threading.Event = dataclasses.field(default_factory=threading.Event)
    rescan: threading.Event = dataclasses.field(default_factory=threading.Event)
    stopping: threading.Event = dataclasses.field(default_factory=threading.Event)


def _profile_for(wiring: Wiring, entry: ModemConfig, manufacturer: str = "", model: str = "") -> profiles.Profile:
    if entry.profile != "auto":
        return wiring.profiles.get(entry.profile) or profiles.load_profile(entry.profile)
    return profiles.match_profile(manufacturer, model, wiring.profiles)


def _digest(pin: str) -> str:
    return hashlib.sha256(f"smsgw-pin:{pin}".encode()).hexdigest()


def caps_for(profile: profiles.Profile, entry: ModemConfig) -> policy.Caps:
    """The SIM's caps: the profile's defaults with the config's overrides."""
    return policy.Caps(entry.per_minute or profile.per_minute, entry.per_hour or profile.per_hour,
                       entry.per_day or profile.per_day)


class ModemWorker(threading.Thread):
    """The loop of one modem, identified by IMEI; `attach(path)` gives it a port to (re)connect to."""

    def __init__(self, wiring: Wiring, entry: ModemConfig, imei: str) -> None:
        super().__init__(name=f"modem-{entry.name}-{imei[-4:]}", daemon=True)
        self.wiring = wiring
        self.entry = entry
        self.imei = imei
        # One [[modems]] glob may match several modems: tell them apart by the end of the IMEI.
        self.label = entry.name if entry.imei or not glob.has_magic(entry.port) else f"{entry.name}-{imei[-4:]}"
        self.modem_id: int | None = None
        self.path: str | None = None
        self.session: ModemSession | None = None
        self.connected = threading.Event()
        self._attach = threading.Event()
        self._rng = random.Random()
        self._next_health = 0.0
        self._next_sweep = 0.0
        self._next_send = 0.0
        self.heartbeat = wiring.monotonic()
        self.last_error: str | None = None
        self.db: store.Database | None = None
        self.parked: str | None = None  # why this modem is left alone until the daemon restarts
        self._registered = True
        self._rest_until = 0.0
        self._fault_backoff = 0.0
        self._handed_over = False
        self._sr_supported: bool | None = None

    # --- supervisor side ----------------------------------------------------------------------------------

    def attach(self, path: str) -> None:
        """Give the worker the port its modem is on now."""
        self.path = path
        self._attach.set()

    @property
    def busy_path(self) -> str | None:
        """The port this worker holds (or is about to open)."""
        return self.path if (self.connected.is_set() or self._attach.is_set()) else None

    # --- thread -------------------------------------------------------------------------------------------

    def run(self) -> None:
        w = self.wiring
        self.db = store.connect(w.config.database.path)
        try:
            while not w.stopping.is_set():
                self.heartbeat = w.monotonic()
                if not self._attach.wait(0.5):
                    continue
                try:
                    self._connect()
                    self._serve()
                except ModemGone as exc:
                    self._lost(f"modem gone: {exc}")
                except PinRefused as exc:
                    # Never try again on our own: a third wrong PIN locks the SIM behind its PUK. The status
                    # and the refused PIN are recorded before `parked` tells anyone this modem is done with;
                    # a re-attach in between would stop at the remembered PIN in _connect.
                    self._lost(str(exc), status=ModemStatus.ERROR, rescan=False)
                    if self.entry.pin:
                        store_modems.remember_refused_pin(self.db, self.imei, _digest(self.entry.pin), w.clock())
                    self.parked = str(exc)
                    log.error("%s; this modem is left alone until the configuration is fixed", exc)
                except (ModemError, OSError) as exc:
                    self._lost(f"modem error: {exc}", status=ModemStatus.ERROR)
                except Exception:  # never let one bad surprise kill the modem's thread
                    log.exception("worker %s crashed; reconnecting", self.name)
                    self._lost("internal error (see the log)", status=ModemStatus.ERROR)
        finally:
            if self.session:
                self.session.close()
            if self.modem_id is not None:
                try:
                    store_modems.update_status(self.db, self.modem_id, w.clock(), status=str(ModemStatus.OFFLINE),
                                               last_error="gateway stopped")
                except Exception:
                    log.exception("cannot record the modem's status")
            self.db.close()

    def _lost(self, reason: str, status: ModemStatus = ModemStatus.OFFLINE, rescan: bool = True) -> None:
        if self.session:
            self.session.close()
        self.session = None
        self.connected.clear()
        self._attach.clear()
        self.last_error = reason
        log.warning("%s (%s): %s", self.label, self.path, reason)
        if self.modem_id is None and self.db is not None:  # never got as far as init: still show it to staff
            self.modem_id = store_modems.upsert_identity(self.db, self.imei, self.wiring.clock(), name=self.label,
                                                         port=self.path)
        if self.modem_id is not None and self.db is not None:
            try:
                store_modems.update_status(self.db, self.modem_id, self.wiring.clock(), status=str(status),
                                           last_error=reason)
            except Exception:  # the database may be what failed
                log.exception("cannot record the modem's status")
        if rescan:
            self.wiring.rescan.set()  # the supervisor rescans at once

    def _connect(self) -> None:
        w, db = self.wiring, self.db
        assert self.path and db is not None
        profile = _profile_for(w, self.entry)
        pin = self.entry.pin
        if pin and store_modems.refused_pin(db, self.imei) == _digest(pin):
            raise PinRefused(f"{self.path}: the SIM already refused the configured PIN once; "
                             "fix `pin` in the config (the same PIN is never tried twice)")
        session = ModemSession(self.path, profile, baudrate=self.entry.baudrate, pin=pin,
                               monotonic=w.monotonic, on_activity=self._beat)
        session.open()
        self.session = session
        session.initialise()
        ident = session.identity()
        if ident.imei != self.imei:
            raise ModemGone(f"{self.path} now holds IMEI {ident.imei}, not {self.imei}")
        if self.entry.profile == "auto":
            matched = _profile_for(w, self.entry, ident.manufacturer, ident.model)
            if matched.name != profile.name:
                session.reconfigure(matched)  # its URC filter, quirks, storage, CNMI and vendor init
        self.profile = session.profile
        self.caps = caps_for(session.profile, self.entry)
        self.rules = outbox.ClaimPolicy(w.config, self.caps, clock_ok=w.clock_ok, rng=self._rng)
        now = w.clock()
        self.modem_id = store_modems.upsert_identity(
            db, ident.imei, now, imsi=ident.imsi, iccid=ident.iccid, name=self.label,
            manufacturer=ident.manufacturer, model=ident.model, revision=ident.revision,
            profile=session.profile.name, port=self.path)
        self._check_health()
        session.urcs.clear()  # echoes of our own init (+CPIN: READY after the PIN); the sweep below reads the store
        self.connected.set()
        self.last_error = None
        log.info("%s online on %s: IMEI %s, %s %s, profile %s", self.label, self.path, ident.imei,
                 ident.manufacturer, ident.model, session.profile.name)
        self._next_sweep = 0.0

    def _beat(self) -> None:
        """Called by the session while it waits on the modem: a long +CMGS is not a hung worker."""
        self.heartbeat = self.wiring.monotonic()

    def _check_health(self) -> None:
        assert self.session and self.db is not None and self.modem_id is not None
        h = self.session.health()
        self._registered = h.registered
        # Staff may have changed quiet hours or this modem's pacing in the web page since the last look.
        self.caps = overrides.caps(self.db, self.label, caps_for(self.profile, self.entry))
        self.rules.caps = self.caps
        self.rules.config = overrides.effective_config(self.db, self.wiring.config)
        clock_ok = self.rules.bulk_allowed()
        if clock_ok != getattr(self, "_clock_ok_seen", True):
            if clock_ok:
                log.info("the system clock is synchronised: bulk messages may go")
            else:
                log.warning("the system clock is not synchronised (no NTP yet): bulk and advertising messages "
                            "wait; transactional ones still go")
        self._clock_ok_seen = clock_ok
        store_modems.update_status(
            self.db, self.modem_id, self.wiring.clock(), status=str(ModemStatus.ONLINE), rssi=h.rssi,
            signal_dbm=h.dbm, registration=h.registration, operator=h.operator, port=self.path, last_error=None)
        # Not registered: look again soon, and claim nothing meanwhile (a submit would only fail with 331).
        self._next_health = self.wiring.monotonic() + (HEALTH_PERIOD_S if h.registered else 5.0)

    def _serve(self) -> None:
        w = self.wiring
        session = self.session
        assert session is not None and self.db is not None
        while not w.stopping.is_set():
            self.heartbeat = w.monotonic()
            self._handle_urcs(session.poll_urcs(0))
            mono = w.monotonic()
            if mono >= self._next_health:
                self._check_health()
            if mono >= self._next_sweep:
                self._sweep()
            now = w.clock()
            gap = policy.spacing(self.caps.per_minute, self._rng)
            if self._next_send - now > 2 * gap:  # the wall clock stepped back: don't stall on it
                self._next_send = now
            if not self._registered or mono < self._rest_until:
                wait = 1.0
            elif now >= self._next_send:
                result = outbox.claim(self.db, self.modem_id, now, self.rules)
                if isinstance(result, outbox.Claimed):
                    self._send(result)
                    self._next_send = w.clock() + gap
                    continue
                wait = result.wait
            else:
                wait = min(self._next_send - now, 1.0)
            if w.wake.is_set():
                w.wake.clear()
                continue
            # Block on the port: a URC wakes us at once; new work is picked up within the cap.
            self._handle_urcs(session.poll_urcs(max(0.0, min(wait, 0.25))))

    # --- sending ------------------------------------------------------------------------------------------

    def _send(self, msg: outbox.Claimed) -> None:
        """Send a claimed message part by part; whatever happens, it leaves `sending` with an honest state."""
        self._handed_over = False
        try:
            self._send_parts(msg)
        except BaseException as exc:
            db, now = self.db, self.wiring.clock()
            row = q.get(db, msg.id) if db is not None else None
            if db is not None and row is not None and row["state"] == OutState.SENDING:
                if self._handed_over:  # a part may have left the modem: never resend blindly
                    self._uncertain(msg, f"interrupted after a part was handed to the modem: {exc}")
                else:
                    q.retry_later(db, msg.id, now, f"interrupted before sending: {exc}", now)
            raise

    def _send_parts(self, msg: outbox.Claimed) -> None:
        w, db, session = self.wiring, self.db, self.session
        assert db is not None and session is not None and self.modem_id is not None
        done = q.active_parts(db, msg.id)
        reference = msg.concat_ref
        series = max((p["series"] for p in done), default=1)
        if done and (any(p["modem_id"] != self.modem_id for p in done) or
                     (msg.parts_total > 1 and reference is None)):
            # Parts from another SIM (or with a lost reference) cannot be joined with ours: send it all again.
            series, done = q.start_series(db, msg.id), []
        if msg.parts_total > 1 and (reference is None or not done):
            reference = store_modems.next_concat_ref(db, self.modem_id)
        try:
            pdus = sms.encode_submit(msg.phone, msg.body, reference=reference or 0, request_report=True)
        except ValueError as exc:  # a row no modem could ever send: fail it, never retry it forever
            q.finish(db, msg.id, OutState.FAILED, w.clock(), f"cannot be encoded as SMS: {exc}")
            log.warning("message %d cannot be encoded: %s", msg.id, exc)
            return
        q.set_concat(db, msg.id, reference if len(pdus) > 1 else None, len(pdus))
        already = {p["seq"] for p in done}
        for pdu in pdus:
            if pdu.part in already:
                continue
            if w.stopping.is_set() and self._handed_over:
                # Stopping between parts: what went out is recorded; the rest goes after the restart,
                # from this SIM with the same reference, so the phone still joins the message.
                q.retry_later(db, msg.id, w.clock(), "stopped between parts", w.clock())
                return
            try:
                mr = session.send_pdu(pdu.hex, pdu.tpdu_length)
            except SubmitUnknown as exc:
                self._handed_over = True
                self._uncertain(msg, str(exc))
                if isinstance(exc.__cause__, ModemGone):
                    raise exc.__cause__ from None
                return
            except CommandFailed as exc:
                self._failed_attempt(msg, exc)
                return
            except ModemTimeout as exc:  # no prompt: cancelled with ESC, nothing left the modem
                outbox.retry_or_fail(db, w.config, msg.id, msg.attempts, str(exc), w.clock(), self._rng)
                return
            except ModemGone:
                q.retry_later(db, msg.id, w.clock(), "modem gone before the part was sent", w.clock())
                raise
            self._handed_over = True
            q.record_part(db, msg.id, pdu.part, self.modem_id, mr, w.clock(), series)
            self.heartbeat = w.monotonic()
        q.mark_sent(db, msg.id, w.clock())
        self._fault_backoff = 0.0
        log.info("message %d sent via %s: %d part(s)", msg.id, self.label, len(pdus))

    def _failed_attempt(self, msg: outbox.Claimed, exc: CommandFailed) -> None:
        w, db = self.wiring, self.db
        final = exc.final
        assert db is not None
        reason = f"{final.text.strip() or final.kind}: {final.description}" if isinstance(final, at.Final) \
            else str(exc)
        code = final.code if isinstance(final, at.Final) else None
        klass = final.error_class if isinstance(final, at.Final) else at.ErrorClass.TRANSIENT
        if klass == at.ErrorClass.MODEM_FAULT or code in SIM_LEVEL_CMS:
            # The SIM or the network is the problem, not this message: give the attempt back, let another
            # modem take it, and rest this one.
            q.retry_later(db, msg.id, w.clock(), reason, w.clock())
            db.execute("UPDATE outbox SET attempts = max(0, attempts - 1) WHERE id = ?", [msg.id])
            self._rest(f"cannot send ({reason})")
            return
        if klass == at.ErrorClass.PERMANENT:
            q.finish(db, msg.id, OutState.FAILED, w.clock(), reason)
            log.warning("message %d failed permanently: %s", msg.id, reason)
            return
        state = outbox.retry_or_fail(db, w.config, msg.id, msg.attempts, reason, w.clock(), self._rng)
        log.info("message %d attempt %d failed (%s): %s", msg.id, msg.attempts, reason, state)

    def _rest(self, reason: str) -> None:
        """Stop claiming for a while (doubling up to 5 min); health is checked again before the next claim."""
        self._fault_backoff = min(300.0, max(5.0, self._fault_backoff * 2))
        self._rest_until = self.wiring.monotonic() + self._fault_backoff
        self._next_health = 0.0
        self.last_error = reason
        log.warning("%s: %s; not sending for %.0f s", self.label, reason, self._fault_backoff)
        if self.db is not None and self.modem_id is not None:
            store_modems.update_status(self.db, self.modem_id, self.wiring.clock(), last_error=reason)

    def _uncertain(self, msg: outbox.Claimed, reason: str) -> None:
        w, db = self.wiring, self.db
        assert db is not None
        if msg.priority == Priority.TRANSACTIONAL and w.config.sending.uncertain_transactional == "retry" \
                and msg.attempts < w.config.sending.max_attempts:
            q.retry_later(db, msg.id, w.clock(), f"{reason}; resent by policy", w.clock())
        else:
            q.finish(db, msg.id, OutState.UNCERTAIN, w.clock(), reason)
        log.warning("message %d: %s", msg.id, reason)

    # --- receiving ----------------------------------------------------------------------------------------

    def _handle_urcs(self, urcs: list[at.Urc]) -> None:
        for urc in urcs:
            try:
                self._handle_urc(urc)
            except (CommandFailed, ModemTimeout) as exc:
                log.warning("%s: handling %s failed: %s", self.label, urc.name, exc)

    def _handle_urc(self, urc: at.Urc) -> None:
        session = self.session
        assert session is not None
        if urc.name in ("+CMTI", "+CDSI"):
            fields = at.parse_fields(urc.args)
            try:
                memory, index = fields[0].strip('"'), int(fields[1])
            except (IndexError, ValueError):
                log.warning("%s: malformed %s", self.label, urc.name)
                return
            if memory != self.profile.storage:
                session.select_storage(memory)
            try:
                stored = session.read_message(index)
                if stored is not None:
                    self._take(stored.pdu)
                    session.delete_message(index)
            finally:
                if memory != self.profile.storage:
                    session.select_storage(self.profile.storage)
        elif urc.name in ("+CMT", "+CDS") and urc.data:
            self._take(urc.data)
        elif urc.name == "RDY" or (urc.name == "+CPIN" and "READY" in urc.line.upper()):
            # The modem rebooted (power dip): its settings are back at defaults; reconnect from scratch.
            raise ModemGone("the modem restarted")

    def _take(self, pdu: str) -> None:
        """Commit what a PDU carries (status report or inbound part) before the caller deletes it."""
        db, now = self.db, self.wiring.clock()
        assert db is not None
        try:
            decoded = sms.decode(pdu)
        except sms.PduError:
            decoded = None
        if isinstance(decoded, sms.StatusReport):
            part_state = {sms.DeliveryClass.DELIVERED: PartState.DELIVERED,
                          sms.DeliveryClass.PENDING: PartState.PENDING}.get(decoded.status_class, PartState.FAILED)
            with store.immediate(db):
                message_id = q.apply_report(db, self.modem_id, decoded.reference, str(part_state), decoded.status,
                                            now, recipient=decoded.recipient)
            log.debug("status report mr=%d → %s (message %s)", decoded.reference, part_state, message_id)
            return
        inbox_id = inbound.accept_pdu(db, self.modem_id, pdu, now)
        if inbox_id is not None:
            self._dispatch(inbox_id)

    def _dispatch(self, inbox_id: int) -> None:
        """Hand a complete inbound message to the command layer; its failure never loses the stored message."""
        if self.wiring.on_inbound is None:
            return
        try:
            self.wiring.on_inbound(self.db, inbox_id)
        except Exception:  # a command bug must not kill the worker; the message stays `new` for a later run
            log.exception("handling inbound message %d failed", inbox_id)

    def _sweep(self) -> None:
        """List the store: catches what arrived while we were down or whose URC was lost."""
        session = self.session
        assert session is not None and self.db is not None
        self._next_sweep = self.wiring.monotonic() + SWEEP_PERIOD_S
        for stored in session.list_messages(4):
            if stored.stat in (2, 3):  # stored unsent/sent SUBMITs are not ours to handle
                continue
            self._take(stored.pdu)
            session.delete_message(stored.index)
        self._sweep_status_reports()
        for inbox_id in inbound.flush_partial(self.db, self.wiring.clock()):
            self._dispatch(inbox_id)
        # Messages stored but not handled (a command failed on a busy database): try them again.
        for inbox_id in box.unhandled(self.db, self.modem_id, self.wiring.clock() - SWEEP_PERIOD_S):
            self._dispatch(inbox_id)

    def _sweep_status_reports(self) -> None:
        """Reports stored in "SR" whose +CDSI was lost would fill that memory for good: read and delete them."""
        session = self.session
        assert session is not None
        if self._sr_supported is False or self.profile.storage == "SR":
            return
        try:
            session.select_storage("SR")
        except CommandFailed:
            self._sr_supported = False  # this modem keeps reports elsewhere (or not at all)
            return
        self._sr_supported = True
        try:
            for stored in session.list_messages(4):
                self._take(stored.pdu)
                session.delete_message(stored.index)
        finally:
            session.select_storage(self.profile.storage)


class Supervisor:
    """Finds configured modems by IMEI and keeps one worker per modem."""

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.time,
                 stopping: threading.Event | None = None, clock_ok: Callable[[], bool] | None = None,
                 on_inbound: InboundHandler | None = None, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.wiring = Wiring(config, clock=clock, monotonic=monotonic, profiles=profiles.load_all(),
                             on_inbound=on_inbound, stopping=stopping or threading.Event())
        if clock_ok is not None:
            self.wiring.clock_ok = clock_ok
        self.workers: dict[str, ModemWorker] = {}
        self._probe_after: dict[str, tuple[float, float]] = {}  # real path → (next probe time, backoff)
        self._port_imei: dict[str, str] = {}
        self._scan_lock = threading.Lock()  # real path → IMEI it answered with (a modem's other AT ports)
        self._thread = threading.Thread(target=self._run, name="modem-supervisor", daemon=True)

    def start(self) -> None:
        """Start scanning for modems."""
        if not self.wiring.config.modems:
            log.warning("no [[modems]] configured: nothing will be sent until one is added to the config")
        self._thread.start()

    def stop(self) -> None:
        """Stop every worker and wait for them."""
        self.wiring.stopping.set()
        self.wiring.rescan.set()
        # One budget for everyone, inside systemd's TimeoutStopSec: a worker finishes the part it is sending.
        deadline = self.wiring.monotonic() + STOP_BUDGET_S
        self._thread.join(timeout=10)
        for worker in list(self.workers.values()):
            worker.join(timeout=max(0.1, deadline - self.wiring.monotonic()))

    def poke(self) -> None:
        """New work or a change: wake the workers and the scanner."""
        self.wiring.wake.set()
        self.wiring.rescan.set()

    def healthy(self, max_age: float = 120.0) -> bool:
        """Every worker's loop turned recently (the systemd watchdog is fed only then)."""
        now = self.wiring.monotonic()
        return self._thread.is_alive() and all(
            w.is_alive() and now - w.heartbeat < max_age for w in list(self.workers.values()))

    def _run(self) -> None:
        while not self.wiring.stopping.is_set():
            try:
                self.scan()
            except Exception:
                log.exception("modem scan failed")
            self.wiring.rescan.wait(RESCAN_PERIOD_S)
            self.wiring.rescan.clear()

    def scan(self) -> None:
        """Probe configured ports nobody holds; hand each to the worker of the IMEI it answers with."""
        with self._scan_lock:  # the scanner thread and a caller (poke, tests) never probe the same port at once
            self._scan()

    def _scan(self) -> None:
        held = {os.path.realpath(p) for w in list(self.workers.values()) if (p := w.busy_path or
                                                                             (w.path if w.parked else None))}
        now = self.wiring.monotonic()
        for entry in self.wiring.config.modems:
            for path in sorted(glob.glob(entry.port)) if glob.has_magic(entry.port) else [entry.port]:
                real = os.path.realpath(path)
                if real in held or not os.path.exists(path):
                    continue
                owner = self.workers.get(self._port_imei.get(real, ""))
                if owner is not None and (owner.connected.is_set() or owner.parked):
                    continue  # another AT port of a modem in use: probing it would disturb that modem
                next_probe, backoff = self._probe_after.get(real, (0.0, 1.0))
                if now < next_probe:
                    continue
                imei = self._probe(path, entry)
                if imei is None:
                    backoff = min(backoff * 2, PROBE_BACKOFF_MAX_S)
                    self._probe_after[real] = (now + backoff, backoff)
                    continue
                self._probe_after.pop(real, None)
                self._port_imei[real] = imei
                if entry.imei and entry.imei != imei:
                    continue
                worker = self.workers.get(imei)
                if worker is None:
                    worker = ModemWorker(self.wiring, entry, imei)
                    self.workers[imei] = worker
                    worker.attach(path)
                    worker.start()
                elif worker.busy_path is None and not worker.parked:
                    worker.attach(path)
                else:
                    continue
                held.add(real)

    def _probe(self, path: str, entry: ModemConfig) -> str | None:
        profile = _profile_for(self.wiring, entry)
        session = ModemSession(path, profile, baudrate=entry.baudrate, monotonic=self.wiring.monotonic)
        try:
            session.open()
            session.sync(attempts=3)
            session.command("ATE0")
            return session.identity().imei or None
        except ModemError as exc:
            log.info("probing %s: %s", path, exc)
            return None
        finally:
            session.close()
