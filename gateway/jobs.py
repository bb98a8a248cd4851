"""Scheduled work: due campaigns (start times, recurring schedules), the automations and the retention purge.

The only module that imports APScheduler (3.x). The scheduler only *ticks*: every TICK_S seconds `tick()` reads
the injected clock and does whatever is due. Which occurrence of a recurring campaign is due is a pure function
of (schedule, last fired, now) — `due_occurrence` — and `campaigns.fire` records each fired occurrence under a
unique key before it queues anything, so a double tick, a restart or a clock step back never fires one twice.
A missed occurrence (gateway off) fires late only within GRACE_S; older ones are skipped, not caught up in a burst.

Automations are built-in recurring campaigns linked by name (`campaigns.automation`), configured in the settings
table under `automation.<name>` (JSON, merged over `AUTOMATIONS` defaults), off unless enabled.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from gateway import campaigns, contacts, store, templates
from gateway.campaigns import CampaignState, Schedule
from gateway.config import Config
from gateway.errors import UserInputError
from gateway.store import campaigns as cstore

log = logging.getLogger("gateway.jobs")
TICK_S = 30.0
GRACE_S = 6 * 3600.0
MIN_INTERVAL_S = 3600.0
_MAX_STEPS = 10_000


# --- the pure schedule arithmetic ----------------------------------------------------------------------------------


def _trigger(cron: str, zone: str) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(cron, timezone=ZoneInfo(zone))
    except (ValueError, TypeError) as exc:
        raise UserInputError(f"schedule {cron!r} is not a cron line 'minute hour day month weekday' "
                             f"(e.g. '0 10 1 * *' = the 1st of each month at 10:00): {exc}") from None


def next_occurrence(cron: str, zone: str, after: float) -> float | None:
    """The first occurrence strictly after `after` (Unix seconds), or None when there is none."""
    trigger = _trigger(cron, zone)
    start = datetime.fromtimestamp(after, ZoneInfo(zone)) + timedelta(seconds=1)
    nxt = trigger.get_next_fire_time(None, start.replace(microsecond=0))
    return nxt.timestamp() if nxt else None


def due_occurrence(cron: str, zone: str, last_fired: float | None, started: float, now: float,
                   grace: float = GRACE_S) -> float | None:
    """The latest occurrence in (max(last_fired, started), now] that is at most `grace` old, or None."""
    after = max(last_fired if last_fired is not None else started - 1, started - 1, now - grace - 1)
    latest = None
    t = next_occurrence(cron, zone, after)
    steps = 0
    while t is not None and t <= now and steps < _MAX_STEPS:
        latest, steps = t, steps + 1
        t = next_occurrence(cron, zone, t)
    return latest


def check_cron(cron: str, zone: str) -> None:
    """Raise UserInputError unless the line parses and fires at most once an hour."""
    now = datetime.now(ZoneInfo(zone)).timestamp()
    first = next_occurrence(cron, zone, now)
    second = next_occurrence(cron, zone, first) if first else None
    if first is None:
        raise UserInputError(f"schedule {cron!r} never fires")
    if second is not None and second - first < MIN_INTERVAL_S:
        raise UserInputError("a recurring campaign may fire at most once an hour / не чаще раза в час")


# --- automations ---------------------------------------------------------------------------------------------------

AUTOMATIONS: dict[str, dict[str, Any]] = {
    "birthday": {
        "enabled": False, "name": "Поздравление с днём рождения", "class": "advertising", "cron": "0 10 * * *",
        "filters": {"birthday_today": True, "role": ["customer", "agent"]}, "coupons": True, "coupon_prefix": "BD",
        "body": "{first_name}, с днём рождения! Дарим купон {coupon} на подарок к заказу. {agent_name}. {stop_hint}",
    },
    "agent_nudge": {
        "enabled": False, "name": "Напоминание агентам без заказов", "class": "service", "cron": "0 11 * * 1",
        "days": 14, "filters": {"role": ["agent"]},
        "body": "{first_name}, у вас не было заказов больше двух недель. Приём заказов открыт — пришлите заказ SMS.",
    },
    "order_followup": {
        "enabled": False, "name": "Отзыв после заказа", "class": "service", "cron": "0 12 * * *", "days": 7,
        "filters": {"role": ["customer"]},
        "body": "{first_name}, как вам ваш заказ? Если есть вопросы, {agent_name} поможет: {agent_phone}.",
    },
    "intake_reminder": {
        "enabled": False, "name": "Приём заказов открыт", "class": "service", "cron": "0 10 1 * *",
        "filters": {"role": ["agent"]},
        "body": "{first_name}, приём заказов на новый каталог открыт. Присылайте заказы SMS.",
    },
}


def automation_settings(db: store.Database, name: str) -> dict[str, Any]:
    """An automation's settings: the stored `automation.<name>` JSON over the defaults."""
    stored = cstore.get_setting(db, f"automation.{name}")
    return {**AUTOMATIONS[name], **(stored if isinstance(stored, dict) else {})}


def configure_automation(db: store.Database, name: str, changes: Mapping[str, Any], *, now: float,
                         zone: str = "Europe/Moscow") -> None:
    """Change an automation's settings (enabled, cron, body, days …); takes effect at the next tick.

    Checked like any campaign's: the schedule fires at most once an hour, the text is a valid template and
    touches no restricted category — an automation runs unattended, so a mistake here repeats itself.
    """
    if name not in AUTOMATIONS:
        raise UserInputError(f"unknown automation {name!r}; known: {', '.join(AUTOMATIONS)}")
    unknown = set(changes) - set(AUTOMATIONS[name])
    if unknown:
        raise UserInputError(f"unknown automation setting(s): {', '.join(sorted(unknown))}")
    if "cron" in changes:
        check_cron(str(changes["cron"]), zone)
    if "body" in changes:
        templates.compile_template(str(changes["body"]))
        hits = campaigns.check_restricted(db, str(changes["body"]))
        if hits:
            raise UserInputError(f"the text touches a restricted category: {hits[0].label}")
    if "days" in changes and not (isinstance(changes["days"], int) and 1 <= changes["days"] <= 365):
        raise UserInputError("days must be a whole number from 1 to 365")
    stored = cstore.get_setting(db, f"automation.{name}")
    cstore.set_setting(db, f"automation.{name}", {**(stored if isinstance(stored, dict) else {}), **changes}, now)


