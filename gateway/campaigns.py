"""Campaigns: a segment, a template and a schedule become personal outbox messages, measured and never sent at night.

Life of a campaign (`CampaignState`): draft → scheduled (start at a time, or recurring) or running (fired) →
done; paused and resumed; cancelled; held when its text matches a restricted advertising category, until an admin
overrides. An advertising campaign starts only after staff acknowledged the consent rules and legal notice.

Each firing is one *occurrence* ("once" for a one-off; the scheduled Unix time for a recurring one), recorded under
a unique key before anything is queued, and every message carries `campaign:{id}:{occurrence}:{contact}` as its
idempotency key: an occurrence can never fire twice, whatever the scheduler does. A firing resolves the segment,
screens each contact (opted out, no advertising consent, paused for review, ownership conflict: skipped and
counted), assigns coupons, renders and queues everything in one transaction. Quiet hours, consent and opt-out are
checked again when each message is claimed (`gateway.outbox`), so a STOP after queueing still wins.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from gateway import coupons, segments, sms, store, templates
from gateway.config import Config
from gateway.errors import UserInputError
from gateway.states import MessageClass, Priority
from gateway.store import campaigns as cstore
from gateway.store import users

RESTRICTED_PATH = Path(__file__).with_name("data") / "restricted.toml"
DEFAULT_REPLY_WINDOW_S = 3 * 86400.0
PAUSED_REASON = "campaign paused"
PREVIEW_COUPON = "XXXXXXXX"
LEGAL_NOTICE = (
    "Реклама по SMS допускается только с предварительного согласия абонента (38-ФЗ «О рекламе», ст. 18; "
    "126-ФЗ «О связи», ст. 44.1); доказать согласие обязан отправитель. Отказ («СТОП») исполняется немедленно. "
    "Массовая рассылка с SIM-карт абонентов может нарушать ст. 44.1 ч. 2 и условия оператора — проверьте у юриста. "
    "/ Advertising SMS needs the subscriber's prior consent (38-FZ art. 18, 126-FZ art. 44.1); the sender bears the "
    "burden of proof; opt-outs are honoured at once."
)


class CampaignState(StrEnum):
    """Stored state of a campaign."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"  # waits for its start time or next recurring occurrence
    RUNNING = "running"      # fired; its messages are in the outbox
    PAUSED = "paused"        # queued messages held; no new occurrence fires
    HELD = "held"            # restricted content: waits for an admin's override
    DONE = "done"
    CANCELLED = "cancelled"


class Kind(StrEnum):
    """What the campaign sends: bulk (paced, quiet hours), transactional (priority), poll (options, replies)."""

    BULK = "bulk"
    TRANSACTIONAL = "transactional"
    POLL = "poll"


class Schedule(StrEnum):
    """When it fires."""

    NOW = "now"
    AT = "at"
    RECURRING = "recurring"


class Skip(StrEnum):
    """Why a contact of the segment got no message."""

    NO_CONSENT = "no_consent"
    OPTED_OUT = "opted_out"
    CONFLICT = "conflict"
    PAUSED = "paused_for_review"
    TOO_LONG = "too_long"


# --- restricted content --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restricted:
    """A restricted category that a text matched, with the word that matched."""

    category: str
    label: str
    word: str


def restricted_categories(db: store.Database) -> dict[str, dict[str, Any]]:
    """The restricted categories: the admin's setting `campaigns.restricted` if set, else the data file."""
    custom = cstore.get_setting(db, "campaigns.restricted")
    if isinstance(custom, dict) and custom:
        return custom
    with open(RESTRICTED_PATH, "rb") as fh:
        return tomllib.load(fh)


def check_restricted(db: store.Database, text: str) -> list[Restricted]:
    """Restricted categories the text touches (whole words or word beginnings, case- and ё-insensitive)."""
    tokens = re.findall(r"\w+", text.lower().replace("ё", "е"))
    found: list[Restricted] = []
    for name, category in restricted_categories(db).items():
        words = {w.lower().replace("ё", "е") for w in category.get("words", [])}
        stems = tuple(s.lower().replace("ё", "е") for s in category.get("stems", []))
        hit = next((t for t in tokens if t in words or (stems and t.startswith(stems))), None)
        if hit:
            found.append(Restricted(name, str(category.get("label", name)), hit))
    return found


