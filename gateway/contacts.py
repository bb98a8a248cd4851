"""The contact base: numbers, owners and hierarchy, tags, attributes, reminders, consent, CSV import/export, erasure.

Rules kept here:
- a number belongs to at most one agent: a second agent's claim is recorded as a conflict for staff and never
  silently takes the contact over (the importer reports such rows as skipped);
- consent is an append-only log (`store.contacts.record_consent`); the importer only ever *grants* consent with
  the file as evidence, never withdraws it, and never grants advertising consent to an opted-out number;
- numbers must be valid mobile numbers of an allowed country (`contacts.allowed_regions`, default: the office's);
- an erased contact keeps its number and opt-out state: that row is what prevents re-contact.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import phonenumbers

from gateway import sms, store
from gateway.config import Config
from gateway.csvtext import read_text, sniff_delimiter
from gateway.errors import UserInputError
from gateway.states import MessageClass
from gateway.store import campaigns as cstore
from gateway.store import contacts as cs
from gateway.store import users

ROLES = ("customer", "agent", "staff")
CONSENT_STATES = tuple(cs.CONSENT_STATE_SQL)        # "granted", "not_granted", "opted_out" (advertising)
# Where staff took a consent from (stored in the log as these words) — the contact page's choices.
CONSENT_SOURCES = ("paper form", "web form", "phone call", "other")
MAX_EVIDENCE = 500
MAX_TEXT_VERSION = 40
DEFAULT_RETENTION_MONTHS = 12
IMPORT_SOURCE = "import file"

# Header synonyms (lower case, spaces collapsed) for the automatic column mapping.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "phone": ("phone", "телефон", "номер", "номер телефона", "мобильный", "mobile", "tel", "msisdn"),
    "name": ("name", "имя", "фио", "full name", "клиент"),
    "role": ("role", "роль", "тип"),
    "agent": ("agent", "агент", "agent_phone", "agent phone", "телефон агента", "owner", "консультант"),
    "upline": ("upline", "upline_phone", "наставник", "спонсор"),
    "agent_code": ("agent_code", "code", "код", "код агента"),
    "tags": ("tags", "теги", "метки", "группы"),
    "birthday": ("birthday", "день рождения", "дата рождения", "др"),
    "gender": ("gender", "пол"),
    "city": ("city", "город"),
    "timezone": ("timezone", "часовой пояс", "tz"),
    "lang": ("lang", "язык"),
    "notes": ("notes", "заметки", "примечание", "комментарий"),
    "consent_advertising": ("consent_advertising", "consent", "согласие", "согласие на рекламу", "реклама"),
    "consent_text_version": ("consent_text_version", "версия согласия"),
}
# Columns our own export writes that carry no importable data.
IGNORED_HEADERS = {"id", "created_at", "updated_at", "consent_service", "opted_out", "opted_out_at", "conflict"}
ATTRIBUTE_FIELDS = ("birthday", "gender", "city")
_YES = {"1", "yes", "y", "true", "да", "д", "+", "x", "есть"}
_NO = {"", "0", "no", "n", "false", "нет", "н", "-"}
_ROLE_WORDS = {"customer": "customer", "клиент": "customer", "покупатель": "customer", "agent": "agent",
               "агент": "agent", "консультант": "agent", "staff": "staff", "сотрудник": "staff"}
_FREE_KEY_RE = re.compile(r"[^\w]+")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- numbers ------------------------------------------------------------------------------------------------


def allowed_regions(db: store.Database, config: Config) -> frozenset[str]:
    """Countries whose mobile numbers may be stored (setting `contacts.allowed_regions`, default the office's)."""
    value = cstore.get_setting(db, "contacts.allowed_regions")
    if isinstance(value, list) and value:
        return frozenset(str(v).upper() for v in value)
    return frozenset(config.business.allowed_regions or (config.office.default_region,))


def clean_number(raw: str, region: str, allowed: frozenset[str]) -> str:
    """E.164 of a mobile number as a spreadsheet may have written it; raises UserInputError with the reason."""
    text = raw.strip().lstrip("'").strip()  # a leading apostrophe is Excel's "this is text" marker
    if not text:
        raise UserInputError("no phone number")
    sci = re.fullmatch(r"(\d)[.,](\d+)[eE]\+?(\d+)", text)
    if sci:
        whole, frac, exp = sci.group(1), sci.group(2), int(sci.group(3))
        if len(frac) != exp:
            raise UserInputError(f"Excel turned the number into {text}: digits are lost; format the column as text "
                                 "and save again / Excel испортил номер, отформатируйте столбец как текст")
        text = whole + frac
    elif re.fullmatch(r"\d{6,15}[.,]0+", text):
        text = re.split(r"[.,]", text)[0]  # a number column saved with decimals
    try:
        e164 = sms.normalise_number(text, region)
    except sms.InvalidNumber as exc:
        raise UserInputError(f"bad number: {exc}") from None
    number = phonenumbers.parse(e164, None)
    kind = phonenumbers.number_type(number)
    if kind not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        what = "toll-free" if kind == phonenumbers.PhoneNumberType.TOLL_FREE else "not mobile"
        raise UserInputError(f"bad number: {e164} is {what} (SMS needs a mobile number)")
    country = phonenumbers.region_code_for_number(number)
    if country not in allowed:
        raise UserInputError(f"bad number: {e164} is in {country}, not an allowed country ({', '.join(sorted(allowed))})")
    return e164


# --- CRUD ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """The outcome of an agent claiming a number: owner now, and whether it was a conflict."""

    contact_id: int
    agent_id: int | None
    conflict: bool


def add(db: store.Database, config: Config, phone: str, *, now: float, actor: str, name: str = "",
        role: str = "customer", agent_id: int | None = None, upline_id: int | None = None,
        agent_code: str | None = None, tags: Sequence[str] = (), attributes: Mapping[str, Any] | None = None,
        timezone: str | None = None, lang: str | None = None, notes: str = "") -> int:
    """Create a contact; raises UserInputError for a bad number, role or zone, or a number already stored."""
    e164 = clean_number(phone, config.office.default_region, allowed_regions(db, config))
    fields = _validated(name=name, role=role, agent_id=agent_id, upline_id=upline_id, agent_code=agent_code,
                        tags=tags, attributes=attributes, timezone=timezone, lang=lang, notes=notes)
    with store.immediate(db):
        if cs.get_by_phone(db, e164):
            raise UserInputError(f"{e164} is already in the contact base / номер уже есть в базе")
        contact_id = cs.insert(db, {"phone": e164, **fields}, now)
        users.audit(db, actor, "contact.add", now, target=str(contact_id))
    return contact_id


def edit(db: store.Database, contact_id: int, *, now: float, actor: str, **changes: Any) -> None:
    """Change a contact's name, role, code, upline, tags, attributes, zone, language or notes (not its owner)."""
    if "agent_id" in changes:
        raise UserInputError("the owning agent changes through claim(), which guards against take-overs")
    fields = _validated(**changes)
    with store.immediate(db):
        if cs.get(db, contact_id) is None:
            raise UserInputError(f"no contact {contact_id}")
        cs.update(db, contact_id, fields, now)
        users.audit(db, actor, "contact.edit", now, target=str(contact_id), fields=sorted(fields))


def get(db: store.Database, contact_id: int) -> dict[str, Any]:
    """A contact row (tags and attributes as JSON text); raises UserInputError when there is none."""
    row = cs.get(db, contact_id)
    if row is None:
        raise UserInputError(f"no contact {contact_id}")
    return row


def find(db: store.Database, text: str = "", *, role: str | None = None, agent_id: int | None = None,
         limit: int = 50, offset: int = 0, tag: str | None = None, consent: str | None = None,
         unowned: bool = False) -> list[dict[str, Any]]:
    """Contacts (not erased) whose number, name or agent code contains text, by name, narrowed by the filters.

    `consent` is one of CONSENT_STATES (advertising granted, not granted, opted out); `unowned` keeps contacts
    without an owning agent. Raises UserInputError for a value outside the allow-lists.
    """
    if role and role not in ROLES:
        raise UserInputError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if consent and consent not in CONSENT_STATES:
        raise UserInputError(f"consent must be one of {', '.join(CONSENT_STATES)}, not {consent!r}")
    if unowned and agent_id is not None:
        raise UserInputError("a contact cannot both have no agent and belong to one")
    if limit < 0 or offset < 0:
        raise UserInputError("limit and offset must not be negative")
    return cs.search(db, text, role=role, agent_id=agent_id, limit=limit, offset=offset, tag=tag or None,
                     consent=consent or None, unowned=unowned)


def _validated(**values: Any) -> dict[str, Any]:
    """Contact fields checked and encoded for storage (tags and attributes as JSON)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "role":
            if value not in ROLES:
                raise UserInputError(f"role must be one of {', '.join(ROLES)}, not {value!r}")
        elif key == "timezone" and value:
            _check_zone(value)
        elif key == "tags":
            value = json.dumps(sorted({str(t).strip() for t in value if str(t).strip()}), ensure_ascii=False)
        elif key == "attributes":
            value = json.dumps(dict(value or {}), ensure_ascii=False, sort_keys=True)
        elif key not in ("name", "agent_id", "upline_id", "agent_code", "lang", "notes", "timezone"):
            raise UserInputError(f"unknown contact field {key!r}")
        out[key] = value
    return out


def _check_zone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UserInputError(f"unknown time zone {name!r}; use an IANA name like Asia/Yekaterinburg") from None


def claim(db: store.Database, contact_id: int, agent_id: int, *, now: float, actor: str) -> Claim:
    """An agent claims a contact: taken when it has no owner, recorded as a conflict when another agent owns it."""
    with store.immediate(db):
        contact = cs.get(db, contact_id)
        if contact is None:
            raise UserInputError(f"no contact {contact_id}")
        owner = contact["agent_id"]
        if owner is None or owner == agent_id:
            cs.update(db, contact_id, {"agent_id": agent_id}, now)
            users.audit(db, actor, "contact.claim", now, target=str(contact_id), agent=agent_id)
            return Claim(contact_id, agent_id, False)
        cs.set_conflict(db, contact_id, agent_id, now)
        users.audit(db, actor, "contact.conflict", now, target=str(contact_id), owner=owner, claimant=agent_id)
        return Claim(contact_id, owner, True)


def resolve_conflict(db: store.Database, contact_id: int, *, give_to_claimant: bool, now: float, actor: str) -> None:
    """Staff decide a conflict: keep the owner, or hand the contact to the claiming agent."""
    with store.immediate(db):
        contact = cs.get(db, contact_id)
        if contact is None or contact["conflict_agent_id"] is None:
            raise UserInputError(f"contact {contact_id} has no open conflict")
        if give_to_claimant:
            cs.update(db, contact_id, {"agent_id": contact["conflict_agent_id"]}, now)
        cs.set_conflict(db, contact_id, None, now)
        users.audit(db, actor, "contact.conflict.resolve", now, target=str(contact_id),
                    given_to=contact["conflict_agent_id"] if give_to_claimant else contact["agent_id"])


def tag(db: store.Database, contact_id: int, add_tags: Sequence[str] = (), remove_tags: Sequence[str] = (),
        *, now: float, actor: str) -> list[str]:
    """Add and remove tags; returns the contact's tags."""
    contact = cs.get(db, contact_id)
    if contact is None:
        raise UserInputError(f"no contact {contact_id}")
    tags = (set(json.loads(contact["tags"])) | set(add_tags)) - set(remove_tags)
    edit(db, contact_id, tags=sorted(tags), now=now, actor=actor)
    return sorted(tags)


def set_attributes(db: store.Database, contact_id: int, changes: Mapping[str, Any], *, now: float,
                   actor: str) -> dict[str, Any]:
    """Merge attributes (birthday, gender, city, free fields); a None value removes a key; returns them all."""
    contact = cs.get(db, contact_id)
    if contact is None:
        raise UserInputError(f"no contact {contact_id}")
    attrs = json.loads(contact["attributes"])
    for key, value in changes.items():
        if value is None:
            attrs.pop(key, None)
        elif key == "birthday":
            attrs[key] = parse_birthday(str(value))
        else:
            attrs[key] = value
    edit(db, contact_id, attributes=attrs, now=now, actor=actor)
    return attrs


def remind(db: store.Database, contact_id: int, *, due_at: float, text: str, now: float, actor: str) -> int:
    """Add a reminder on a contact ("call back in a week"); returns its id."""
    with store.immediate(db):
        if cs.get(db, contact_id) is None:
            raise UserInputError(f"no contact {contact_id}")
        return cs.add_reminder(db, contact_id, due_at, text, now, created_by=actor)


def due_reminders(db: store.Database, now: float) -> list[dict[str, Any]]:
    """Open reminders due by now, soonest first."""
    return cs.reminders(db, due_before=now)


def parse_birthday(text: str) -> str:
    """A birthday as "YYYY-MM-DD" or "--MM-DD" (year unknown) from the ways people and Excel write dates."""
    value = text.strip()
    patterns = ((r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})", (3, 2, 1)), (r"(\d{4})-(\d{1,2})-(\d{1,2})", (1, 2, 3)),
                (r"(\d{1,2})[./](\d{1,2})", (0, 2, 1)), (r"--(\d{1,2})-(\d{1,2})", (0, 1, 2)))
    for pattern, (y, m, d) in patterns:
        match = re.fullmatch(pattern, value)
        if match:
            year = int(match.group(y)) if y else 2000  # 2000 is a leap year: 29 February is valid
            try:
                day = date(year, int(match.group(m)), int(match.group(d)))
            except ValueError:
                break
            return day.isoformat() if y else day.strftime("--%m-%d")
    if re.fullmatch(r"\d{4,5}", value) and 1 <= int(value) <= 60000:  # an Excel serial date
        return (date(1899, 12, 30) + timedelta(days=int(value))).isoformat()
    raise UserInputError(f"birthday {text!r} is not a date like 31.12.1980 / дата рождения не распознана")


