"""Contact pages on the contacts module (issue 6): search, a contact with its consent history, edit, CSV export,
and CSV import with a dry-run report before anything is written.

Agents see and edit only their own customers (the owner check happens here, before any change); they do not
import. An uploaded file waits server-side under a random token (`Uploads`) until staff confirm the import
or an hour passes; the browser only ever holds the token, never a path.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import shutil
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bottle

from gateway import contacts, csvtext
from gateway.errors import UserInputError
from gateway.states import Role
from gateway.store import contacts as store_contacts
from gateway.web import security
from gateway.web.core import Web, page

PAGE_SIZE = 50
STAFF = (Role.ADMIN, Role.OPERATOR)
IMPORT_MAX_BYTES = 5 * 1024 * 1024   # the app refuses larger request bodies before they reach us
IMPORT_TTL_S = 3600.0                # an unconfirmed upload is deleted after an hour
REPORT_ROWS = 1000                   # rows listed on the report page (skipped rows always; the counts cover all)
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{22,64}")
MAPPING_FIELDS = tuple(contacts.SYNONYMS)


@dataclass(frozen=True)
class Upload:
    """One uploaded CSV file waiting for its import."""

    token: str
    path: Path
    filename: str
    user_id: int
    created: float
    mapping: dict[str, str] | None


def safe_filename(raw: str | None) -> str:
    """The base name of an uploaded file as plain text for the audit log ("contacts.csv" when nothing is left)."""
    name = re.split(r"[\\/]", raw or "")[-1]
    name = re.sub(r"[^\w.() -]+", "_", name).strip(" ._")[:100]
    return name or "contacts.csv"


class Uploads:
    """Uploaded files in one private directory (0700), each under a random token, deleted after an hour at most.

    The directory sits next to the database (`<data>/import-uploads`), so files a crash left behind are swept
    by the next run too. A file is written under a staging name and renamed into place with its meta data, so
    a sweep in another thread never sees half an upload.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._ready = False
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        """The directory (created on first use, readable by this user only)."""
        with self._lock:
            if not self._ready:
                self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
                self._root.chmod(0o700)
                self._ready = True
            return self._root

    def put(self, data: bytes, filename: str, user_id: int, now: float) -> Upload:
        """Keep a file; returns its record with a fresh token."""
        self.sweep(now)
        token = secrets.token_urlsafe(24)
        staging = self.root / f".{token}"
        (staging / "csv").mkdir(mode=0o700, parents=True)  # the file apart from meta.json, whatever its name
        name = safe_filename(filename)
        (staging / "csv" / name).write_bytes(data)
        upload = Upload(token, self.root / token / "csv" / name, name, user_id, now, None)
        self._write_meta(upload, staging)
        staging.rename(self.root / token)
        return upload

    def get(self, token: str, user_id: int, now: float) -> Upload | None:
        """The upload of this token if it exists, is this user's and is under an hour old."""
        self.sweep(now)
        if not TOKEN_RE.fullmatch(token or ""):
            return None  # never a path: only our own token shape names a folder
        folder = self.root / token
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            upload = Upload(token, folder / "csv" / meta["filename"], meta["filename"], int(meta["user_id"]),
                            float(meta["created"]), meta.get("mapping"))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if upload.user_id != user_id or not upload.path.is_file():
            return None
        return upload

    def remember_mapping(self, upload: Upload, mapping: dict[str, str] | None) -> Upload:
        """Store the column mapping of the last dry run: the import uses exactly what was checked."""
        upload = Upload(upload.token, upload.path, upload.filename, upload.user_id, upload.created, mapping)
        self._write_meta(upload, self.root / upload.token)
        return upload

    def claim(self, upload: Upload) -> Upload | None:
        """Take an upload for its import: an atomic rename, so two confirmations never both import it."""
        claimed = self.root / f".claimed-{upload.token}"
        try:
            (self.root / upload.token).rename(claimed)
        except OSError:
            return None  # another request took it a moment ago
        return Upload(upload.token, claimed / "csv" / upload.filename, upload.filename, upload.user_id,
                      upload.created, upload.mapping)

    def release(self, upload: Upload) -> None:
        """Give a claimed upload back (the import refused it; the user may check another mapping)."""
        try:
            (self.root / f".claimed-{upload.token}").rename(self.root / upload.token)
        except OSError:
            pass

    def drop(self, token: str) -> None:
        """Delete an upload (after its import)."""
        if TOKEN_RE.fullmatch(token or ""):
            shutil.rmtree(self.root / token, ignore_errors=True)
            shutil.rmtree(self.root / f".claimed-{token}", ignore_errors=True)

    def sweep(self, now: float) -> int:
        """Delete uploads older than an hour, and leftovers without readable meta data; returns how many went."""
        gone = 0
        for folder in list(self.root.iterdir()):
            if folder.name.startswith("."):
                # a staging folder: in progress now, or left by a crash (then older than an hour by the disk's clock)
                try:
                    stale = time.time() - folder.stat().st_mtime > IMPORT_TTL_S
                except OSError:
                    stale = False
                if not stale:
                    continue
                created = None
            else:
                try:
                    created = float(json.loads((folder / "meta.json").read_text(encoding="utf-8"))["created"])
                except (OSError, ValueError, KeyError, TypeError):
                    created = None
            if created is None or not (now - IMPORT_TTL_S <= created <= now + IMPORT_TTL_S):
                if folder.is_dir():
                    shutil.rmtree(folder, ignore_errors=True)
                else:
                    folder.unlink(missing_ok=True)
                gone += 1
        return gone

    def _write_meta(self, upload: Upload, folder: Path) -> None:
        meta = {"filename": upload.filename, "user_id": upload.user_id, "created": upload.created,
                "mapping": upload.mapping}
        temporary = folder / "meta.json.new"
        temporary.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        temporary.replace(folder / "meta.json")  # atomic: a reader sees the old meta or the new, never half