# --- create / edit --------------------------------------------------------------------------------------------


def create(db: store.Database, config: Config, *, name: str, message_class: MessageClass | str, kind: Kind | str,
           now: float, actor: str, body: str | None = None, template: int | str | None = None,
           fallbacks: Mapping[str, str] | None = None, filters: Mapping[str, Any] | None = None,
           segment: int | str | None = None, with_coupons: bool = False, coupon_prefix: str = "",
           schedule: Schedule | str = Schedule.NOW, start_at: float | None = None, cron: str | None = None,
           poll_options: Sequence[str] | None = None, reply_window_s: float | None = None,
           automation: str | None = None) -> int:
    """Create a campaign as a draft (or held, when its text matches a restricted category); returns its id."""
    fields = _checked(db, config, name=name, message_class=message_class, kind=kind, body=body, template=template,
                      fallbacks=fallbacks, filters=filters, segment=segment, with_coupons=with_coupons,
                      coupon_prefix=coupon_prefix, schedule=schedule, start_at=start_at, cron=cron,
                      poll_options=poll_options, reply_window_s=reply_window_s)
    hits = check_restricted(db, fields["body"])
    fields["state"] = CampaignState.HELD if hits else CampaignState.DRAFT
    fields["held_reason"] = _held_reason(hits)
    with store.immediate(db):
        campaign_id = cstore.insert_campaign(db, {**fields, "created_by": actor, "automation": automation}, now)
        users.audit(db, actor, "campaign.create", now, target=str(campaign_id), state=str(fields["state"]))
    return campaign_id


def _held_reason(hits: Sequence[Restricted]) -> str | None:
    if not hits:
        return None
    return "restricted content / ограниченная категория: " + ", ".join(f"{h.label} («{h.word}»)" for h in hits)


def _checked(db: store.Database, config: Config, *, name: str, message_class: MessageClass | str, kind: Kind | str,
             body: str | None, template: int | str | None, fallbacks: Mapping[str, str] | None,
             filters: Mapping[str, Any] | None, segment: int | str | None, with_coupons: bool, coupon_prefix: str,
             schedule: Schedule | str, start_at: float | None, cron: str | None,
             poll_options: Sequence[str] | None, reply_window_s: float | None) -> dict[str, Any]:
    """Validated campaign fields; raises UserInputError naming what is wrong."""
    if not name.strip():
        raise UserInputError("a campaign needs a name / укажите название")
    try:
        message_class, kind, schedule = MessageClass(message_class), Kind(kind), Schedule(schedule)
    except ValueError as exc:
        raise UserInputError(str(exc)) from None
    if kind == Kind.TRANSACTIONAL and message_class == MessageClass.ADVERTISING:
        raise UserInputError("advertising cannot be transactional: it waits its turn and the quiet hours")
    template_id = None
    if template is not None:
        saved = templates.load(db, template)
        template_id, body = saved["id"], body or saved["body"]
        fallbacks = {**saved["fallbacks"], **(fallbacks or {})}
    if body is None:
        raise UserInputError("a campaign needs a text or a template / укажите текст или шаблон")
    compiled = templates.compile_template(body, fallbacks)
    if "coupon" in compiled.fields and not with_coupons:
        raise UserInputError("the text has {coupon} but the campaign issues no coupons")
    segment_id = None
    if segment is not None:
        saved_segment = segments.load(db, segment)
        segment_id, filters = saved_segment["id"], {**saved_segment["filters"], **(filters or {})}
    checked_filters = segments.validate(filters or {})
    if schedule == Schedule.AT and start_at is None:
        raise UserInputError("a scheduled campaign needs a start time")
    if schedule == Schedule.RECURRING:
        from gateway import jobs  # jobs owns the cron arithmetic (it is the only module that imports apscheduler)

        jobs.check_cron(cron or "", config.office.timezone)
    options = [str(o).strip() for o in poll_options or [] if str(o).strip()]
    if kind == Kind.POLL and len(options) < 2:
        raise UserInputError("a poll needs at least two options")
    return {"name": name.strip(), "class": str(message_class), "kind": str(kind), "body": body,
            "fallbacks": dict(fallbacks or {}), "template_id": template_id, "segment_id": segment_id,
            "filters": checked_filters, "coupons": int(with_coupons),
            "coupon_prefix": coupons.check_prefix(coupon_prefix), "schedule": str(schedule),
            "start_at": start_at if schedule == Schedule.AT else None,
            "cron": cron if schedule == Schedule.RECURRING else None, "poll_options": options or None,
            "reply_window_s": reply_window_s if reply_window_s is not None else
            (DEFAULT_REPLY_WINDOW_S if kind == Kind.POLL else None)}


