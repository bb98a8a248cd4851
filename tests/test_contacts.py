"""Contacts: CSV import (encodings, delimiters, Excel damage, dry run, idempotence, conflicts), export, consent, erasure."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from gateway import config as configuration
from gateway import contacts, store
from gateway.errors import UserInputError
from gateway.states import MessageClass
from gateway.store import campaigns as cstore
from gateway.store import contacts as cs

NOW = 1_780_000_000.0
CONFIG = configuration.parse({})


@pytest.fixture
def db() -> store.Database:
    return store.connect(":memory:")


def _write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


BAD_KINDS = [
    ("7,92E+10", "digits are lost"),
    ("12345", "not a valid phone number"),
    ("+78002000600", "toll-free"),
    ("+74951234567", "not mobile"),
    ("+380501234567", "not an allowed country"),
    ("звоните", "not a phone number"),
]


def test_ten_thousand_row_cp1251_file_with_300_bad_rows(tmp_path: Path, db: store.Database) -> None:
    lines = ["Телефон;ФИО;Агент;Теги;День рождения;Город;Согласие на рекламу"]
    lines.append("+79160000001;Анна Петрова;;агенты;;Москва;нет")
    bad: dict[int, str] = {}  # file line → expected reason fragment
    for i in range(10_000):
        number = f"8 916 {1000000 + i:07d}"
        if i % 33 == 7 and len(bad) < 300:
            number, reason = BAD_KINDS[len(bad) % len(BAD_KINDS)]
            bad[i + 3] = reason
        lines.append(f"{number};Клиентка Ёлкина {i};+79160000001;vip, весна;01.02.1980;Казань;да")
    assert len(bad) == 300
    path = _write(tmp_path / "clients.csv", lines, "cp1251")

    dry = contacts.import_csv(db, CONFIG, path, dry_run=True, now=NOW)
    assert dry.error is None and dry.encoding == "cp1251" and dry.delimiter == ";"
    assert dry.count("created") == 9_701 and dry.count("skipped") == 300 and not dry.ok
    skipped = {r.line: r.reason for r in dry.rows if r.action == "skipped"}
    assert set(skipped) == set(bad)
    for line, fragment in bad.items():
        assert fragment in skipped[line], (line, skipped[line])
    text = str(dry)
    assert "DRY RUN" in text and f"row {min(bad)}: " in text
    assert db.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0  # a dry run writes nothing

    real = contacts.import_csv(db, CONFIG, path, dry_run=False, now=NOW + 1)
    assert [(r.line, r.action) for r in real.rows] == [(r.line, r.action) for r in dry.rows]
    assert db.execute("SELECT count(*) FROM contacts").fetchone()[0] == 9_701
    assert db.execute("SELECT count(*) FROM consent_events WHERE source = 'import file'").fetchone()[0] == 9_700
    row = cs.get_by_phone(db, "+79161000000")
    assert row["name"] == "Клиентка Ёлкина 0" and json.loads(row["tags"]) == ["vip", "весна"]
    assert json.loads(row["attributes"]) == {"birthday": "1980-02-01", "city": "Казань"}
    assert row["agent_id"] == cs.get_by_phone(db, "+79160000001")["id"] and row["consent_advertising"] == 1
    event = cs.consent_history(db, "+79161000000")[0]
    assert (event["source"], event["evidence"], event["action"]) == ("import file", "clients.csv", "granted")

    again = contacts.import_csv(db, CONFIG, path, dry_run=False, now=NOW + 2)
    assert again.count("created") == again.count("updated") == 0 and again.count("unchanged") == 9_701
    assert db.execute("SELECT count(*) FROM contacts WHERE updated_at > ?", [NOW + 1]).fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM consent_events").fetchone()[0] == 9_700


@pytest.mark.parametrize("raw,expected", [
    ("'+79161234567", "+79161234567"),        # Excel's text marker
    ("79161234567", "+79161234567"),
    ("7,9161234567E+10", "+79161234567"),     # scientific notation that kept every digit
    ("7.9161234567E+10", "+79161234567"),
    ("79161234567,0", "+79161234567"),        # a number column with decimals
    ("8 (916) 123-45-67", "+79161234567"),
])
def test_excel_mangled_numbers_are_repaired_when_no_digit_was_lost(raw: str, expected: str) -> None:
    assert contacts.clean_number(raw, "RU", frozenset({"RU"})) == expected


@pytest.mark.parametrize("raw", ["7,92E+10", "7,9161E+10", "", "'", "+7916123456789012"])
def test_numbers_excel_damaged_beyond_repair_are_rejected(raw: str) -> None:
    with pytest.raises(UserInputError):
        contacts.clean_number(raw, "RU", frozenset({"RU"}))


@pytest.mark.parametrize("encoding,bom,delimiter", [("utf-8", b"\xef\xbb\xbf", ","), ("utf-8", b"", ";"),
                                                    ("cp1251", b"", ","), ("utf-8", b"", "\t")])
def test_encodings_and_delimiters_are_detected(tmp_path: Path, db: store.Database, encoding: str, bom: bytes,
                                               delimiter: str) -> None:
    d = delimiter
    text = f"phone{d}имя{d}город\r\n+79161234567{d}Ольга{d}Омск\r\n'+79161234568{d}\"Мария, Анна\"{d}Тула\r\n"
    path = tmp_path / "c.csv"
    path.write_bytes(bom + text.encode(encoding))
    report = contacts.import_csv(db, CONFIG, path, dry_run=False, now=NOW)
    assert report.ok, str(report)
    assert cs.get_by_phone(db, "+79161234568")["name"] == "Мария, Анна"
    assert json.loads(cs.get_by_phone(db, "+79161234567")["attributes"]) == {"city": "Омск"}


def test_file_level_problems_are_reported_not_raised(tmp_path: Path, db: store.Database) -> None:
    assert "cannot read" in str(contacts.import_csv(db, CONFIG, tmp_path / "missing.csv", dry_run=True, now=NOW))
    empty = _write(tmp_path / "empty.csv", [""])
    assert not contacts.import_csv(db, CONFIG, empty, dry_run=True, now=NOW).ok
    no_phone = _write(tmp_path / "nophone.csv", ["name;city", "Ольга;Омск"])
    report = contacts.import_csv(db, CONFIG, no_phone, dry_run=True, now=NOW)
    assert report.error and "phone" in report.error
    mapped = _write(tmp_path / "mapped.csv", ["Мобила;Кто", "+79161234567;Ольга"])
    report = contacts.import_csv(db, CONFIG, mapped, dry_run=False, now=NOW, mapping={"phone": "Мобила", "name": "Кто"})
    assert report.ok and cs.get_by_phone(db, "+79161234567")["name"] == "Ольга"


def test_duplicates_conflicts_and_bad_fields_are_skipped_with_reasons(tmp_path: Path, db: store.Database) -> None:
    a1 = cs.ensure(db, "+79160000001", NOW, name="Анна", role="agent", agent_code="A1")
    cs.ensure(db, "+79160000002", NOW, name="Ирина", role="agent", agent_code="A2")
    cs.ensure(db, "+79161111111", NOW, name="Ольга", agent_id=a1)
    path = _write(tmp_path / "c.csv", [
        "phone;name;agent;role;timezone;birthday;consent",
        "+79161111111;Ольга;A2;;;;",              # owned by A1: a conflict
        "+79162222222;Мария;A1;;;;да",
        "89162222222;Мария 2;A1;;;;",             # the same number again
        "+79163333333;Елена;;директор;;;",        # unknown role
        "+79164444444;Юлия;;;Mars/Olympus;;",     # unknown zone
        "+79165555555;Вера;;;;31.02.1990;",       # no such date
        "+79166666666;Зоя;Z9;;;;",                # unknown agent
        "+79167777777;Нина;;;;;может быть",       # consent must be yes/no
    ])
    report = contacts.import_csv(db, CONFIG, path, dry_run=False, now=NOW)
    reasons = {r.line: (r.action, r.reason) for r in report.rows}
    assert reasons[2][0] == "skipped" and "conflict" in reasons[2][1]
    assert reasons[3][0] == "created"
    assert reasons[4] == ("skipped", "duplicate of row 3")
    for line, fragment in [(5, "role"), (6, "time zone"), (7, "birthday"), (8, "agent"), (9, "consent")]:
        assert reasons[line][0] == "skipped" and fragment in reasons[line][1], reasons[line]
    olga = cs.get_by_phone(db, "+79161111111")
    assert olga["agent_id"] == a1  # never silently taken over …
    assert olga["conflict_agent_id"] == cs.get_by_phone(db, "+79160000002")["id"]  # … but recorded for staff
    assert [c["phone"] for c in cs.conflicts(db)] == ["+79161111111"]


def test_import_never_grants_consent_to_an_opted_out_number(tmp_path: Path, db: store.Database) -> None:
    cs.ensure(db, "+79161111111", NOW, name="Ольга")
    cs.opt_out(db, "+79161111111", "sms", NOW)
    path = _write(tmp_path / "c.csv", ["phone;consent", "+79161111111;да"])
    report = contacts.import_csv(db, CONFIG, path, dry_run=False, now=NOW + 1)
    assert report.rows[0].action == "unchanged" and "opted out" in report.rows[0].reason
    row = cs.get_by_phone(db, "+79161111111")
    assert row["consent_advertising"] == 0 and row["opted_out_at"] == NOW


def test_allowed_countries_come_from_the_settings(tmp_path: Path, db: store.Database) -> None:
    path = _write(tmp_path / "c.csv", ["phone", "+77011234567"])
    assert contacts.import_csv(db, CONFIG, path, dry_run=True, now=NOW).rows[0].action == "skipped"
    cstore.set_setting(db, "contacts.allowed_regions", ["RU", "KZ"], NOW)
    assert contacts.import_csv(db, CONFIG, path, dry_run=True, now=NOW).rows[0].action == "created"


def test_export_is_safe_against_formula_injection_and_imports_back_unchanged(tmp_path: Path,
                                                                            db: store.Database) -> None:
    agent = cs.ensure(db, "+79160000001", NOW, name="Анна", role="agent", agent_code="A1")
    cs.ensure(db, "+79161111111", NOW, name='=HYPERLINK("http://evil","x")', agent_id=agent,
              notes="+1 звонок", tags=json.dumps(["@vip", "весна"]), attributes=json.dumps({"city": "-Омск", "размер": "M"}))
    cs.record_consent(db, "+79161111111", MessageClass.ADVERTISING, True, "paper", NOW)
    path = tmp_path / "out.csv"
    assert contacts.export_csv(db, path) == 2
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    header, olga = rows[0], rows[2]
    for cell in olga:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert olga[header.index("name")] == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert olga[header.index("phone")] == "'+79161111111"
    assert olga[header.index("размер")] == "M" and olga[header.index("consent_advertising")] == "да"
    report = contacts.import_csv(db, CONFIG, path, dry_run=False, now=NOW + 5)
    assert report.ok and report.count("unchanged") == 2, str(report)


def test_claims_never_take_a_contact_over(db: store.Database) -> None:
    a1 = cs.ensure(db, "+79160000001", NOW, role="agent")
    a2 = cs.ensure(db, "+79160000002", NOW, role="agent")
    c = contacts.add(db, CONFIG, "8 916 111-11-11", now=NOW, actor="staff", name="Ольга")
    assert contacts.claim(db, c, a1, now=NOW, actor="staff") == contacts.Claim(c, a1, False)
    assert contacts.claim(db, c, a2, now=NOW, actor="staff") == contacts.Claim(c, a1, True)
    assert cs.get(db, c)["agent_id"] == a1
    contacts.resolve_conflict(db, c, give_to_claimant=True, now=NOW, actor="admin")
    assert cs.get(db, c)["agent_id"] == a2 and cs.get(db, c)["conflict_agent_id"] is None
    with pytest.raises(UserInputError):
        contacts.add(db, CONFIG, "+79161111111", now=NOW, actor="staff")
    with pytest.raises(UserInputError):
        contacts.edit(db, c, agent_id=a1, now=NOW, actor="staff")


def test_tags_attributes_and_reminders(db: store.Database) -> None:
    c = contacts.add(db, CONFIG, "+79161111111", now=NOW, actor="staff", tags=["vip"])
    assert contacts.tag(db, c, ["весна"], ["vip"], now=NOW, actor="staff") == ["весна"]
    attrs = contacts.set_attributes(db, c, {"birthday": "3.4", "city": "Омск"}, now=NOW, actor="staff")
    assert attrs == {"birthday": "--04-03", "city": "Омск"}
    assert contacts.set_attributes(db, c, {"city": None}, now=NOW, actor="staff") == {"birthday": "--04-03"}
    contacts.remind(db, c, due_at=NOW + 7 * 86400, text="перезвонить", now=NOW, actor="staff")
    assert contacts.due_reminders(db, NOW + 86400) == []
    due = contacts.due_reminders(db, NOW + 8 * 86400)
    assert [r["text"] for r in due] == ["перезвонить"]
    assert cs.complete_reminder(db, due[0]["id"], NOW) and contacts.due_reminders(db, NOW + 8 * 86400) == []


def test_export_and_erase_on_request_keep_the_opt_out(db: store.Database) -> None:
    c = contacts.add(db, CONFIG, "+79161111111", now=NOW, actor="staff", name="Ольга", notes="любит розовое")
    cs.record_consent(db, "+79161111111", MessageClass.ADVERTISING, True, "form", NOW, text_version="v1")
    db.execute("INSERT INTO inbox (phone, body, received_at) VALUES ('+79161111111', 'хочу помаду', ?)", [NOW])
    data = json.loads(contacts.export_personal_data(db, c, now=NOW, actor="staff"))
    assert data["contact"]["notes"] == "любит розовое" and data["inbox"][0]["body"] == "хочу помаду"
    history = contacts.consent_history_csv(db, "+79161111111")
    assert "granted" in history and "v1" in history
    contacts.erase(db, c, now=NOW + 1, actor="staff")
    row = cs.get(db, c)
    assert (row["name"], row["notes"], row["erased_at"], row["opted_out_at"]) == ("", "", NOW + 1, NOW + 1)
    assert db.execute("SELECT body FROM inbox").fetchone()[0] is None
    actions = [e["action"] for e in cs.consent_history(db, "+79161111111")]
    assert actions == ["granted", "withdrawn"]  # the log stays: it is the proof and the block
    assert cs.search(db, "Ольга") == []


def test_retention_blanks_old_bodies_only(db: store.Database) -> None:
    year = 365 * 86400
    for at in (NOW - 2 * year, NOW - 86400):
        db.execute("INSERT INTO inbox (phone, body, received_at) VALUES ('+79161111111', 'текст', ?)", [at])
        db.execute("INSERT INTO outbox (phone, body, state, created_at, updated_at) VALUES "
                   "('+79161111111', 'текст', 'delivered', ?, ?)", [at, at])
    assert contacts.purge(db, NOW) == (1, 1)
    assert [r[0] for r in db.execute("SELECT body FROM inbox ORDER BY id")] == [None, "текст"]
    assert [r[0] for r in db.execute("SELECT body FROM outbox ORDER BY id")] == ["", "текст"]
    cstore.set_setting(db, "contacts.retention_months", 0, NOW)  # invalid: the default applies
    assert contacts.retention_months(db) == 12


def test_find_and_get(db: store.Database) -> None:
    c = contacts.add(db, CONFIG, "+79161111111", now=NOW, actor="staff", name="Ольга")
    contacts.add(db, CONFIG, "+79162222222", now=NOW, actor="staff", name="Мария", role="agent")
    assert [r["id"] for r in contacts.find(db, "Ольга")] == [c]
    assert [r["name"] for r in contacts.find(db, role="agent")] == ["Мария"]
    assert contacts.get(db, c)["phone"] == "+79161111111"
    with pytest.raises(UserInputError):
        contacts.get(db, 999)
