"""The opt-out corpora of test_optout_corpus, through the whole command layer: rows and replies, not just parse()."""

from __future__ import annotations

from pathlib import Path

from gateway.states import InState
from tests.commands_kit import make_desk
from tests.test_optout_corpus import ORDINARY, ORDINARY_CORPUS, REVIEW_ALLOWED, TIER1_CORPUS, ordinary_variants


def test_every_tier1_variant_opts_the_sender_out_with_one_confirmation(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    assert len(TIER1_CORPUS) >= 300
    numbers = {}
    for i, text in enumerate(TIER1_CORPUS):
        phone = f"+7916800{i:04d}"
        numbers[phone] = (text, desk.receive(phone, text))
    withdrawn = {r[0]: r[1] for r in desk.db.execute(
        "SELECT phone, inbox_id FROM consent_events WHERE action = 'withdrawn'")}
    missed = [text for phone, (text, _) in numbers.items() if phone not in withdrawn]
    assert missed == []
    assert all(withdrawn[phone] == inbox_id for phone, (_, inbox_id) in numbers.items())
    opted = desk.db.execute("SELECT count(*) FROM contacts WHERE phone LIKE '+7916800%' AND opted_out_at IS NOT NULL"
                            ).fetchone()[0]
    assert opted == len(TIER1_CORPUS)
    per_phone = dict(desk.db.execute("SELECT phone, count(*) FROM outbox WHERE reply_to IS NOT NULL GROUP BY phone"
                                     ).fetchall())
    assert set(per_phone) == set(numbers) and set(per_phone.values()) == {1}


def test_no_ordinary_reply_opts_anybody_out(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    assert len(ORDINARY_CORPUS) >= 300
    review_allowed = {t for b in REVIEW_ALLOWED for t in ordinary_variants(b)}
    reviewed = []
    for i, text in enumerate(ORDINARY_CORPUS):
        inbox_id = desk.receive(f"+7916900{i:04d}", text)
        if desk.inbox(inbox_id)["state"] == InState.REVIEW:
            reviewed.append(text)
    assert desk.db.execute("SELECT count(*) FROM consent_events WHERE action = 'withdrawn'").fetchone()[0] == 0
    assert desk.db.execute("SELECT count(*) FROM contacts WHERE opted_out_at IS NOT NULL").fetchone()[0] == 0
    assert set(reviewed) <= review_allowed
    assert len(ORDINARY) >= 60