def edit(db: store.Database, config: Config, campaign_id: int, *, now: float, actor: str, **changes: Any) -> None:
    """Change a draft (or held) campaign; arguments as for `create`. A change re-checks restricted content."""
    current = get(db, campaign_id)
    if current["state"] not in (CampaignState.DRAFT, CampaignState.HELD):
        raise UserInputError("only a draft campaign can be edited; pause or cancel it first")
    args = {"name": current["name"], "message_class": current["class"], "kind": current["kind"],
            "body": current["body"], "template": None, "fallbacks": current["fallbacks"],
            "filters": current["filters"], "segment": None, "with_coupons": bool(current["coupons"]),
            "coupon_prefix": current["coupon_prefix"], "schedule": current["schedule"],
            "start_at": current["start_at"], "cron": current["cron"], "poll_options": current["poll_options"],
            "reply_window_s": current["reply_window_s"], **changes}
    fields = _checked(db, config, **args)
    if changes.get("template") is None:
        fields["template_id"] = current["template_id"]
    if changes.get("segment") is None:
        fields["segment_id"] = current["segment_id"]
    hits = check_restricted(db, fields["body"])
    overridden = current["override_by"] is not None and fields["body"] == current["body"]
    fields["state"] = CampaignState.HELD if hits and not overridden else CampaignState.DRAFT
    fields["held_reason"] = _held_reason(hits) if not overridden else current["held_reason"]
    if not overridden:
        fields["override_by"] = None
    with store.immediate(db):
        cstore.update_campaign(db, campaign_id, fields, now)
        users.audit(db, actor, "campaign.edit", now, target=str(campaign_id))


def get(db: store.Database, campaign_id: int) -> dict[str, Any]:
    """A campaign row; raises UserInputError when there is none."""
    row = cstore.get_campaign(db, campaign_id)
    if row is None:
        raise UserInputError(f"no campaign {campaign_id}")
    return row


