"""Reading CSV files people save from Russian Excel: the encoding and the separator, guessed the same way for
every import (contacts, catalogue)."""

from __future__ import annotations

UTF8_BOM = b"\xef\xbb\xbf"


def read_text(raw: bytes) -> tuple[str, str]:
    """Decode a CSV file: UTF-8 with or without BOM, else cp1251 (Russian Excel); returns (text, encoding name).

    Never raises: cp1251 decodes any byte but one, which becomes U+FFFD so the row can be reported, not lost.
    """
    if raw.startswith(UTF8_BOM):
        return raw[len(UTF8_BOM):].decode("utf-8", errors="replace"), "UTF-8 with BOM"
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        return raw.decode("cp1251", errors="replace"), "cp1251"


def sniff_delimiter(header_line: str) -> str:
    """The separator the header row uses most: semicolon (Russian Excel) wins ties, then tab, then comma."""
    counts = {d: header_line.count(d) for d in (";", "\t", ",")}
    best = max(counts.values())
    if best == 0:
        return ";"
    return next(d for d in (";", "\t", ",") if counts[d] == best)