# --- consent history, personal data, erasure, retention ------------------------------------------------------


def consent_history_csv(db: store.Database, phone: str) -> str:
    """The consent log of one number as CSV (the sender's proof, for the subscriber or a regulator)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["at_utc", "class", "action", "source", "text_version", "user_id", "evidence", "inbox_id"])
    from datetime import datetime, timezone
    for e in cs.consent_history(db, phone):
        at = datetime.fromtimestamp(e["at"], timezone.utc).isoformat(timespec="seconds")
        writer.writerow([_safe_cell(v) for v in (at, e["class"], e["action"], e["source"], e["text_version"] or "",
                                                 e["user_id"] or "", e["evidence"] or "", e["inbox_id"] or "")])
    return out.getvalue()


@dataclass(frozen=True)
class ConsentChange:
    """A consent decision staff recorded on a contact: the event id and whether it was an opt-out or opt-in."""

    event_id: int
    message_class: MessageClass
    granted: bool
    kind: str   # "consent" (a plain event), "opt_out" or "opt_in" (advertising, the number's bulk state changed too)


def _clean_text(value: str | None, limit: int, what: str) -> str | None:
    """One line of staff's text (controls removed, spaces collapsed), None when empty; too long is refused."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in (value or "")).split())
    if len(text) > limit:
        raise UserInputError(f"{what} is longer than {limit} characters / {what}: не больше {limit} символов")
    return text or None