def list_all(db: store.Database, *, states: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Campaigns, newest first."""
    return cstore.list_campaigns(db, states=states)


# --- preview ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignPreview:
    """What a campaign would send now: who gets it, who is skipped and why, parts, and what staff must read."""

    targeted: int
    skipped: dict[str, int]
    recipients: int
    parts_histogram: dict[int, int]
    total_parts: int
    encodings: dict[str, int]
    samples: tuple[tuple[str, str], ...]
    notice: str | None  # the consent and legal notice of an advertising campaign
    warnings: tuple[str, ...]
    held_reason: str | None


def _screen(recipients: Sequence[segments.Recipient], advertising: bool, bulk: bool,
            ) -> tuple[list[segments.Recipient], Counter[str]]:
    """The contacts that may receive the campaign, and the others counted by reason."""
    ok: list[segments.Recipient] = []
    skipped: Counter[str] = Counter()
    for r in recipients:
        if r.conflict_agent_id is not None:
            skipped[Skip.CONFLICT] += 1
        elif r.opted_out_at is not None and (advertising or bulk):
            skipped[Skip.OPTED_OUT] += 1
        elif advertising and not r.consent_advertising:
            skipped[Skip.NO_CONSENT] += 1
        elif r.bulk_paused_at is not None and bulk:
            skipped[Skip.PAUSED] += 1
        else:
            ok.append(r)
    return ok, skipped


def _plain(counter: Counter[str]) -> dict[str, int]:
    return {str(k): v for k, v in counter.items()}


def preview(db: store.Database, config: Config, campaign_id: int, *, now: float) -> CampaignPreview:
    """Resolve, screen and render the whole segment without queuing anything (coupons shown as XXXXXXXX)."""
    c = get(db, campaign_id)
    advertising = c["class"] == MessageClass.ADVERTISING
    everyone = segments.resolve(db, c["filters"], now=now, zone=config.office.timezone)
    ok, skipped = _screen(everyone, advertising, c["kind"] != Kind.TRANSACTIONAL)
    template = templates.compile_template(c["body"], c["fallbacks"])
    extra = {"coupon": PREVIEW_COUPON} if c["coupons"] else {}
    shown = templates.preview(template, ok, extra={r.id: extra for r in ok} if extra else None)
    warnings = []
    if advertising and "stop_hint" not in template.fields:
        warnings.append("advertising without {stop_hint}: say how to opt out / добавьте {stop_hint}")
    if shown.max_parts > 3:
        warnings.append(f"long messages: up to {shown.max_parts} parts each / длинное сообщение")
    return CampaignPreview(targeted=len(everyone), skipped=_plain(skipped), recipients=shown.recipients,
                           parts_histogram=shown.parts_histogram, total_parts=shown.total_parts,
                           encodings=shown.encodings, samples=shown.samples,
                           notice=LEGAL_NOTICE if advertising else None, warnings=tuple(warnings),
                           held_reason=c["held_reason"] if c["state"] == CampaignState.HELD else None)


# --- start, fire, pause, resume, cancel, override ----------------------------------------------------------------


def start(db: store.Database, config: Config, campaign_id: int, *, now: float, actor: str,
          acknowledge_legal: bool = False) -> CampaignState:
    """Start a draft: fire now, or wait for its time or schedule; advertising needs acknowledge_legal=True."""
    c = get(db, campaign_id)
    if c["state"] == CampaignState.HELD:
        raise UserInputError(f"the campaign is held: {c['held_reason']}; an admin must override it first")
    if c["state"] != CampaignState.DRAFT:
        raise UserInputError(f"the campaign is {c['state']}, not a draft")
    if c["class"] == MessageClass.ADVERTISING and not acknowledge_legal:
        raise UserInputError("confirm the consent rules and legal notice first / подтвердите: " + LEGAL_NOTICE)
    state = CampaignState.SCHEDULED
    fields: dict[str, Any] = {"state": state}
    if c["schedule"] == Schedule.RECURRING:
        fields["start_at"] = now  # occurrences count from the moment it was started
    with store.immediate(db):
        if not cstore.update_campaign(db, campaign_id, fields, now, only_if_state=[CampaignState.DRAFT]):
            raise UserInputError("the campaign changed meanwhile; reload it")
        users.audit(db, actor, "campaign.start", now, target=str(campaign_id), legal_acknowledged=acknowledge_legal)
    if c["schedule"] == Schedule.NOW:
        fire(db, config, campaign_id, "once", now=now)
        state = CampaignState.RUNNING
    return state


@dataclass(frozen=True)
class RunResult:
    """What one occurrence did."""

    occurrence: str
    targeted: int
    queued: int
    skipped: dict[str, int] = field(default_factory=dict)


def fire(db: store.Database, config: Config, campaign_id: int, occurrence: str, *, now: float,
         scheduled_for: float | None = None) -> RunResult | None:
    """Fire one occurrence: screen, coupons, render and queue in one transaction; None if it already fired."""
    with store.immediate(db):
        c = cstore.get_campaign(db, campaign_id)
        if c is None or c["state"] not in (CampaignState.SCHEDULED, CampaignState.RUNNING):
            return None
        run_id = cstore.claim_occurrence(db, campaign_id, occurrence, scheduled_for, now)
        if run_id is None:
            return None  # this occurrence fired before: never twice
        result = _enqueue(db, config, c, occurrence, now)
        cstore.finish_run(db, run_id, result.targeted, result.queued, result.skipped)
        if c["kind"] == Kind.POLL and c["poll_options"]:
            _create_poll(db, c, now)
        state = CampaignState.RUNNING if c["schedule"] != Schedule.RECURRING else CampaignState.SCHEDULED
        cstore.update_campaign(db, campaign_id, {"state": state}, now)
        users.audit(db, "scheduler", "campaign.fire", now, target=str(campaign_id), occurrence=occurrence,
                    targeted=result.targeted, queued=result.queued)
    return result


def _enqueue(db: store.Database, config: Config, c: dict[str, Any], occurrence: str, now: float) -> RunResult:
    """Resolve, screen, assign coupons, render and bulk-insert one occurrence (inside the caller's transaction)."""
    advertising = c["class"] == MessageClass.ADVERTISING
    priority = Priority.TRANSACTIONAL if c["kind"] == Kind.TRANSACTIONAL else Priority.BULK
    everyone = segments.resolve(db, c["filters"], now=now, zone=config.office.timezone)
    ok, skipped = _screen(everyone, advertising, priority == Priority.BULK)
    template = templates.compile_template(c["body"], c["fallbacks"])
    codes = coupons.assign(db, c["id"], occurrence, [r.id for r in ok], now, c["coupon_prefix"]) if c["coupons"] \
        else {}
    cls, cid, creator = str(c["class"]), c["id"], f"campaign:{c['id']}"
    key_prefix = f"campaign:{cid}:{occurrence}:"
    rows = []
    for r in ok:
        values = templates.values_for(template, r, {"coupon": codes[r.id]} if codes else None)
        text = template.render(values)
        shape = sms.plan(text)
        if shape.parts > 255:
            skipped[Skip.TOO_LONG] += 1
            continue
        rows.append((r.phone, r.id, text, cls, int(priority), cid, key_prefix + str(r.id), now, shape.parts,
                     str(shape.encoding), creator, now, now))
    queued = cstore.enqueue_many(db, rows)
    return RunResult(occurrence, len(everyone), queued, _plain(skipped))


def _create_poll(db: store.Database, c: dict[str, Any], now: float) -> None:
    """The poll behind a poll campaign, through the command layer's store (replies are matched there)."""
    try:
        from gateway.store import commands as command_store
    except ImportError:  # the command layer is not part of this build: the poll collects no answers
        return
    window = c["reply_window_s"] or DEFAULT_REPLY_WINDOW_S
    command_store.create_poll(db, c["body"], c["poll_options"], now, now + window, now, campaign_id=c["id"])


def pause(db: store.Database, campaign_id: int, *, now: float, actor: str) -> int:
    """Pause: queued messages are held and no new occurrence fires; returns how many messages were held."""
    with store.immediate(db):
        if not cstore.update_campaign(db, campaign_id, {"state": CampaignState.PAUSED}, now,
                                      only_if_state=[CampaignState.SCHEDULED, CampaignState.RUNNING]):
            raise UserInputError("only a scheduled or running campaign can be paused")
        held = cstore.hold_queued(db, campaign_id, PAUSED_REASON, now)
        users.audit(db, actor, "campaign.pause", now, target=str(campaign_id), held=held)
    return held


def resume(db: store.Database, campaign_id: int, *, now: float, actor: str) -> int:
    """Resume a paused campaign: its held messages queue again; returns how many."""
    with store.immediate(db):
        c = cstore.get_campaign(db, campaign_id)
        if c is None or c["state"] != CampaignState.PAUSED:
            raise UserInputError("only a paused campaign can be resumed")
        fired = bool(cstore.runs(db, campaign_id))
        state = CampaignState.RUNNING if fired and c["schedule"] != Schedule.RECURRING else CampaignState.SCHEDULED
        cstore.update_campaign(db, campaign_id, {"state": state}, now)
        released = cstore.release_held(db, campaign_id, PAUSED_REASON, now)
        users.audit(db, actor, "campaign.resume", now, target=str(campaign_id), released=released)
    return released


def cancel(db: store.Database, campaign_id: int, *, now: float, actor: str) -> int:
    """Cancel: queued and held messages are cancelled, nothing fires again; returns how many were cancelled."""
    with store.immediate(db):
        if not cstore.update_campaign(db, campaign_id, {"state": CampaignState.CANCELLED}, now,
                                      only_if_state=[s for s in CampaignState if s not in
                                                     (CampaignState.CANCELLED, CampaignState.DONE)]):
            raise UserInputError("the campaign is already finished")
        cancelled = cstore.cancel_open(db, campaign_id, "campaign cancelled", now)
        users.audit(db, actor, "campaign.cancel", now, target=str(campaign_id), cancelled=cancelled)
    return cancelled


def override_hold(db: store.Database, campaign_id: int, *, now: float, actor: str) -> None:
    """An admin releases a campaign held for restricted content (the web layer checks the admin role)."""
    with store.immediate(db):
        if not cstore.update_campaign(db, campaign_id, {"state": CampaignState.DRAFT, "override_by": actor}, now,
                                      only_if_state=[CampaignState.HELD]):
            raise UserInputError("the campaign is not held")
        users.audit(db, actor, "campaign.override", now, target=str(campaign_id))


def finish_if_done(db: store.Database, campaign_id: int, now: float) -> bool:
    """Mark a fired one-off campaign done once none of its messages is waiting or in flight."""
    c = cstore.get_campaign(db, campaign_id)
    if c is None or c["state"] != CampaignState.RUNNING or c["schedule"] == Schedule.RECURRING:
        return False
    if cstore.open_messages(db, campaign_id):
        return False
    return cstore.update_campaign(db, campaign_id, {"state": CampaignState.DONE}, now,
                                  only_if_state=[CampaignState.RUNNING])


# --- statistics -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """A campaign's figures. targeted = queued_total + sum(skipped); queued_total = sum of the outbox states."""

    targeted: int
    skipped: dict[str, int]
    queued_total: int
    queued: int     # still waiting: queued, held, sending, uncertain
    sent: int       # accepted by the network, no final report yet
    delivered: int
    failed: int     # failed before the network, or undelivered
    cancelled: int
    cancel_reasons: dict[str, int]
    replied: int
    opted_out_after: int
    coupons_issued: int
    coupons_redeemed: int
    poll: dict[str, int] | None
    runs: int


def stats(db: store.Database, campaign_id: int) -> Stats:
    """Current statistics of a campaign over all its occurrences."""
    c = get(db, campaign_id)
    runs = cstore.runs(db, campaign_id)
    skipped: Counter[str] = Counter()
    for run in runs:
        skipped.update(run["skipped"])
    counts = cstore.message_counts(db, campaign_id)
    issued, redeemed = cstore.coupon_counts(db, campaign_id)
    return Stats(
        targeted=sum(r["targeted"] for r in runs), skipped=dict(skipped), queued_total=sum(counts.values()),
        queued=sum(counts.get(s, 0) for s in ("queued", "held", "sending", "uncertain")),
        sent=counts.get("sent", 0), delivered=counts.get("delivered", 0),
        failed=counts.get("failed", 0) + counts.get("undelivered", 0), cancelled=counts.get("cancelled", 0),
        cancel_reasons=cstore.cancel_reasons(db, campaign_id),
        replied=cstore.replied(db, campaign_id, c["reply_window_s"] or DEFAULT_REPLY_WINDOW_S),
        opted_out_after=cstore.opted_out_after(db, campaign_id), coupons_issued=issued, coupons_redeemed=redeemed,
        poll=_poll_tally(db, campaign_id) if c["kind"] == Kind.POLL else None, runs=len(runs))


def _poll_tally(db: store.Database, campaign_id: int) -> dict[str, int] | None:
    """Answers per option over the campaign's polls (None when the command layer is absent)."""
    if not cstore.table_columns(db, "polls"):
        return None
    try:
        from gateway.store import commands as command_store
    except ImportError:
        return None
    tally: Counter[str] = Counter()
    for (poll_id,) in cstore.select(db, "SELECT id FROM polls WHERE campaign_id = ?", [campaign_id]):
        tally.update(command_store.poll_tally(db, poll_id))
    return dict(tally)


def redeem_coupon(db: store.Database, code: str, *, by: str, now: float,
                  order_ref: str | None = None) -> coupons.Redemption:
    """Redeem a campaign coupon (the order SMS handler or staff call this)."""
    return coupons.redeem(db, code, by=by, now=now, order_ref=order_ref)