NO_AGENT = "none"     # the owner filter's value for contacts without an agent
MAX_OFFSET = 10_000_000   # far beyond any office's contact base; larger numbers would overflow SQLite's integer
# Translation keys of the allow-listed values the pages show (a test checks each exists in both languages).
ROLE_KEYS = {r: f"contact.role_{r}" for r in contacts.ROLES}
CONSENT_STATE_KEYS = {st: f"contact.consent_{st}" for st in contacts.CONSENT_STATES}
KIND_KEYS = {"advertising": "consent.kind_advertising", "service": "consent.kind_service"}


@dataclass(frozen=True)
class ListFilters:
    """The contact list's filters as the URL carries them (checked against the allow-lists)."""

    q: str = ""
    role: str = ""
    agent: str = ""       # an agent contact's id, NO_AGENT, or "" for all
    tag: str = ""
    consent: str = ""     # one of contacts.CONSENT_STATES, or "" for all
    offset: int = 0

    def agent_id(self, user: security.User) -> int | None:
        """The owner to list: always the agent themself for an agent user; the chosen agent for staff."""
        if user.is_agent:
            return user.contact_id
        return int(self.agent) if self.agent.isdigit() else None

    def query(self, offset: int | None = None) -> str:
        """The query string of these filters (for bookmarks and the paging links), offset replaced if given."""
        values = {"q": self.q, "role": self.role, "agent": self.agent, "tag": self.tag, "consent": self.consent}
        pairs = [(k, v) for k, v in values.items() if v]
        at = self.offset if offset is None else offset
        if at:
            pairs.append(("offset", str(at)))
        return urllib.parse.urlencode(pairs)

    @property
    def active(self) -> bool:
        """True when any filter narrows the list."""
        return bool(self.q or self.role or self.agent or self.tag or self.consent)


def source_key(source: str | None) -> str | None:
    """The translation key of a consent source staff pick ("paper form" → "consent.src_paper_form"), else None."""
    if source in contacts.CONSENT_SOURCES:
        return "consent.src_" + str(source).replace(" ", "_")
    return None


def file_headers(path: Path, delimiter: str) -> list[str]:
    """The header row of an uploaded CSV file, decoded as the import decodes it."""
    try:
        text, _ = csvtext.read_text(path.read_bytes())
        return [h.strip() for h in next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or ","))]
    except (OSError, StopIteration, csv.Error):
        return []


