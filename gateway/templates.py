"""Message templates: `{field}` placeholders with a per-field fallback, and a preview over a whole segment.

Placeholders are matched by a regex and replaced from a dict, never through `str.format` (a template cannot reach
attributes of Python objects). Fields: FIELDS below, plus `{attr_<name>}` for a contact's free attribute. A field
whose value is missing or empty gets its fallback: the template's own, else `DEFAULT_FALLBACKS`, else "".
A literal brace is written `{{` or `}}`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway import sms, store
from gateway.errors import UserInputError
from gateway.store import campaigns as cstore

FIELDS = ("name", "first_name", "agent_name", "agent_phone", "bonus", "coupon", "order_no", "stop_hint", "city",
          "phone")
DEFAULT_FALLBACKS = {
    "name": "покупатель",
    "first_name": "покупатель",
    "agent_name": "ваш консультант",
    "bonus": "0",
    "stop_hint": "Отказ от рассылки: СТОП",
}
_TOKEN_RE = re.compile(r"\{\{|\}\}|\{([a-z_][a-z0-9_]*)\}")
_ATTR_PREFIX = "attr_"


@dataclass(frozen=True)
class Template:
    """A compiled template: literal text and field names, alternating (literal first and last)."""

    body: str
    literals: tuple[str, ...]
    fields: tuple[str, ...]
    fallbacks: Mapping[str, str]

    def render(self, values: Mapping[str, Any]) -> str:
        """The text for one recipient; missing or empty values take the field's fallback."""
        out = [self.literals[0]]
        for name, literal in zip(self.fields, self.literals[1:]):
            value = values.get(name)
            out.append(str(value) if value not in (None, "") else self.fallbacks.get(name, ""))
            out.append(literal)
        return "".join(out)


def compile_template(body: str, fallbacks: Mapping[str, str] | None = None) -> Template:
    """Check and compile a template; raises UserInputError naming an unknown field or a stray brace."""
    if not body.strip():
        raise UserInputError("the template text is empty / текст шаблона пуст")
    literals, fields, buf, pos = [], [], [], 0
    for match in _TOKEN_RE.finditer(body):
        _no_lone_brace(body[pos:match.start()])
        buf.append(body[pos:match.start()])
        pos = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            buf.append(token[0])
            continue
        name = match.group(1)
        if name not in FIELDS and not (name.startswith(_ATTR_PREFIX) and len(name) > len(_ATTR_PREFIX)):
            raise UserInputError(f"unknown field {{{name}}}; known: " + ", ".join(f"{{{f}}}" for f in FIELDS)
                                 + ", {attr_…}")
        literals.append("".join(buf))
        fields.append(name)
        buf = []
    _no_lone_brace(body[pos:])
    buf.append(body[pos:])
    tail = "".join(buf)
    merged = {**DEFAULT_FALLBACKS, **{k: v for k, v in (fallbacks or {}).items() if k in FIELDS or
                                      k.startswith(_ATTR_PREFIX)}}
    return Template(body, (*literals, tail), tuple(fields), merged)


def _no_lone_brace(text: str) -> None:
    if "{" in text or "}" in text:
        raise UserInputError("a lone { or } in the template: write {{ or }} for a brace, {name} for a field")


def first_name(name: str) -> str:
    """The given name from "Имя", "Имя Фамилия" or "Фамилия Имя Отчество" (Russian order, three words)."""
    words = name.split()
    if len(words) == 3 and words[2].endswith(("вич", "вна", "ична", "ич")):
        return words[1]
    return words[0] if words else ""


def values_for(template: Template, recipient: Any, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The field values a template needs for one recipient (a `segments.Recipient` or a dict), plus extras."""
    get = recipient.get if isinstance(recipient, Mapping) else lambda k, d=None: getattr(recipient, k, d)
    wanted = set(template.fields)
    values: dict[str, Any] = {}
    name = get("name", "") or ""
    if "name" in wanted:
        values["name"] = name
    if "first_name" in wanted:
        values["first_name"] = first_name(name)
    if "agent_name" in wanted:
        values["agent_name"] = get("agent_name", "")
    if "agent_phone" in wanted:
        values["agent_phone"] = get("agent_phone", "")
    if "phone" in wanted:
        values["phone"] = get("phone", "")
    if "city" in wanted or any(f.startswith(_ATTR_PREFIX) for f in wanted):
        attrs = json.loads(get("attributes", "{}") or "{}")
        values["city"] = attrs.get("city", "")
        for f in wanted:
            if f.startswith(_ATTR_PREFIX):
                values[f] = attrs.get(f[len(_ATTR_PREFIX):], "")
    if extra:
        values.update(extra)
    return values


def render(body: str, values: Mapping[str, Any], fallbacks: Mapping[str, str] | None = None) -> str:
    """Render a template text once (compiles it each time; campaigns compile once and call `Template.render`)."""
    return compile_template(body, fallbacks).render(values)


@dataclass(frozen=True)
class Preview:
    """A template over a whole segment: recipients, parts per message, total parts, and a few rendered texts."""

    recipients: int
    parts_histogram: dict[int, int]  # parts per message → how many messages
    total_parts: int
    encodings: dict[str, int]
    samples: tuple[tuple[str, str], ...]  # (phone, text)
    max_parts: int


def preview(template: Template, recipients: Sequence[Any], *, extra: Mapping[int, Mapping[str, Any]] | None = None,
            samples: int = 5) -> Preview:
    """Render for every recipient and count parts (encoding-aware, GSM-7 extension characters cost two)."""
    hist: Counter[int] = Counter()
    encodings: Counter[str] = Counter()
    shown: list[tuple[str, str]] = []
    for r in recipients:
        rid = r["id"] if isinstance(r, Mapping) else r.id
        phone = r["phone"] if isinstance(r, Mapping) else r.phone
        text = template.render(values_for(template, r, (extra or {}).get(rid)))
        shape = sms.plan(text)
        hist[shape.parts] += 1
        encodings[str(shape.encoding)] += 1
        if len(shown) < samples:
            shown.append((phone, text))
    return Preview(recipients=sum(hist.values()), parts_histogram=dict(sorted(hist.items())),
                   total_parts=sum(p * n for p, n in hist.items()), encodings=dict(encodings),
                   samples=tuple(shown), max_parts=max(hist) if hist else 0)


def save(db: store.Database, name: str, body: str, fallbacks: Mapping[str, str] | None = None, *, now: float) -> int:
    """Check and save (or replace) a named template; returns its id."""
    if not name.strip():
        raise UserInputError("a template needs a name")
    compile_template(body, fallbacks)
    return cstore.save_template(db, name.strip(), body, dict(fallbacks or {}), now)


def load(db: store.Database, template: int | str) -> dict[str, Any]:
    """A saved template by id or name; raises UserInputError when there is none."""
    row = cstore.get_template(db, template)
    if row is None:
        raise UserInputError(f"no template {template!r}")
    return row


def list_all(db: store.Database) -> list[dict[str, Any]]:
    """Every saved template."""
    return cstore.list_templates(db)


def delete(db: store.Database, template_id: int) -> None:
    """Delete a saved template."""
    cstore.delete_template(db, template_id)