def sync_automations(db: store.Database, config: Config, now: float) -> None:
    """Make each automation's campaign match its settings: created when first enabled, paused when disabled."""
    for name in AUTOMATIONS:
        s = automation_settings(db, name)
        filters = dict(s["filters"])
        if name == "agent_nudge":
            filters["no_order_days"] = int(s["days"])
        if name == "order_followup":
            filters["order_days_ago"] = int(s["days"])
        current = cstore.campaign_by_automation(db, name)
        if current is None:
            if not s["enabled"]:
                continue
            try:
                cid = campaigns.create(db, config, name=s["name"], message_class=s["class"], kind="bulk", now=now,
                                       actor="automation", body=s["body"], filters=filters,
                                       with_coupons=bool(s.get("coupons")), coupon_prefix=s.get("coupon_prefix", ""),
                                       schedule="recurring", cron=s["cron"], automation=name)
                campaigns.start(db, config, cid, now=now, actor="automation", acknowledge_legal=True)
            except UserInputError as exc:
                log.warning("automation %s cannot start: %s", name, exc)
            continue
        wanted = {"body": s["body"], "filters": filters, "cron": s["cron"]}
        if any(current[k] != v for k, v in wanted.items()):
            cstore.update_campaign(db, current["id"], wanted, now)
        if s["enabled"] and current["state"] == CampaignState.PAUSED:
            campaigns.resume(db, current["id"], now=now, actor="automation")
        elif not s["enabled"] and current["state"] in (CampaignState.SCHEDULED, CampaignState.RUNNING):
            campaigns.pause(db, current["id"], now=now, actor="automation")


# --- the tick ------------------------------------------------------------------------------------------------------


@dataclass
class TickReport:
    """What one tick did."""

    fired: list[tuple[int, str]] = field(default_factory=list)
    finished: list[int] = field(default_factory=list)
    purged: tuple[int, int] | None = None


def tick(db: store.Database, config: Config, now: float) -> TickReport:
    """Do everything due at `now`: automations, campaign occurrences, finished campaigns, the daily retention."""
    report = TickReport()
    sync_automations(db, config, now)
    zone = config.office.timezone
    for c in cstore.list_campaigns(db, states=[CampaignState.SCHEDULED, CampaignState.RUNNING], limit=10_000):
        if c["state"] == CampaignState.SCHEDULED:
            occurrence, when = _due(c, zone, now)
            if occurrence is not None:
                result = campaigns.fire(db, config, c["id"], occurrence, now=now, scheduled_for=when)
                if result is not None:
                    report.fired.append((c["id"], occurrence))
                    log.info("campaign %d occurrence %s: %d queued, %d targeted", c["id"], occurrence,
                             result.queued, result.targeted)
        if campaigns.finish_if_done(db, c["id"], now):
            report.finished.append(c["id"])
    day = datetime.fromtimestamp(now, ZoneInfo(zone)).date().isoformat()
    if cstore.mark_job(db, f"retention:{day}", now):
        report.purged = contacts.purge(db, now, config=config)
    return report


def _due(c: dict[str, Any], zone: str, now: float) -> tuple[str | None, float | None]:
    """The occurrence key and time due now for a scheduled campaign, or (None, None)."""
    if c["schedule"] == Schedule.AT:
        return ("once", c["start_at"]) if c["start_at"] is not None and c["start_at"] <= now else (None, None)
    if c["schedule"] == Schedule.NOW:
        return "once", now
    when = due_occurrence(c["cron"], zone, c["last_fired_at"], c["start_at"] or c["created_at"], now)
    return (str(int(when)), when) if when is not None else (None, None)


class Jobs:
    """The running scheduler: ticks `tick()` on its own connection every TICK_S seconds."""

    def __init__(self, config: Config, clock: Callable[[], float], interval: float = TICK_S) -> None:
        self.config, self.clock = config, clock
        self._lock = threading.Lock()
        self.scheduler = BackgroundScheduler(timezone=ZoneInfo(config.office.timezone))
        self.scheduler.add_job(self.tick_now, "interval", seconds=interval, id="tick", max_instances=1,
                               coalesce=True, next_run_time=datetime.now(ZoneInfo(config.office.timezone)))

    def tick_now(self) -> TickReport | None:
        """One tick on a fresh connection; errors are logged, never raised into the scheduler."""
        with self._lock:
            db = store.connect(self.config.database.path)
            try:
                return tick(db, self.config, self.clock())
            except Exception:
                log.exception("scheduled jobs failed; they run again at the next tick")
                return None
            finally:
                db.close()

    def start(self) -> "Jobs":
        """Start ticking in the background."""
        self.scheduler.start()
        return self

    def stop(self) -> None:
        """Stop ticking; waits for a running tick."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)


def start(config: Config, *, clock: Callable[[], float]) -> Jobs:
    """Start the scheduler for the daemon; the returned object's stop() ends it."""
    return Jobs(config, clock).start()


__all__ = ["AUTOMATIONS", "Jobs", "TickReport", "check_cron", "configure_automation", "due_occurrence",
           "next_occurrence", "start", "sync_automations", "tick"]