def record_consent(db: store.Database, contact_id: int, message_class: MessageClass | str, granted: bool, *,
                   source: str, now: float, actor: str, user_id: int | None, evidence: str | None = None,
                   text_version: str | None = None, resubscribe: bool = False) -> ConsentChange:
    """Staff record a consent decision for a contact, appended to its log with the user and audited.

    Withdrawing advertising consent is an opt-out (bulk stops at the claim); granting it to an opted-out number
    needs `resubscribe` (the customer asked to subscribe again) and is an opt-in. A grant needs evidence (the
    sender must be able to prove it); an erased contact can only withdraw. Raises UserInputError with the reason.
    """
    try:
        kind_of = MessageClass(message_class)
    except ValueError:
        raise UserInputError(f"unknown consent kind {message_class!r}") from None
    if source not in CONSENT_SOURCES:
        raise UserInputError(f"source must be one of {', '.join(CONSENT_SOURCES)}, not {source!r}")
    proof = _clean_text(evidence, MAX_EVIDENCE, "evidence")
    version = _clean_text(text_version, MAX_TEXT_VERSION, "consent text version")
    if granted and proof is None:
        raise UserInputError("say what proves the consent (e.g. form no. 123) / укажите, чем подтверждено согласие")
    with store.immediate(db):
        contact = cs.get(db, contact_id)
        if contact is None:
            raise UserInputError(f"no contact {contact_id}")
        phone = contact["phone"]
        if granted and contact["erased_at"] is not None:
            raise UserInputError("this contact's data was erased on request / данные контакта удалены по просьбе")
        if kind_of == MessageClass.ADVERTISING and not granted:
            event, kind = cs.opt_out(db, phone, source, now, user_id=user_id, evidence=proof,
                                     text_version=version), "opt_out"
        elif kind_of == MessageClass.ADVERTISING and contact["opted_out_at"] is not None:
            if not resubscribe:
                raise UserInputError("the number unsubscribed: tick that the customer asked to subscribe again / "
                                     "номер отписался: отметьте, что клиент сам попросил подписать его снова")
            event, kind = cs.opt_in(db, phone, source, now, user_id=user_id, evidence=proof,
                                    text_version=version), "opt_in"
        else:
            event, kind = cs.record_consent(db, phone, kind_of, granted, source, now, user_id=user_id,
                                            evidence=proof, text_version=version), "consent"
        users.audit(db, actor, "contact.consent", now, target=str(contact_id), kind=str(kind_of),
                    consent="granted" if granted else "withdrawn", change=kind, source=source, text_version=version,
                    event=event)
    return ConsentChange(event, kind_of, granted, kind)


