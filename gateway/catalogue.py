"""The product catalogue: CSV import (`smsgw import catalogue FILE`) into the table orders are checked against.

Accepted files: UTF-8 (with or without BOM) or cp1251 (Russian Excel); comma, semicolon or tab separated;
a header row naming the columns in Russian or English (code/код/артикул, name/название/наименование,
price/цена, points/баллы/ББ); price and points may use a decimal comma and spaces between thousands.
Every good row is imported in one transaction; every bad row is skipped and reported with its line number
and the reason, and then the report is not ok (the CLI exits 1) so a script notices.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from gateway import store
from gateway.csvtext import read_text, sniff_delimiter
from gateway.store import commands as cq

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_NAME = 200
_CODE_RE = re.compile(r"^[0-9]{4,6}$")
_NUMBER_RE = re.compile(r"^[0-9]+(?:[.,][0-9]+)?$")

_HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("code", "sku", "article", "код", "артикул", "код товара", "номер"),
    "name": ("name", "title", "product", "description", "название", "наименование", "товар", "продукт"),
    "price": ("price", "цена", "стоимость", "цена руб", "цена, руб", "цена, руб."),
    "points": ("points", "bp", "pv", "баллы", "бб", "балл", "бонусные баллы"),
}


@dataclass(frozen=True)
class Skipped:
    """A row left out of the import and why."""

    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did; `str()` is the summary shown to staff."""

    path: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    error: str | None = None
    encoding: str = ""
    delimiter: str = ""

    @property
    def ok(self) -> bool:
        """True when the file was read and every row imported."""
        return self.error is None and not self.skipped

    def __str__(self) -> str:
        """A human summary: counts, then each skipped row with its reason."""
        if self.error is not None:
            return f"{self.path}: nothing imported: {self.error}"
        sep = {",": "comma", ";": "semicolon", "\t": "tab"}.get(self.delimiter, repr(self.delimiter))
        lines = [f"{self.path} ({self.encoding}, {sep}-separated): {self.created} created, {self.updated} updated, "
                 f"{self.unchanged} unchanged, {len(self.skipped)} skipped"]
        for skip in self.skipped[:100]:
            lines.append(f"  line {skip.line}: {skip.reason}")
        if len(self.skipped) > 100:
            lines.append(f"  … and {len(self.skipped) - 100} more skipped rows")
        return "\n".join(lines)


def _column(name: str) -> str | None:
    """The field a header cell names, or None."""
    key = re.sub(r"\s+", " ", name.strip().strip('"').casefold().replace("ё", "е"))
    for column, names in _HEADERS.items():
        if key in names:
            return column
    return None


def _number(text: str) -> float | None:
    """A non-negative decimal from "1 234,50", "199.9", "199,90 ₽"; None when it is not one."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text).removesuffix("₽").removesuffix("руб.").removesuffix("руб")
    if not _NUMBER_RE.match(cleaned):
        return None
    return float(cleaned.replace(",", "."))


def import_csv(db: store.Database, path: Path, *, now: float) -> ImportReport:
    """Import a catalogue CSV: create or update products by code; see the module docstring for the format."""
    report = ImportReport(str(path))
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            report.error = f"the file is {size} bytes; at most {MAX_FILE_BYTES} are accepted"
            return report
        raw = path.read_bytes()
    except OSError as exc:
        report.error = f"cannot read the file: {exc.strerror or exc}"
        return report
    text, report.encoding = read_text(raw.replace(b"\x00", b""))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    first = next((ln for ln in text.split("\n") if ln.strip()), "")
    if not first:
        report.error = "the file is empty"
        return report
    report.delimiter = sniff_delimiter(first)
    rows = csv.reader(io.StringIO(text), delimiter=report.delimiter)
    try:
        header: list[str] = []
        while not any(c.strip() for c in header):
            header = next(rows)
        columns = [_column(c) for c in header]
        missing = [c for c in ("code", "name", "price") if c not in columns]
        if missing:
            report.error = (f"the header row must name the columns code; name; price; points (in Russian or English); "
                            f"missing: {', '.join(missing)}; found: {'; '.join(h.strip() for h in header)}")
            return report
        where = {c: columns.index(c) for c in ("code", "name", "price", "points") if c in columns}
        seen: dict[str, int] = {}
        good: list[tuple[str, str, int, float]] = []
        while True:
            try:
                cells = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:  # one bad line (a huge field, a stray quote at the end): skip it only
                report.skipped.append(Skipped(rows.line_num, f"not readable as CSV: {exc}"))
                continue
            line = rows.line_num
            if not any(c.strip() for c in cells):
                continue
            problem, product = _row(cells, where, seen, line)
            if problem is not None:
                report.skipped.append(Skipped(line, problem))
            elif product is not None:
                good.append(product)
    except csv.Error as exc:
        report.error = f"line {rows.line_num}: not readable as CSV: {exc}"
        return report
    with store.immediate(db):
        for code, name, price, points in good:
            outcome = cq.catalogue_upsert(db, code, name, price, points, now)
            setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _row(cells: list[str], where: dict[str, int], seen: dict[str, int],
         line: int) -> tuple[str | None, tuple[str, str, int, float] | None]:
    """(reason to skip, None) or (None, product) for one data row."""
    def cell(column: str) -> str:
        index = where.get(column)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    code = cell("code")
    if not code:
        return "no product code", None
    if not _CODE_RE.match(code):
        shown = code if len(code) <= 20 else code[:17] + "..."
        return f"product code {shown!r} is not 4-6 digits", None
    if code in seen:
        return f"product code {code} appears again (first on line {seen[code]})", None
    name = " ".join(cell("name").split())
    if not name:
        return f"product {code} has no name", None
    if len(name) > MAX_NAME:
        return f"product {code}: the name is longer than {MAX_NAME} characters", None
    price_text = cell("price")
    price = _number(price_text)
    if price is None:
        return f"product {code}: price {price_text[:20]!r} is not a number like 199,90", None
    points_text = cell("points")
    points = _number(points_text) if points_text else 0.0
    if points is None:
        return f"product {code}: points {points_text[:20]!r} is not a number like 12,5", None
    seen[code] = line
    return None, (code, name, round(price * 100), points)
