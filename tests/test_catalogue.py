"""Catalogue CSV import: encodings, separators, Russian/English headers, bad rows reported by line, the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway import catalogue, cli, store
from gateway.store import commands as cq

NOW = 1_773_133_200.0


@pytest.fixture
def db() -> store.Database:
    return store.connect(":memory:")


def products(db: store.Database) -> dict[str, tuple[str, int, float]]:
    return {r["code"]: (r["name"], r["price_kop"], r["points"]) for r in db.execute("SELECT * FROM catalogue")}


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "cat.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


RUSSIAN_EXCEL = "Код;Наименование;Цена;Баллы\r\n31234;Тушь «Гиордани»;599,00;12,5\r\n40001;Крем для рук;1 199,50;4\r\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
def test_russian_excel_file_in_each_encoding(db: store.Database, tmp_path: Path, encoding: str) -> None:
    report = catalogue.import_csv(db, write(tmp_path, RUSSIAN_EXCEL, encoding), now=NOW)
    assert report.ok and (report.created, report.updated, report.skipped) == (2, 0, [])
    assert products(db) == {"31234": ("Тушь «Гиордани»", 59900, 12.5), "40001": ("Крем для рук", 119950, 4.0)}
    assert "2 created, 0 updated, 0 unchanged, 0 skipped" in str(report)
    assert "semicolon" in str(report)


def test_english_comma_file_with_quotes_and_no_points_column(db: store.Database, tmp_path: Path) -> None:
    text = 'code,name,price\n22222,"Lipstick, red",349.9\n"031234",Mascara,599\n'
    report = catalogue.import_csv(db, write(tmp_path, text), now=NOW)
    assert report.ok, str(report)
    assert products(db) == {"22222": ("Lipstick, red", 34990, 0.0), "031234": ("Mascara", 59900, 0.0)}


def test_second_import_updates_and_counts_unchanged(db: store.Database, tmp_path: Path) -> None:
    catalogue.import_csv(db, write(tmp_path, RUSSIAN_EXCEL), now=NOW)
    changed = RUSSIAN_EXCEL.replace("599,00", "649,00") + "22222;Помада;349,00;7\n"
    report = catalogue.import_csv(db, write(tmp_path, changed), now=NOW + 1)
    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    assert products(db)["31234"][1] == 64900


def test_bad_rows_are_skipped_with_line_and_reason_and_the_good_ones_imported(db: store.Database,
                                                                              tmp_path: Path) -> None:
    text = ("code;name;price;points\n"
            "31234;Тушь;599;12\n"
            "12;Короткий код;100;1\n"
            "abcde;Буквы;100;1\n"
            "40001;;100;1\n"
            "40002;Крем;сто;1\n"
            "40003;Крем;100;-5\n"
            "31234;Тушь ещё раз;599;12\n"
            ";;;\n"
            "40004;Бальзам;=1+1;1\n"
            "40005;Гель;250\n")
    report = catalogue.import_csv(db, write(tmp_path, text), now=NOW)
    assert not report.ok
    assert [(s.line, s.reason.split(":")[0]) for s in report.skipped] == [
        (3, "product code '12' is not 4-6 digits"), (4, "product code 'abcde' is not 4-6 digits"),
        (5, "product 40001 has no name"), (6, "product 40002"), (7, "product 40003"),
        (8, "product code 31234 appears again (first on line 2)"), (10, "product 40004")]
    assert set(products(db)) == {"31234", "40005"}
    summary = str(report)
    assert "2 created" in summary and "7 skipped" in summary and "line 6: product 40002: price 'сто'" in summary


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    (b"\n\n  \n", "the file is empty"),
    ("артикул;описание\n1;2\n".encode(), "missing: name, price"),
    (b"just some text\n", "missing: code, name, price"),
])
def test_files_that_cannot_be_imported_say_why_and_change_nothing(db: store.Database, tmp_path: Path,
                                                                  content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    report = catalogue.import_csv(db, path, now=NOW)
    assert not report.ok and message in str(report) and "nothing imported" in str(report)
    assert products(db) == {}


def test_missing_file(db: store.Database, tmp_path: Path) -> None:
    report = catalogue.import_csv(db, tmp_path / "nope.csv", now=NOW)
    assert not report.ok and "cannot read the file" in str(report)


def test_nul_bytes_and_a_huge_field_do_not_stop_the_import(db: store.Database, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(b"code;name;price\n31234;Ma\x00scara;599\n40001;" + b"x" * 300_000 + b";1\n22222;Lip;349\n")
    report = catalogue.import_csv(db, path, now=NOW)
    assert set(products(db)) == {"31234", "22222"}
    assert len(report.skipped) == 1 and not report.ok


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_any_bytes_give_a_report_never_an_exception(tmp_path: Path, data: bytes) -> None:
    db = store.connect(":memory:")
    path = tmp_path / "fuzz.csv"
    path.write_bytes(b"code;name;price;points\n" + data)
    report = catalogue.import_csv(db, path, now=NOW)
    assert isinstance(str(report), str)
    assert report.created == cq.catalogue_count(db)


def test_cli_import_catalogue(config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, RUSSIAN_EXCEL, "cp1251")
    assert cli.main(["--config", str(config_file), "import", "catalogue", str(good)]) == 0
    assert "2 created" in capsys.readouterr().out
    bad = write(tmp_path, "code;name;price\n1;x;1\n", name="bad.csv")
    assert cli.main(["--config", str(config_file), "import", "catalogue", str(bad)]) == 1
    assert "line 2: product code '1' is not 4-6 digits" in capsys.readouterr().out
    db = store.connect(config_file.parent / "smsgw.db")
    assert cq.catalogue_count(db) == 2
