"""Send policy, pure: quiet hours in the recipient's zone, per-SIM pacing caps, retry backoff, clock sync.

Nothing here does I/O except `clock_synchronised()`, which asks the kernel; everything takes `now` (Unix seconds).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.config import QuietHours


@functools.lru_cache(maxsize=4096)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@functools.lru_cache(maxsize=65536)
def number_zone(e164: str) -> str | None:
    """The IANA zone of a number when phonenumbers gives exactly one (a Russian mobile gives 16: None)."""
    import phonenumbers
    from phonenumbers import timezone as pn_timezone

    try:
        zones = pn_timezone.time_zones_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None
    real = [z for z in zones if z != "Etc/Unknown"]
    return real[0] if len(real) == 1 else None


def recipient_zone(e164: str, contact_zone: str | None, office_zone: str) -> ZoneInfo:
    """The contact's stored zone, else the number's single zone, else the office's."""
    for name in (contact_zone, number_zone(e164), office_zone):
        if name and (zone := _zone(name)) is not None:
            return zone
    return ZoneInfo("UTC")


def quiet_until(now: float, zone: ZoneInfo, quiet: QuietHours) -> float | None:
    """When `now` falls in the quiet hours of `zone`, the Unix time they end; otherwise None."""
    if quiet.start == quiet.end:
        return None
    local = datetime.fromtimestamp(now, zone)
    t = local.time()
    overnight = quiet.start > quiet.end  # e.g. 20:00–08:00
    inside = (t >= quiet.start or t < quiet.end) if overnight else (quiet.start <= t < quiet.end)
    if not inside:
        return None
    end_day = local.date() + timedelta(days=1) if overnight and t >= quiet.start else local.date()
    # Wall time → instant in the zone, so a DST change during the night still ends at local 08:00.
    return max(datetime.combine(end_day, quiet.end, tzinfo=zone).timestamp(), now + 1)


def local_midnight(now: float, zone: ZoneInfo, days: int = 0) -> float:
    """Unix time of the start of the local day containing `now`, or `days` later (the day cap counts from it).

    Counted in calendar days, not 86,400 s, so a 23- or 25-hour day (DST) still ends at local midnight.
    """
    local = datetime.fromtimestamp(now, zone)
    return datetime.combine(local.date() + timedelta(days=days), time(0), tzinfo=zone).timestamp()


@dataclass(frozen=True)
class Caps:
    """Per-SIM sending caps, counted in submitted parts (what the operator counts)."""

    per_minute: int
    per_hour: int
    per_day: int

    def wait(self, now: float, recent: "Recent", parts: int) -> float:
        """Seconds until `parts` more parts fit every window (0 when they fit now; inf if never today)."""
        waits = [0.0]
        for cap, count, oldest, span in (
            (self.per_minute, recent.minute, recent.minute_oldest, 60.0),
            (self.per_hour, recent.hour, recent.hour_oldest, 3600.0),
        ):
            # A message with more parts than the cap goes alone in an empty window, or it would never go.
            if count and count + parts > cap:
                waits.append(max(0.0, (oldest or now) + span - now))
        if recent.day and recent.day + parts > self.per_day:
            waits.append(max(0.0, recent.day_ends - now))
        return max(waits)


@dataclass(frozen=True)
class Recent:
    """Parts a modem submitted in the trailing minute and hour and since local midnight (from the store)."""

    minute: int
    minute_oldest: float | None
    hour: int
    hour_oldest: float | None
    day: int
    day_ends: float


def spacing(per_minute: int, rng: random.Random) -> float:
    """A jittered gap between two submissions: the even spacing of the minute cap, ±30 %.

    Operators flag a SIM that fires bursts; an irregular, even rhythm looks like a person's phone.
    """
    if per_minute <= 0:
        return 0.0
    return 60.0 / per_minute * rng.uniform(0.7, 1.3)


def backoff(attempt: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Delay before retry number `attempt` (1-based): exponential with full jitter in the upper half."""
    ceiling = min(max_s, base_s * 2 ** max(0, attempt - 1))
    return rng.uniform(ceiling / 2, ceiling)


_TIME_ERROR = 5  # adjtimex() return value: the clock is not synchronised (include/uapi/linux/timex.h)


class _Timex(ctypes.Structure):
    # struct timex is 208 bytes on 64-bit Linux; `modes` first and zero = read only. Padding covers both ABIs.
    _fields_ = [("modes", ctypes.c_uint), ("_rest", ctypes.c_byte * 252)]


def clock_synchronised() -> bool:
    """Whether the kernel says NTP has synchronised the system clock (what `timedatectl` reports).

    A Pi has no real-time clock: until NTP answers after boot, the clock may be days off, and bulk sending
    must wait, or quiet hours would be computed on a wrong time.
    """
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        result = libc.adjtimex(ctypes.byref(_Timex()))
    except (OSError, AttributeError):
        return False
    return result not in (-1, _TIME_ERROR)
