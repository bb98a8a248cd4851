"""The contact import page: upload, a per-row dry-run report that writes nothing, a column mapping, the confirmed
import of the very same server-side file, tokens bound to their uploader and an hour, agents refused, audit."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gateway import store
from gateway.states import MessageClass, Role
from gateway.store import contacts, users
from gateway.web import make_app
from gateway.web.contact_pages import IMPORT_TTL_S, REPORT_ROWS, Uploads, safe_filename
from tests.harness import FakeClock
from tests.test_web_support import PASSWORD, Client, add_user, make_web_config

T0 = 1_760_000_000.0
# Russian Excel: cp1251, semicolons, a number Excel turned into 7,9E+10 style text, a bad row, a repeat
SAMPLE = ("Телефон;ФИО;Агент;Теги;Согласие\r\n"
          "8 (916) 333-00-01;Ольга Иванова;A1;весна;да\r\n"
          "+7 916 333 00 02;Мария;A1;;нет\r\n"
          "12345;Кто-то;;;\r\n"
          "89163330001;Ольга повтор;;;\r\n"
          "+79162220001;Ольга Старая <b>;;vip;\r\n"
          "<script>alert(1)</script>;XSS;;;\r\n").encode("cp1251")


@pytest.fixture
def env(tmp_path: Path) -> tuple[store.Database, Any, FakeClock]:
    config = make_web_config(tmp_path)
    clock = FakeClock(T0)
    db = store.connect(config.database.path)
    add_user(db, "oper", Role.OPERATOR)
    add_user(db, "admin", Role.ADMIN)
    agent = contacts.ensure(db, "+79161110001", T0, name="Анна", role="agent", agent_code="A1")
    contacts.ensure(db, "+79162220001", T0, name="Ольга", agent_id=agent)
    add_user(db, "anna", Role.AGENT, contact_id=agent)
    return db, make_app(config, clock=clock), clock


def signed_in(app: Any, name: str) -> Client:
    client = Client(app)
    assert client.login(name, PASSWORD).status == 303
    return client


def token_of(page: str) -> str:
    found = re.search(r'action="/contacts/import/([\w-]+)"', page)
    assert found, page
    return found.group(1)


def counts(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'id="n-(\w+)">(\d+)<', page)}


def table(db: store.Database) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in db.execute("SELECT phone, name, tags, consent_advertising FROM contacts ORDER BY phone")]


def test_dry_run_reports_every_row_and_writes_nothing_then_the_import_does(env) -> None:
    db, app, _ = env
    oper = signed_in(app, "oper")
    assert "Импорт CSV" in oper.get("/contacts").text and oper.get("/contacts/import").status == 200
    before, consent_before = table(db), db.execute("SELECT count(*) FROM consent_events").fetchone()[0]
    report = oper.upload("/contacts/import", {"file": ("Клиенты май.csv", SAMPLE)})
    assert report.status == 200, report.text
    page = report.text
    assert "ничего не записано" in page and "cp1251" in page and "«;»" in page
    assert counts(page) == {"created": 2, "updated": 1, "unchanged": 0, "skipped": 3, "rows": 6}
    assert "duplicate of row 2" in page                      # the repeated number, with the row it repeats
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "Импортировать: новых 2, изменённых 1" in page
    assert table(db) == before                                # a dry run writes nothing
    assert db.execute("SELECT count(*) FROM consent_events").fetchone()[0] == consent_before
    [check] = [r for r in users.audit_entries(db) if r["action"] == "contacts.import.check"]
    assert check["actor"] == "oper" and check["target"] == "Клиенты май.csv"
    assert json.loads(check["detail"]) == {"rows": 6, "created": 2, "updated": 1, "skipped": 3, "error": None}

    token = token_of(page)
    uploads: Uploads = app.web.extras["uploads"]
    assert (uploads.root / token / "csv" / "Клиенты май.csv").read_bytes() == SAMPLE
    done = oper.post(f"/contacts/import/{token}", {"action": "import"})
    assert done.status == 200 and "Импорт выполнен" in done.text
    assert counts(done.text) == {"created": 2, "updated": 1, "unchanged": 0, "skipped": 3, "rows": 6}
    assert contacts.get_by_phone(db, "+79163330001")["name"] == "Ольга Иванова"
    assert contacts.get_by_phone(db, "+79163330001")["consent_advertising"] == 1
    assert json.loads(contacts.get_by_phone(db, "+79162220001")["tags"]) == ["vip"]
    history = contacts.consent_history(db, "+79163330001")
    assert history[-1]["source"] == "import file" and history[-1]["evidence"] == "Клиенты май.csv"
    [entry] = [r for r in users.audit_entries(db) if r["action"] == "contacts.import"]
    assert entry["actor"] == "oper" and json.loads(entry["detail"]) == {"created": 2, "updated": 1}
    assert not (uploads.root / token).exists()                # deleted after the import
    again = oper.post(f"/contacts/import/{token}", {"action": "import"})
    assert again.status == 404 and "Загрузите его снова" in again.text
    assert len(table(db)) == len(before) + 2


def test_a_column_mapping_is_checked_then_used_by_the_import(env) -> None:
    db, app, _ = env
    admin = signed_in(app, "admin")
    data = "Мобила,Клиентка,Прочее\n+79164440001,Вера,x\n+79164440002,Нина,y\n".encode()
    first = admin.upload("/contacts/import", {"file": ("list.csv", data)})
    assert first.status == 400 and "no phone column" in first.text
    assert "Импортировать" not in first.text
    token = token_of(first.text)
    assert re.search(r'<option value="Мобила" >Мобила</option>', first.text)   # the file's headers to pick from
    checked = admin.post(f"/contacts/import/{token}", {"action": "check", "map_phone": "Мобила",
                                                       "map_name": "Клиентка"})
    assert checked.status == 200 and counts(checked.text)["created"] == 2
    assert re.search(r'<option value="Мобила" selected>', checked.text)
    assert contacts.get_by_phone(db, "+79164440001") is None
    assert admin.post(f"/contacts/import/{token}", {"action": "import"}).status == 200
    assert contacts.get_by_phone(db, "+79164440001")["name"] == "Вера"   # the checked mapping, not the headers
    # a mapping naming a column the file lacks is an error in the report, not a crash
    other = token_of(admin.upload("/contacts/import", {"file": ("list.csv", data)}).text)
    bad = admin.post(f"/contacts/import/{other}", {"action": "check", "map_phone": "Нет такой"})
    assert bad.status == 400 and "not in the file" in bad.text


def test_uploads_belong_to_their_uploader_and_expire_after_an_hour(env) -> None:
    db, app, clock = env
    oper, admin = signed_in(app, "oper"), signed_in(app, "admin")
    token = token_of(oper.upload("/contacts/import", {"file": ("a.csv", SAMPLE)}).text)
    assert admin.post(f"/contacts/import/{token}", {"action": "import"}).status == 404   # not theirs
    for forged in ("..", "x" * 22, token[:-1] + ("A" if token[-1] != "A" else "B"), "%2e%2e%2fetc"):
        assert oper.post(f"/contacts/import/{forged}", {"action": "import"}).status == 404, forged
    assert contacts.get_by_phone(db, "+79163330001") is None
    uploads: Uploads = app.web.extras["uploads"]
    clock.advance(IMPORT_TTL_S + 1)
    oper = signed_in(app, "oper")  # the session idled out meanwhile
    assert oper.post(f"/contacts/import/{token}", {"action": "import"}).status == 404
    assert not (uploads.root / token).exists()
    assert contacts.get_by_phone(db, "+79163330001") is None


def test_agents_may_not_import(env) -> None:
    db, app, _ = env
    anna = signed_in(app, "anna")
    assert anna.get("/contacts/import").status == 403
    assert anna.upload("/contacts/import", {"file": ("a.csv", SAMPLE)}).status == 403
    assert "/contacts/import" not in anna.get("/contacts").text
    assert contacts.get_by_phone(db, "+79163330001") is None and not list(app.web.extras["uploads"].root.iterdir())


def test_bad_uploads_are_refused_or_reported_without_a_crash(env) -> None:
    db, app, _ = env
    oper = signed_in(app, "oper")
    assert oper.upload("/contacts/import", {}).status == 400                          # no file
    assert "Файл пустой" in oper.upload("/contacts/import", {"file": ("e.csv", b"")}).text
    big = oper.upload("/contacts/import", {"file": ("big.csv", b"phone\n" + b"+79160000000\n" * 500_000)})
    assert big.status == 413                                                           # over 5 MiB
    junk = oper.upload("/contacts/import", {"file": ("photo.jpg", bytes(range(256)) * 20)})
    assert junk.status in (200, 400) and "Traceback" not in junk.text
    assert oper.upload("/contacts/import", {"file": ("a.csv", SAMPLE)}, csrf=False).status == 403
    assert contacts.get_by_phone(db, "+79163330001") is None


def test_a_long_report_lists_every_skipped_row_and_counts_all(env) -> None:
    _, app, _ = env
    oper = signed_in(app, "oper")
    lines = ["phone,name"] + [f"+7916555{i:04d},N{i}" for i in range(REPORT_ROWS + 200)] + ["bad,Z"]
    page = oper.upload("/contacts/import", {"file": ("long.csv", "\n".join(lines).encode())}).text
    assert counts(page) == {"created": REPORT_ROWS + 200, "updated": 0, "unchanged": 0, "skipped": 1,
                            "rows": REPORT_ROWS + 201}
    assert f"Показаны {REPORT_ROWS} строк из {REPORT_ROWS + 201}" in page
    assert page.count('<tr class="skipped">') == 1 and page.count("<tr class=") == REPORT_ROWS


def test_safe_filename() -> None:
    assert safe_filename("C:\\Users\\x\\Клиенты май.csv") == "Клиенты май.csv"
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("..") == "contacts.csv" and safe_filename(None) == "contacts.csv"
    assert safe_filename("a<b>;|.csv") == "a_b_.csv"


def test_upload_store_is_private_and_sweeps_leftovers(tmp_path: Path) -> None:
    import os

    uploads = Uploads(tmp_path / "import-uploads")
    kept = uploads.put(b"phone\n+79160000001\n", "a.csv", 1, T0)
    assert (tmp_path / "import-uploads").stat().st_mode & 0o777 == 0o700
    assert uploads.get(kept.token, 1, T0 + 10) == kept and uploads.get(kept.token, 2, T0 + 10) is None
    (uploads.root / "junk").mkdir()                              # no meta data: a crash's leftover
    (uploads.root / "stray.txt").write_text("x")
    staging = uploads.root / ".in-progress"                      # another thread is writing this one
    staging.mkdir()
    old_staging = uploads.root / ".crashed"
    old_staging.mkdir()
    os.utime(old_staging, (0, 0))
    assert uploads.sweep(T0 + 20) == 3
    assert sorted(p.name for p in uploads.root.iterdir()) == [".in-progress", kept.token]
    assert uploads.sweep(T0 + IMPORT_TTL_S + 1) == 1 and uploads.get(kept.token, 1, T0 + IMPORT_TTL_S + 1) is None


def test_an_upload_is_imported_by_one_confirmation_only(tmp_path: Path) -> None:
    from gateway.web.contact_pages import Uploads

    uploads = Uploads(tmp_path / "uploads")
    upload = uploads.put("phone;name\n+79161234567;Ольга\n".encode(), "list.csv", user_id=1, now=1000.0)
    first, second = uploads.claim(upload), uploads.claim(upload)
    assert first is not None and first.path.is_file() and second is None
    assert uploads.get(upload.token, 1, 1001.0) is None  # taken: a third request finds nothing
    uploads.release(first)  # the import refused it: back for another try
    assert uploads.get(upload.token, 1, 1002.0) is not None
