"""Helpers for the command-layer tests: a desk (database + config), inbound PDUs, sample agents and catalogue."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway import commands, config as configuration, inbound, store
from gateway.simulator import pdu as pdul
from gateway.states import MessageClass
from gateway.store import commands as cq
from gateway.store import contacts

# Tuesday 2026-03-10 12:00 Moscow: daytime, mid-month.
NOON = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=3))).timestamp()

AGENT = "+79161110001"
AGENT_CODE = "1234567"
OTHER_AGENT = "+79161110002"
CUSTOMER = "+79162220001"
STRANGER = "+79163330001"

PRODUCTS = [("31234", "Тушь Giordani", 59900, 12.5), ("40001", "Крем для рук", 19950, 4.0),
            ("22222", "Помада", 34900, 7.0)]


def pdus(sender: str, text: str, *, reference: int = 1, when: float = NOON) -> list[str]:
    """SMS-DELIVER PDUs (hex, SMSC prefix) of a text as a phone would send it, multipart when long."""
    encoding, parts = pdul.split_text(text)
    moment = dt.datetime.fromtimestamp(when, dt.timezone(dt.timedelta(hours=3)))
    return [pdul.encode_deliver(sender, part, moment, encoding=encoding, smsc="+79168999100",
                                concat=pdul.Concat(reference, len(parts), seq) if len(parts) > 1 else None).hex().upper()
            for seq, part in enumerate(parts, 1)]


@dataclass
class Desk:
    """A database and a config, with the command layer called the way the worker calls it."""

    db: store.Database
    config: configuration.Config
    now: float = NOON
    refs: Any = field(default_factory=lambda: itertools.count(1))

    def receive(self, sender: str, text: str, *, modem_id: int | None = None) -> int:
        """Accept the PDUs of one message and handle the completed message; returns its inbox id."""
        inbox_id = None
        for pdu in pdus(sender, text, reference=next(self.refs) % 256, when=self.now):
            inbox_id = inbound.accept_pdu(self.db, modem_id, pdu, self.now) or inbox_id
        assert inbox_id is not None
        commands.handle_inbound(self.db, self.config, inbox_id, now=self.now)
        return inbox_id

    def inbox(self, inbox_id: int) -> dict[str, Any]:
        return dict(self.db.execute("SELECT * FROM inbox WHERE id = ?", [inbox_id]).fetchone())

    def replies(self, phone: str) -> list[str]:
        """Bodies of the automatic replies queued to a number, oldest first."""
        return [r[0] for r in self.db.execute(
            "SELECT body FROM outbox WHERE phone = ? AND reply_to IS NOT NULL ORDER BY id", [phone])]

    def notices(self, phone: str) -> list[str]:
        """Bodies of the service notices (not replies) queued to a number."""
        return [r[0] for r in self.db.execute(
            "SELECT body FROM outbox WHERE phone = ? AND reply_to IS NULL AND priority = 0 ORDER BY id", [phone])]

    def count(self, table: str) -> int:
        return int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def make_desk(tmp_path: Path, *, db_path: str | None = None, **sections: dict[str, Any]) -> Desk:
    """A desk on a fresh database (in memory unless a path is given) with the sample agents and catalogue."""
    data: dict[str, Any] = {"database": {"path": db_path or str(tmp_path / "gateway.db")}, **sections}
    config = configuration.parse(data)
    db = store.connect(":memory:" if db_path is None else db_path)
    seed(db)
    return Desk(db, config)


def seed(db: store.Database, now: float = NOON) -> None:
    """Two agents (one with a consultant number), a registered customer of the first, the catalogue."""
    with store.immediate(db):
        agent = contacts.ensure(db, AGENT, now, name="Анна", role="agent", agent_code=AGENT_CODE)
        contacts.ensure(db, OTHER_AGENT, now, name="Ирина", role="agent", agent_code="A002")
        contacts.ensure(db, CUSTOMER, now, name="Ольга", role="customer", agent_id=agent)
        contacts.record_consent(db, CUSTOMER, MessageClass.ADVERTISING, True, "paper form", now)
        for code, name, price, points in PRODUCTS:
            cq.catalogue_upsert(db, code, name, price, points, now)