def export_personal_data(db: store.Database, contact_id: int, *, now: float, actor: str) -> str:
    """Everything stored about a contact as JSON text (subject access request); the export is audited."""
    data = cs.personal_data(db, contact_id)
    if not data["contact"]:
        raise UserInputError(f"no contact {contact_id}")
    users.audit(db, actor, "contact.export", now, target=str(contact_id))
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def erase(db: store.Database, contact_id: int, *, now: float, actor: str) -> None:
    """Erase a contact's data on request: an opt-out is recorded, then everything but number and consent goes."""
    contact = cs.get(db, contact_id)
    if contact is None:
        raise UserInputError(f"no contact {contact_id}")
    with store.immediate(db):
        if contact["opted_out_at"] is None:
            cs.opt_out(db, contact["phone"], "erasure request", now)
        cs.erase(db, contact_id, now)
        users.audit(db, actor, "contact.erase", now, target=str(contact_id))


def retention_months(db: store.Database, config: Config | None = None) -> int:
    """Months inbound bodies and send logs are kept: a saved setting, else the config's [business] value."""
    value = cstore.get_setting(db, "contacts.retention_months")
    if isinstance(value, int) and value > 0:
        return value
    return config.business.retention_months if config is not None else DEFAULT_RETENTION_MONTHS