def shown_rows(report: contacts.ImportReport) -> list[contacts.RowResult]:
    """The rows the page lists: every skipped row and the first others, in file order, at most REPORT_ROWS."""
    skipped = [r for r in report.rows if r.action == "skipped"][:REPORT_ROWS]
    others = [r for r in report.rows if r.action != "skipped"][:max(0, REPORT_ROWS - len(skipped))]
    return sorted(skipped + others, key=lambda r: r.line)


def register(app: bottle.Bottle, web: Web) -> None:
    """Add the contact pages."""
    uploads: Uploads = web.extras.setdefault(
        "uploads", Uploads(Path(web.config.database.path).resolve().parent / "import-uploads"))

    def visible(user: security.User, contact: dict[str, Any] | None) -> bool:
        return contact is not None and (user.is_staff or (user.contact_id is not None
                                                          and contact["agent_id"] == user.contact_id))

    @app.get("/contacts")
    @page(web)
    def contact_list(user: security.User) -> str:
        db = web.db()
        chosen, error = list_filters(user)
        rows: list[dict[str, Any]] = []
        more = False
        if error:
            bottle.response.status = 400
        elif not (user.is_agent and user.contact_id is None):
            try:
                rows = contacts.find(db, chosen.q, role=chosen.role or None, agent_id=chosen.agent_id(user),
                                     tag=chosen.tag or None, consent=chosen.consent or None,
                                     unowned=user.is_staff and chosen.agent == NO_AGENT,
                                     limit=PAGE_SIZE + 1, offset=chosen.offset)
            except UserInputError as exc:   # the allow-lists were checked above; this is the domain's last word
                bottle.response.status, error = 400, str(exc)
            more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
        agents = contacts.find(db, role="agent", limit=1000) if user.is_staff else []
        tags = store_contacts.known_tags(db, None if user.is_staff else (user.contact_id or -1))
        return web.render("contacts.tpl", title=web.t()("nav.contacts"), rows=rows, f=chosen, more=more,
                          page_size=PAGE_SIZE, agents=agents, tags=tags, roles=contacts.ROLES,
                          consent_states=contacts.CONSENT_STATES, no_agent=NO_AGENT, error=error,
                          role_keys=ROLE_KEYS, consent_keys=CONSENT_STATE_KEYS,
                          agent_names={a["id"]: a["name"] or a["phone"] for a in agents})

    def list_filters(user: security.User) -> tuple[ListFilters, str]:
        """The list's filters from the query string, each checked against its allow-list (error text if not)."""
        t = web.t()
        q = web.query("q").strip()[:100]
        role = web.query("role").strip()
        consent = web.query("consent").strip()
        tag = web.query("tag").strip()[:100]
        agent = web.query("agent").strip() if user.is_staff else ""   # an agent's list is always their own
        raw_offset = web.query("offset").strip()
        offset = int(raw_offset) if raw_offset.isascii() and raw_offset.isdigit() else (None if raw_offset else 0)
        errors = []
        if role and role not in contacts.ROLES:
            errors.append(t("contact.bad_filter", name=t("contact.f_role")))
            role = ""
        if consent and consent not in contacts.CONSENT_STATES:
            errors.append(t("contact.bad_filter", name=t("cab.consent")))
            consent = ""
        if agent and agent != NO_AGENT and not (agent.isascii() and agent.isdigit() and int(agent) > 0):
            errors.append(t("contact.bad_filter", name=t("contact.f_agent")))
            agent = ""
        if offset is None or offset > MAX_OFFSET:
            errors.append(t("contact.bad_filter", name="offset"))
            offset = 0
        return ListFilters(q, role, agent, tag, consent, offset), " ".join(errors)

    @app.get("/contacts/export.csv")
    @page(web, "admin", "operator")
    def contact_export(user: security.User) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "contacts.csv"
            n = contacts.export_csv(web.db(), path)
            data = path.read_bytes()
        web.audit("contact.export", rows=n)
        bottle.response.content_type = "text/csv; charset=utf-8"
        bottle.response.set_header("Content-Disposition", 'attachment; filename="contacts.csv"')
        return data

    def detail(user: security.User, contact_id: int, **extra: Any) -> str:
        db = web.db()
        contact = store_contacts.get(db, contact_id)
        if not visible(user, contact):
            bottle.response.status = 404
            return web.render("message.tpl", title=web.t()("common.not_found"), text="")
        assert contact is not None
        history = store_contacts.consent_history_with_users(db, contact["phone"])
        versions = [e["text_version"] for e in history if e["text_version"]]
        values = {"kind": "advertising", "action": "grant", "source": "paper form", "evidence": "",
                  "text_version": versions[-1] if versions else "", "resubscribe": False}
        values.update(extra.pop("consent_values", {}))
        return web.render("contact.tpl", title=contact["name"] or contact["phone"], c=contact, history=history,
                          sources=contacts.CONSENT_SOURCES, cv=values, source_key=source_key, kind_keys=KIND_KEYS,
                          max_evidence=contacts.MAX_EVIDENCE, max_version=contacts.MAX_TEXT_VERSION, **extra)

    @app.get("/contacts/<contact_id:int>/consent.csv")
    @page(web)
    def contact_consent_csv(user: security.User, contact_id: int) -> Any:
        """The consent log of one contact: the sender's proof, for the subscriber or a regulator."""
        contact = store_contacts.get(web.db(), contact_id)
        if not visible(user, contact):
            bottle.abort(404, "not found")
        assert contact is not None
        data = contacts.consent_history_csv(web.db(), contact["phone"])
        web.audit("contact.consent_export", target=str(contact_id))
        bottle.response.content_type = "text/csv; charset=utf-8"
        bottle.response.set_header("Content-Disposition", f'attachment; filename="consent-{contact_id}.csv"')
        return "\ufeff" + data  # Excel opens a UTF-8 file with a BOM correctly

    @app.get("/contacts/<contact_id:int>/data.json")
    @page(web, "admin")
    def contact_personal_data(user: security.User, contact_id: int) -> Any:
        """Everything stored about a contact (a subject access request); audited by the domain."""
        try:
            data = contacts.export_personal_data(web.db(), contact_id, now=web.now(), actor=user.username)
        except UserInputError:
            bottle.abort(404, "not found")
        bottle.response.content_type = "application/json; charset=utf-8"
        bottle.response.set_header("Content-Disposition", f'attachment; filename="contact-{contact_id}.json"')
        return data

    @app.post("/contacts/<contact_id:int>/erase")
    @page(web, "admin")
    def contact_erase(user: security.User, contact_id: int) -> Any:
        """Erase on request: the opt-out record and consent log stay, everything else goes."""
        if web.form("confirm") != "1":
            bottle.response.status = 400
            return detail(user, contact_id, error=web.t()("contact.erase_confirm_needed"))
        try:
            contacts.erase(web.db(), contact_id, now=web.now(), actor=user.username)
        except UserInputError:
            bottle.abort(404, "not found")
        bottle.redirect(f"/contacts/{contact_id}?saved=1", 303)

    @app.get("/contacts/<contact_id:int>")
    @page(web)
    def contact_detail(user: security.User, contact_id: int) -> str:
        return detail(user, contact_id, notice=web.t()("common.saved") if web.query("saved") else "")

    @app.post("/contacts/<contact_id:int>")
    @page(web)
    def contact_edit(user: security.User, contact_id: int) -> Any:
        db = web.db()
        if not visible(user, store_contacts.get(db, contact_id)):
            bottle.abort(404, "not found")
        try:
            contacts.edit(db, contact_id, now=web.now(), actor=user.username, name=web.form("name").strip()[:200],
                          notes=web.form("notes")[:2000])
        except UserInputError as exc:
            bottle.response.status = 400
            return detail(user, contact_id, error=str(exc))
        bottle.redirect(f"/contacts/{contact_id}?saved=1", 303)

    @app.post("/contacts/<contact_id:int>/consent")
    @page(web)
    def contact_consent(user: security.User, contact_id: int) -> Any:
        db = web.db()
        if not visible(user, store_contacts.get(db, contact_id)):
            bottle.abort(404, "not found")   # an agent learns nothing about another agent's customer
        kind, action = web.form("kind"), web.form("action")
        values = {"kind": kind, "action": action, "source": web.form("source"), "evidence": web.form("evidence"),
                  "text_version": web.form("text_version"), "resubscribe": web.form("resubscribe") == "1"}
        try:
            if action not in ("grant", "withdraw"):
                raise UserInputError(f"action must be grant or withdraw, not {action!r}")
            if user.is_agent and values["resubscribe"]:
                # Only the customer's own START or staff may lift an opt-out; an agent would profit from it.
                raise UserInputError(web.t()("consent.agent_no_resubscribe"))
            contacts.record_consent(db, contact_id, kind, action == "grant", source=values["source"], now=web.now(),
                                    actor=user.username, user_id=user.id, evidence=values["evidence"],
                                    text_version=values["text_version"], resubscribe=values["resubscribe"])
        except UserInputError as exc:
            bottle.response.status = 400
            return detail(user, contact_id, error=str(exc), consent_values=values)
        bottle.redirect(f"/contacts/{contact_id}?saved=1#consent", 303)

    # --- import: upload, dry-run report (again with another column mapping), confirm ---------------------------

    def import_page(**extra: Any) -> str:
        values: dict[str, Any] = {"report": None, "upload": None, "rows": [], "headers": [], "done": False}
        values.update(extra)
        return web.render("contacts_import.tpl", title=web.t()("imp.title"), fields=MAPPING_FIELDS,
                          max_mb=IMPORT_MAX_BYTES // (1024 * 1024), **values)

    def refused(message: str, status: int = 400) -> str:
        bottle.response.status = status
        return import_page(error=message)

    def dry_run(user: security.User, upload: Upload, mapping: dict[str, str] | None) -> str:
        report = contacts.import_csv(web.db(), web.config, upload.path, dry_run=True, now=web.now(), mapping=mapping)
        upload = uploads.remember_mapping(upload, report.mapping if report.error is None else mapping)
        web.audit("contacts.import.check", target=upload.filename, rows=len(report.rows),
                  created=report.count("created"), updated=report.count("updated"),
                  skipped=report.count("skipped"), error=report.error)
        if report.error:
            bottle.response.status = 400
        return import_page(report=report, upload=upload, rows=shown_rows(report),
                           headers=file_headers(upload.path, report.delimiter))

    def mapping_from_form() -> dict[str, str] | None:
        """The column mapping chosen on the report page (None: recognise the columns by their names)."""
        chosen = {f: web.form(f"map_{f}") for f in MAPPING_FIELDS}
        return {f: h for f, h in chosen.items() if h} or None

    @app.get("/contacts/import")
    @page(web, *STAFF)
    def import_form(user: security.User) -> str:
        return import_page()

    @app.post("/contacts/import")
    @page(web, *STAFF)
    def import_upload(user: security.User) -> str:
        t = web.t()
        upload = bottle.request.files.get("file")
        if upload is None or getattr(upload, "file", None) is None:
            return refused(t("imp.no_file"))
        data = upload.file.read(IMPORT_MAX_BYTES + 1)
        if len(data) > IMPORT_MAX_BYTES:
            return refused(t("imp.too_big", mb=IMPORT_MAX_BYTES // (1024 * 1024)), 413)
        if not data.strip():
            return refused(t("imp.empty"))
        stored = uploads.put(data, upload.raw_filename, user.id, web.now())
        return dry_run(user, stored, None)

    @app.post("/contacts/import/<token>")
    @page(web, *STAFF)
    def import_confirm(user: security.User, token: str) -> Any:
        t = web.t()
        upload = uploads.get(token, user.id, web.now())
        if upload is None:
            return refused(t("imp.expired"), 404)
        if web.form("action") != "import":
            return dry_run(user, upload, mapping_from_form())
        taken = uploads.claim(upload)
        if taken is None:
            return refused(t("imp.expired"), 404)
        report = contacts.import_csv(web.db(), web.config, taken.path, dry_run=False, now=web.now(),
                                     mapping=taken.mapping, actor=user.username)  # audited as contacts.import
        if report.error:
            uploads.release(taken)
            bottle.response.status = 400
            return import_page(report=report, upload=upload, rows=shown_rows(report),
                               headers=file_headers(upload.path, report.delimiter))
        uploads.drop(upload.token)
        return import_page(report=report, rows=shown_rows(report), done=True)