def purge(db: store.Database, now: float, months: int | None = None, config: Config | None = None) -> tuple[int, int]:
    """Blank inbound bodies and finished send logs older than the retention period; returns (inbound, outbound)."""
    cutoff = now - (months or retention_months(db, config)) * 30.44 * 86400
    with store.immediate(db):
        counts = cs.purge_before(db, cutoff)
        if any(counts):
            users.audit(db, "retention", "retention.purge", now, inbound=counts[0], outbound=counts[1])
    return counts


# --- CSV import ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowResult:
    """What the import does (or would do) with one data row."""

    line: int
    phone: str
    action: str  # created, updated, unchanged or skipped
    reason: str = ""


@dataclass
class ImportReport:
    """The per-row outcome of an import; `str()` is the report people read."""

    path: Path
    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)
    error: str | None = None
    encoding: str = ""
    delimiter: str = ""
    mapping: dict[str, str] = field(default_factory=dict)

    def count(self, action: str) -> int:
        """How many rows had this outcome."""
        return sum(1 for r in self.rows if r.action == action)

    @property
    def ok(self) -> bool:
        """True when the file was read and no row was skipped."""
        return self.error is None and self.count("skipped") == 0

    def __str__(self) -> str:
        if self.error:
            return f"{self.path}: {self.error}"
        head = [f"{self.path}: {self.encoding}, delimiter {self.delimiter!r}; columns: "
                + ", ".join(f"{k} ← {v!r}" for k, v in self.mapping.items())]
        if self.dry_run:
            head.append("DRY RUN: nothing was written / пробный прогон, ничего не записано")
        lines = [f"row {r.line}: {r.phone or '-'} {r.action}{': ' + r.reason if r.reason else ''}"
                 for r in self.rows if r.action != "unchanged"]
        verb = "would be " if self.dry_run else ""
        summary = (f"{verb}created {self.count('created')}, {verb}updated {self.count('updated')}, "
                   f"unchanged {self.count('unchanged')}, skipped {self.count('skipped')}")
        return "\n".join([*head, *lines, summary])


def _norm_header(h: str) -> str:
    return " ".join(h.strip().lower().replace("ё", "е").split())


def auto_mapping(headers: Sequence[str]) -> dict[str, str]:
    """Our field → the file's header, matched through SYNONYMS; unknown headers become free attributes."""
    mapping: dict[str, str] = {}
    for header in headers:
        key = _norm_header(header)
        for name, words in SYNONYMS.items():
            if key in words and name not in mapping:
                mapping[name] = header
                break
    return mapping


def import_csv(db: store.Database, config: Config, path: Path, *, dry_run: bool, now: float,
               mapping: Mapping[str, str] | None = None, actor: str = "import") -> ImportReport:
    """Import contacts from a CSV file (dry run: only report); a repeated import of the same file changes nothing."""
    report = ImportReport(path=Path(path), dry_run=dry_run)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        report.error = f"cannot read the file: {exc.strerror}"
        return report
    text, report.encoding = read_text(raw)
    first_line = text.split("\n", 1)[0]
    report.delimiter = sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=report.delimiter)
    try:
        headers = next(reader)
    except StopIteration:
        report.error = "the file is empty"
        return report
    except csv.Error as exc:
        report.error = f"not a CSV file: {exc}"
        return report
    headers = [h.strip() for h in headers]
    report.mapping = dict(mapping) if mapping else auto_mapping(headers)
    unknown = [k for k in report.mapping if k not in SYNONYMS]
    if unknown:
        report.error = f"unknown field(s) in the column mapping: {', '.join(unknown)}"
        return report
    missing = [h for h in report.mapping.values() if h not in headers]
    if missing or "phone" not in report.mapping:
        report.error = ("no phone column: name it 'phone' or 'телефон', or pass a column mapping" if not missing
                        else f"mapped column(s) not in the file: {', '.join(missing)}")
        return report
    col = {name: headers.index(h) for name, h in report.mapping.items()}
    mapped = set(col.values())
    free = [(i, _FREE_KEY_RE.sub("_", _norm_header(h)).strip("_")) for i, h in enumerate(headers)
            if i not in mapped and h and _norm_header(h) not in IGNORED_HEADERS]
    planner = _Planner(db, config, now, str(Path(path).name))
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            report.rows.append(planner.plan(line, row, col, free))
    except csv.Error as exc:
        report.error = f"line {reader.line_num}: not valid CSV: {exc}"
        return report
    if not dry_run:
        planner.apply(actor)
    return report


class _Planner:
    """Plans each row against the database and the rows before it; `apply` writes the plan in one transaction."""

    def __init__(self, db: store.Database, config: Config, now: float, filename: str) -> None:
        self.db, self.now, self.filename = db, now, filename
        self.region = config.office.default_region
        self.allowed = allowed_regions(db, config)
        self.existing = cs.index(db)
        self.by_id = {c["id"]: c for c in self.existing.values()}
        self.codes = {str(c["agent_code"]).upper(): c["phone"] for c in self.existing.values() if c["agent_code"]}
        self.seen: dict[str, int] = {}
        self.planned: dict[str, dict[str, Any]] = {}  # phone → final fields (new contacts and updates)
        self.ops: list[tuple[str, str, dict[str, Any], list[tuple[str, str]]]] = []

    def _ref(self, text: str) -> str | None:
        """The phone of an agent named by code or number, in the base or earlier in the file."""
        value = text.strip()
        if not value:
            return None
        if value.upper() in self.codes:
            return self.codes[value.upper()]
        try:
            phone = clean_number(value, self.region, self.allowed)
        except UserInputError:
            raise UserInputError(f"agent {value!r} is neither a known agent code nor a valid number") from None
        if phone not in self.existing and phone not in self.planned:
            raise UserInputError(f"agent {phone} is not in the contact base (import agents first)")
        return phone

    def plan(self, line: int, row: list[str], col: dict[str, int], free: list[tuple[int, str]]) -> RowResult:
        """The outcome of one row; the planned state is remembered for the rows after it."""
        def cell(name: str) -> str:
            i = col.get(name)
            return _unguard(row[i]) if i is not None and i < len(row) else ""

        raw_phone = cell("phone")
        try:
            phone = clean_number(raw_phone, self.region, self.allowed)
        except UserInputError as exc:
            return RowResult(line, raw_phone, "skipped", str(exc))
        if phone in self.seen:
            return RowResult(line, phone, "skipped", f"duplicate of row {self.seen[phone]}")
        self.seen[phone] = line
        try:
            wanted, consent = self._wanted(cell, row, free)
        except UserInputError as exc:
            return RowResult(line, phone, "skipped", str(exc))
        current = self.planned.get(phone) or self.existing.get(phone)
        agent_phone = wanted.pop("agent_phone", None)
        upline_phone = wanted.pop("upline_phone", None)
        text_version = wanted.pop("_text_version", None)
        if current is not None:
            owner = self._owner_phone(current)
            if agent_phone and owner and owner != agent_phone:
                if current.get("id") is not None and self._phone_of(current.get("conflict_agent_id")) != agent_phone:
                    self.ops.append(("conflict", phone, {}, [("conflict_agent_id", agent_phone)]))
                return RowResult(line, phone, "skipped", f"conflict: the number belongs to agent {owner}; "
                                 "a second agent's claim is not taken over / номер закреплён за другим агентом")
        code = wanted.get("agent_code")
        if code and self.codes.get(code.upper(), phone) != phone:
            return RowResult(line, phone, "skipped", f"agent code {code} is already used by {self.codes[code.upper()]}")
        changes: dict[str, Any] = {}
        if current is None:
            changes = {k: v for k, v in wanted.items() if v not in (None, "")}
        else:
            for key, value in wanted.items():
                if key == "attributes":
                    merged = {**json.loads(current["attributes"]), **json.loads(value)}
                    value = json.dumps(merged, ensure_ascii=False, sort_keys=True)
                    if merged == json.loads(current["attributes"]):
                        continue
                elif key == "tags":
                    union = sorted(set(json.loads(current["tags"])) | set(json.loads(value)))
                    if union == sorted(json.loads(current["tags"])):
                        continue
                    value = json.dumps(union, ensure_ascii=False)
                elif value in (None, "") or value == current.get(key):
                    continue
                changes[key] = value
        refs: list[tuple[str, str]] = []
        if agent_phone and (current is None or self._owner_phone(current) is None):
            refs.append(("agent_id", agent_phone))
        if upline_phone and (current is None or self._phone_of(current.get("upline_id")) != upline_phone):
            refs.append(("upline_id", upline_phone))
        grant = consent and (current is None or not current.get("consent_advertising"))
        if grant and current is not None and current.get("opted_out_at") is not None:
            grant = False
        if current is not None and not changes and not refs and not grant:
            note = "consent in the file ignored: the number opted out" if consent and current and \
                current.get("opted_out_at") is not None else ""
            return RowResult(line, phone, "unchanged", note)
        state = dict(current or {"phone": phone, "attributes": "{}", "tags": "[]", "agent_id": None,
                                 "upline_id": None, "consent_advertising": 0, "opted_out_at": None})
        state.update(changes)
        for key, ref in refs:
            state[f"_{key}_phone"] = ref
        if grant:
            state["consent_advertising"] = 1
            changes["_consent"] = text_version
        self.planned[phone] = state
        if code:
            self.codes[code.upper()] = phone
        self.ops.append(("create" if current is None else "update", phone, changes, refs))
        return RowResult(line, phone, "created" if current is None else "updated",
                         ", ".join(k.lstrip("_") for k in [*changes, *(k for k, _ in refs)]) if current else "")

    def _phone_of(self, contact_id: int | None) -> str | None:
        return self.by_id[contact_id]["phone"] if contact_id in self.by_id else None

    def _owner_phone(self, contact: dict[str, Any]) -> str | None:
        return contact.get("_agent_id_phone") or self._phone_of(contact.get("agent_id"))

    def _wanted(self, cell: Any, row: list[str], free: list[tuple[int, str]]) -> tuple[dict[str, Any], bool]:
        """The contact fields a row asks for, validated; and whether it grants advertising consent."""
        wanted: dict[str, Any] = {}
        if cell("name"):
            wanted["name"] = cell("name")
        if cell("role"):
            role = _ROLE_WORDS.get(cell("role").lower())
            if role is None:
                raise UserInputError(f"unknown role {cell('role')!r} (customer/клиент, agent/агент, staff/сотрудник)")
            wanted["role"] = role
        if cell("agent_code"):
            wanted["agent_code"] = cell("agent_code")
            wanted.setdefault("role", "agent")
        for key in ("lang", "notes"):
            if cell(key):
                wanted[key] = cell(key)
        if cell("timezone"):
            _check_zone(cell("timezone"))
            wanted["timezone"] = cell("timezone")
        if cell("tags"):
            wanted["tags"] = json.dumps(sorted({t.strip() for t in re.split(r"[,;|]", cell("tags")) if t.strip()}),
                                        ensure_ascii=False)
        attrs: dict[str, Any] = {}
        if cell("birthday"):
            attrs["birthday"] = parse_birthday(cell("birthday"))
        for key in ("gender", "city"):
            if cell(key):
                attrs[key] = cell(key)
        for i, key in free:
            if key and i < len(row) and row[i].strip():
                attrs[key] = _unguard(row[i])
        if attrs:
            wanted["attributes"] = json.dumps(attrs, ensure_ascii=False, sort_keys=True)
        wanted["agent_phone"] = self._ref(cell("agent"))
        wanted["upline_phone"] = self._ref(cell("upline"))
        consent_text = cell("consent_advertising").lower()
        if consent_text not in _YES | _NO:
            raise UserInputError(f"consent {cell('consent_advertising')!r} must be да/нет (yes/no)")
        if cell("consent_text_version"):
            wanted["_text_version"] = cell("consent_text_version")
        return wanted, consent_text in _YES

    def apply(self, actor: str) -> None:
        """Write every planned create and update, consent events and one audit line, in one transaction."""
        db, now = self.db, self.now
        created = updated = 0
        with store.immediate(db):
            ids = {phone: c["id"] for phone, c in self.existing.items()}
            for op, phone, changes, refs in self.ops:
                fields = {k: v for k, v in changes.items() if not k.startswith("_")}
                for key, ref in refs:
                    fields[key] = ids[ref]
                if op == "conflict":
                    cs.set_conflict(db, ids[phone], fields["conflict_agent_id"], now)
                    continue
                if op == "create":
                    ids[phone] = cs.insert(db, {"phone": phone, **fields}, now)
                    created += 1
                else:
                    cs.update(db, ids[phone], fields, now)
                    updated += 1
                if "_consent" in changes:
                    cs.record_consent(db, phone, MessageClass.ADVERTISING, True, IMPORT_SOURCE, now,
                                      evidence=self.filename, text_version=changes["_consent"])
            users.audit(db, actor, "contacts.import", now, target=self.filename, created=created, updated=updated)


# --- CSV export -----------------------------------------------------------------------------------------------

EXPORT_COLUMNS = ("phone", "name", "role", "agent_code", "agent", "upline", "tags", "birthday", "gender", "city",
                  "timezone", "lang", "notes", "consent_advertising", "opted_out")


def _unguard(cell: str) -> str:
    """A cell's text without the apostrophe our export puts before formula-like text (and Excel's text marker)."""
    text = cell.strip()
    return text[1:] if text.startswith("'") and text[1:2] in _FORMULA_START else text


def _safe_cell(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection): risky first characters get a '."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_csv(db: store.Database, path: Path) -> int:
    """Write every contact (not erased) as UTF-8-with-BOM, semicolon CSV that Russian Excel opens; returns rows."""
    rows = cs.export_rows(db)
    extra_keys = sorted({k for c in rows for k in json.loads(c["attributes"] or "{}")} - set(ATTRIBUTE_FIELDS)
                        - set(EXPORT_COLUMNS))
    tmp = Path(path).with_name(Path(path).name + ".partial")
    with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow([*EXPORT_COLUMNS, *(_safe_cell(k) for k in extra_keys)])
        for c in rows:
            attrs = json.loads(c["attributes"] or "{}")
            extra = {k: attrs.get(k) for k in extra_keys}
            values = [c["phone"], c["name"], c["role"], c["agent_code"], c["agent_phone"], c["upline_phone"],
                      ", ".join(json.loads(c["tags"] or "[]")), attrs.get("birthday"), attrs.get("gender"),
                      attrs.get("city"), c["timezone"], c["lang"], c["notes"],
                      "да" if c["consent_advertising"] and c["opted_out_at"] is None else "нет",
                      "да" if c["opted_out_at"] is not None else "нет"]
            writer.writerow([_safe_cell(v) for v in values] + [_safe_cell(v) for v in extra.values()])
    Path(tmp).replace(path)
    return len(rows)
