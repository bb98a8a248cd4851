"""The SMS command grammar: inbound text → one command value, and the texts of the replies.

Pure functions; the only I/O is reading the word lists (`gateway/data/commands.toml`) once.
The effects (consent rows, cancelled bulk messages, outbox replies) belong to `commands`.

Rules of this module:
- `parse()` never raises on any `str` and always returns exactly one command value.
- Precedence: opt-out tier 1 → START → HELP → REG → orders → BAL → ALL → poll answer → opt-out
  tier 2 → Other.  Tier 1 goes first because a missed opt-out is the expensive mistake (38-FZ
  art. 18: stop "немедленно"; fines 300,000-1,000,000 RUB), while a wrong one costs one confirmation
  SMS and a START (reliability-security.md §3.3).  Tier 2 goes after the structured commands so an
  agent's "ВСЕМ ... стоп-цены" is a broadcast, and it needs no exact match because its effect (pause
  bulk sending, staff review) is cheap to undo.
- Words are compared through a "skeleton" (look-alikes resolved, Cyrillic transliterated to a lossy
  Latin key, doubled letters collapsed), so a list entry matches its Latin transliterations and
  look-alike spellings.  Digits typed for letters (0→О, 3→З, 4→Ч, 6→Б: "3AKA3", "CT0П") are read
  as letters only in a word that is otherwise letters; numbers and codes are never changed.
  Tier 1 needs the *whole* message (minus filler words) to be a listed phrase, or STOP/СТОП
  followed by at most a few words without a veto word.
- Edge cases, decided: "стоп-кран сломался?" is Other (a hyphenated compound is one word);
  "крем для стоп" is Other; "Стоп, я ошиблась в заказе" is tier 2 (veto word); "нет, спасибо" and
  "нет" are never opt-outs (a lone НЕТ after a campaign is for the caller to route, §3.3);
  "ОТМЕНА"/"CANCEL" alone are tier 1 as the issue lists them, "отмена заказа" is Other.
- Orders: a 4+-digit number where a quantity belongs is a code (the previous one has no quantity)
  only when a quantity follows it; otherwise it is a quantity that is too big ("31234 5000").  A
  spaced "x" is a word (skip word between code and quantity, unknown payment letter after SPO); only
  a glued "31234x2" is a multiplication.  `КУПОН|COUPON|ПРОМОКОД <code>` may stand among or after
  the items (one per order).  Free text after the last item is the order's `note`, as typed, unless
  it holds a code/quantity pair, names a product with a quantity ("крем 2", not "заберу после 2")
  or makes the quantity count days ("2 дня назад"): then a full order is an error and a short one,
  like any short order with prose in it, is Other (the inbox).
- The parser does not know who sent the text: `Register`, `Broadcast`, `ShortOrder` and `Balance`
  are checked against the sender's role by the caller (a customer's "Всем спасибо!" parses as a
  Broadcast and should then go to the inbox).  Call `looks_automatic()` first and never answer
  machine-made text (loop protection).
"""

from __future__ import annotations

import functools
import re
import string
import tomllib
import unicodedata
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn, TypeAlias

from gateway.errors import ConfigError

__all__ = [
    "Balance", "Broadcast", "Command", "GrammarDataError", "Help", "Lang", "OptIn", "OptOut", "Order",
    "OrderError", "OrderErrorKind", "OrderForm", "OrderLine", "Other", "Payment", "PollAnswer",
    "REPLY_FIELDS", "Register", "ShortOrder", "Usage", "Words", "detect_lang", "load_words",
    "looks_automatic", "normalise", "order_error_reply", "parse", "reply_text", "validate_order",
]


class GrammarDataError(ConfigError):
    """The command word-list file is missing or invalid; the message names the file and the key."""


class Lang(StrEnum):
    """Reply language."""

    RU = "ru"
    EN = "en"


class Payment(StrEnum):
    """Payment letter of an Oriflame-style order: K = on credit, N = immediate payment."""

    CREDIT = "credit"
    IMMEDIATE = "immediate"


class OrderForm(StrEnum):
    """Which order syntax a message used (decides the example shown in an error reply)."""

    FULL = "full"      # <consultant> SPO<n> K|N [R] <code> <qty> ...
    SHORT = "short"    # ЗАКАЗ|ORDER <code> <qty> ...


class OrderErrorKind(StrEnum):
    """What is wrong with an order; each has a reply `order_<value>` in RU and EN."""

    MISSING_CONSULTANT = "missing_consultant"
    BAD_CONSULTANT = "bad_consultant"
    MISSING_SPO = "missing_spo"
    BAD_SPO = "bad_spo"
    MISSING_PAYMENT = "missing_payment"
    BAD_PAYMENT = "bad_payment"
    REFUSE_BEFORE_PAYMENT = "refuse_before_payment"
    NO_ITEMS = "no_items"
    LETTER_FOR_CODE = "letter_for_code"
    BAD_CODE = "bad_code"
    MISSING_QTY = "missing_qty"
    QTY_ZERO = "qty_zero"
    QTY_NEGATIVE = "qty_negative"
    QTY_NOT_NUMBER = "qty_not_number"
    QTY_TOO_BIG = "qty_too_big"
    TOO_MANY_ITEMS = "too_many_items"
    MISSING_COUPON = "missing_coupon"        # КУПОН|COUPON|ПРОМОКОД with no code after it
    BAD_COUPON = "bad_coupon"                # a coupon code that is not 4-16 Latin letters/digits
    EXTRA_COUPON = "extra_coupon"            # a second coupon in one order
    UNKNOWN_CODE = "unknown_code"            # from validate_order()
    DUPLICATE_CODE = "duplicate_code"        # from validate_order()
    UNKNOWN_CONSULTANT = "unknown_consultant"  # from validate_order()


@dataclass(frozen=True)
class OptOut:
    """Opt-out request: tier 1 = automatic opt-out and one confirmation; tier 2 = pause and review."""

    tier: int
    matched: str   # the list entry that matched (for the consent/opt-out record)


@dataclass(frozen=True)
class OptIn:
    """START / СТАРТ / ПОДПИСАТЬСЯ: resubscribe with a fresh consent event."""

    matched: str = ""


@dataclass(frozen=True)
class Help:
    """HELP / ПОМОЩЬ / СПРАВКА / INFO / "?": reply with the commands."""


@dataclass(frozen=True)
class Register:
    """REG <name> [<inviter phone or agent code>]; inviter is E.164 (+7…) or an upper-case code."""

    name: str
    inviter: str | None = None

    @property
    def inviter_is_phone(self) -> bool:
        """True when the inviter was given as a phone number."""
        return self.inviter is not None and self.inviter.startswith("+")


@dataclass(frozen=True)
class OrderLine:
    """One product line: a catalogue code (digits) and a quantity (1..max_qty)."""

    code: str
    qty: int


@dataclass(frozen=True)
class Order:
    """Oriflame-style order `<consultant> SPO<n> K|N [R] <code> <qty> … [КУПОН <code>] [note]`."""

    consultant: str          # digits, or E.164 "+7…" when given as a phone
    spo: str                 # digits
    payment: Payment
    refuse_reserve: bool
    lines: tuple[OrderLine, ...]
    coupon: str | None = None   # upper-case Latin letters/digits, 4-16 long
    note: str | None = None     # free text after the items, as typed

    @property
    def consultant_is_phone(self) -> bool:
        """True when the consultant was identified by phone number."""
        return self.consultant.startswith("+")


@dataclass(frozen=True)
class ShortOrder:
    """`ЗАКАЗ|ORDER <code> <qty> … [КУПОН <code>] [note]` from a registered customer."""

    lines: tuple[OrderLine, ...]
    coupon: str | None = None   # upper-case Latin letters/digits, 4-16 long
    note: str | None = None     # free text after the items, as typed


@dataclass(frozen=True)
class Balance:
    """BAL / БАЛАНС."""


@dataclass(frozen=True)
class Broadcast:
    """ALL <text> / ВСЕМ <text> from an agent; `text` is as typed, keyword removed."""

    text: str


@dataclass(frozen=True)
class PollAnswer:
    """A reply matching one of the open poll's options; `option` is that option exactly as given."""

    option: str
    raw: str
    normalised: str


@dataclass(frozen=True)
class OrderError:
    """What is wrong with an order; `token` is what was typed, `position` the 1-based item number."""

    kind: OrderErrorKind
    form: OrderForm
    token: str = ""
    position: int | None = None


@dataclass(frozen=True)
class Usage:
    """A command keyword with missing arguments; `key` is the reply explaining its syntax."""

    key: str


@dataclass(frozen=True)
class Other:
    """Anything else: goes to the staff inbox, no automatic reply."""


Command: TypeAlias = (
    OptOut | OptIn | Help | Register | Order | ShortOrder | Balance | Broadcast | PollAnswer
    | OrderError | Usage | Other
)

# ---------------------------------------------------------------------------------------------
# Text normalisation

# Look-alike pairs after case-folding (Latin → Cyrillic).  b/в, h/н, m/м, t/т are upper-case
# look-alikes (B/В, H/Н, M/М, T/Т); after case-folding they still mark a mistyped letter.
_LAT_TO_CYR = dict(zip("abcehkmoptxy", "авсенкмортху"))
_CYR_TO_LAT = {c: l for l, c in _LAT_TO_CYR.items()}
# Letters of other scripts that people (or phone keyboards) use as Latin/Cyrillic letters.
_CONFUSABLES = str.maketrans({
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "ο": "o", "α": "a", "ε": "e", "ι": "i",
    "κ": "k", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ν": "v",
    "і": "i", "І": "I", "ј": "j", "Ј": "J", "ѕ": "s", "Ѕ": "S", "ԁ": "d", "һ": "h", "ӏ": "l",
    "є": "е", "Є": "Е", "ў": "у", "Ў": "У", "№": " ",
})
_PREFIX_RE = re.compile(r"^\s*(?:(?:re|fwd?|fw|отв|пересл)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_APOSTROPHE_RE = re.compile(r"(?<=[^\W\d_])['’`ʼ‘](?=[^\W\d_])")
_LONE_HYPHEN_RE = re.compile(r"(?<![^\W\d_])-|-(?![^\W\d_])")
_SEPARATOR_RE = re.compile(r"[^\w-]|_")
_BREVE = "\u0306"   # keeps й (и + breve) through the accent stripping
_READ_MAX = 300


def _is_cyr(ch: str) -> bool:
    """True for a Cyrillic letter."""
    return "\u0400" <= ch <= "\u04ff"


def _is_lat(ch: str) -> bool:
    """True for a case-folded basic Latin letter."""
    return "a" <= ch <= "z"


def _clean(text: str, *, strip_prefix: bool = True) -> str:
    """Prefix-stripped, NFKC, case-folded text with accents, ё and format characters removed."""
    text = text.translate(_CONFUSABLES)
    if strip_prefix:
        text = _PREFIX_RE.sub("", text)
    text = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(
        ch for ch in decomposed
        if ch == _BREVE or unicodedata.category(ch) not in ("Mn", "Me", "Cf", "Cs", "Co")
    )
    return unicodedata.normalize("NFC", kept).translate(_CONFUSABLES)


def _split_words(text: str) -> list[str]:
    """Words of cleaned text: punctuation → spaces, in-word apostrophes dropped, in-word hyphens kept."""
    text = _APOSTROPHE_RE.sub("", text)
    text = _SEPARATOR_RE.sub(" ", text)
    text = _LONE_HYPHEN_RE.sub(" ", text)
    return text.split()


# Digits that old-phone users type for the letter they resemble ("3AKA3", "CT0П", "4ерез", "6аланс").
# Read as letters only inside a word that is otherwise letters, with at least as many letters as such
# digits (twice as many when two digits stand together at an end): "60льше", "0Т", "С006ЩЕНИЯ", but
# not "SPO30", "30шт".  Numbers, codes ("A3456", "31234") and quantities are never touched, and
# orders read their numbers from the raw text (`_order_chunks`), not from these words.
_DIGIT_LETTERS = {"0": "o", "3": "з", "4": "ч", "6": "б"}
_EDGE_DIGIT_RUN_RE = re.compile(r"^[0-9]{2}|[0-9]{2}$")


def _undigit(word: str) -> str:
    """The word with look-alike digits read as letters when the rest of it is letters; else unchanged."""
    digits = letters = 0
    for ch in word:
        if ch in _DIGIT_LETTERS:
            digits += 1
        elif ch.isalpha():
            letters += 1
        elif ch != "-":
            return word
    if not digits or letters < digits or (_EDGE_DIGIT_RUN_RE.search(word) and letters < 2 * digits):
        return word
    return "".join(_DIGIT_LETTERS.get(ch, ch) for ch in word)


def _script_counts(word: str) -> tuple[int, int, int, int]:
    """(unambiguous Cyrillic, unambiguous Latin, all Cyrillic, all Latin) letter counts."""
    uc = ul = ac = al = 0
    for ch in word:
        if _is_cyr(ch):
            ac += 1
            uc += ch not in _CYR_TO_LAT
        elif _is_lat(ch):
            al += 1
            ul += ch not in _LAT_TO_CYR
    return uc, ul, ac, al


def _resolve(words: Sequence[str], force: str | None = None) -> list[str]:
    """Map look-alike letters of each word to the word's script ("cyr"/"lat").

    A word's script is the majority of its unambiguous letters (П, Ш, S, N …), then of all its
    letters.  A word made only of look-alikes (HET, OTMEHA) takes the message's majority script,
    or `force` when given, or its own letters' majority; a tie goes to Cyrillic (Russian office).
    Look-alike digits inside letter words are read as letters first (`_undigit`).
    """
    words = [_undigit(w) for w in words]
    counts = [_script_counts(w) for w in words]
    msg_c = sum(c[0] for c in counts)
    msg_l = sum(c[1] for c in counts)
    msg_pref = "cyr" if msg_c > msg_l else "lat" if msg_l > msg_c else None
    out: list[str] = []
    for word, (uc, ul, ac, al) in zip(words, counts):
        if ac == 0 and al == 0:
            out.append(word)
            continue
        if uc or ul:
            target = "cyr" if uc > ul else "lat" if ul > uc else ("cyr" if ac >= al else "lat")
        else:
            target = force or msg_pref or ("cyr" if ac >= al else "lat")
        table = _LAT_TO_CYR if target == "cyr" else _CYR_TO_LAT
        out.append("".join(table.get(ch, ch) for ch in word))
    return out


def normalise(text: str) -> str:
    """Case-folded words of `text` with "Re:" stripped, ё→е, punctuation gone, look-alikes resolved."""
    return " ".join(_resolve(_split_words(_clean(text))))


def _readings(text: str) -> list[list[str]]:
    """The normalised words, plus the readings with all-look-alike words forced to each script.

    Only the first _READ_MAX words are read: keyword commands are short, and this bounds the time
    spent on a 255-part message (orders, REG and ALL read the raw text instead).
    """
    words = _split_words(_clean(text))[:_READ_MAX]
    readings = [_resolve(words)]
    for force in ("cyr", "lat"):
        alt = _resolve(words, force)
        if alt not in readings:
            readings.append(alt)
    if len(words) >= 3 and all(len(w) == 1 for w in words):   # "С Т О П", "s.t.o.p"
        readings.append(_resolve(["".join(words)]))
    return readings


def detect_lang(text: str, default: Lang = Lang.EN) -> Lang:
    """Reply language of a message: RU when it has more Cyrillic than Latin letters, else EN."""
    letters = normalise(text)
    cyr = sum(_is_cyr(ch) for ch in letters)
    lat = sum(_is_lat(ch) for ch in letters)
    if cyr > lat:
        return Lang.RU
    if lat > cyr:
        return Lang.EN
    return default


# Cyrillic → lossy Latin key; Latin spellings of the same sounds are folded by _SKELETON_RULES.
_TRANSLIT = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sh",
    "ъ": "", "ы": "i", "ь": "", "э": "e", "ю": "yu", "я": "ya",
})
# Applied in order: digraphs first (upper-case placeholders cannot occur in case-folded input).
_SKELETON_RULES = (
    ("shch", "S"), ("sch", "S"), ("sh", "S"), ("ch", "C"), ("zh", "Z"), ("kh", "h"), ("ph", "f"),
    ("ck", "k"), ("x", "h"), ("w", "v"), ("q", "k"), ("c", "k"), ("-", ""),
)
# Then the soft/iotated vowels, each in one pass so that every spelling lands on the same key:
# я/ya/ja/ia/iya → a, ю/yu/ju/iu → u, ё/yo/jo/io → e, е/ye/je → e, й/ы/y/j → i.
_I_RUN_RE = re.compile(r"[iyj]+")
_IO_RE = re.compile(r"io")
_I_VOWEL_RE = re.compile(r"i(?=[aeu])")
_REPEAT_RE = re.compile(r"(.)\1+")
_STEM_MAX = 24   # longest stem a pattern may use; bounds the work on a 10,000-letter "word"


@functools.lru_cache(maxsize=4096)
def _prefix_skeletons(word: str) -> frozenset[str]:
    """Skeletons of every prefix of a word: a stem matches when it is one of them.

    Comparing against the word's own skeleton would not do: the key of "согласия" is "soglasa"
    (и before a vowel folds away), which does not start with "soglasi", the key of "согласи".
    """
    return frozenset(_skeleton(word[:k]) for k in range(1, min(len(word), _STEM_MAX) + 1))


@functools.lru_cache(maxsize=4096)
def _skeleton(word: str) -> str:
    """Lossy Latin key of one normalised word: хватит, hvatit, xvatit, khvatit → "hvatit"."""
    key = word.translate(_TRANSLIT)
    for old, new in _SKELETON_RULES:
        key = key.replace(old, new)
    key = _I_VOWEL_RE.sub("", _IO_RE.sub("e", _I_RUN_RE.sub("i", key)))
    return _REPEAT_RE.sub(r"\1", key)


# ---------------------------------------------------------------------------------------------
# Word lists


@dataclass(frozen=True)
class _Pattern:
    """A compiled word pattern: skeleton words, each exact or prefix, optionally anchored."""

    source: str
    anchored: bool
    words: tuple[tuple[str, bool], ...]   # (skeleton, is_prefix)

    def find(self, words: Sequence[str]) -> int:
        """Index of the first match in the normalised `words`, or -1."""
        n = len(self.words)
        starts = range(1) if self.anchored else range(len(words) - n + 1)
        for i in starts:
            if i + n > len(words):
                break
            if all(
                key in _prefix_skeletons(words[i + j]) if prefix else _skeleton(words[i + j]) == key
                for j, (key, prefix) in enumerate(self.words)
            ):
                return i
        return -1


@dataclass(frozen=True)
class Words:
    """The loaded, compiled word lists and reply texts."""

    source: str
    tier1: Mapping[str, str]            # phrase key → phrase as listed
    fillers: frozenset[str]
    stop_prefix: Mapping[str, str]
    max_words_after_stop: int
    stop_prefix_veto: tuple[_Pattern, ...]
    tier2: tuple[_Pattern, ...]
    tier2_ignore: tuple[_Pattern, ...]
    optin: Mapping[str, str]
    help: Mapping[str, str]
    register: frozenset[str]
    order: frozenset[str]
    order_skip: frozenset[str]
    order_trailing: frozenset[str]
    coupon: frozenset[str]
    quantity_nouns: tuple[_Pattern, ...]
    time_prepositions: tuple[_Pattern, ...]
    max_qty: int
    max_lines: int
    balance: Mapping[str, str]
    broadcast: frozenset[str]
    poll_yes: frozenset[str]
    poll_no: frozenset[str]
    poll_fillers: frozenset[str]
    automatic: tuple[_Pattern, ...]
    replies: Mapping[str, Mapping[Lang, str]]
    echoes: tuple[str, ...]             # normalised fixed parts of our own replies


_ITEM = ("token", "position", "example", "max_qty", "max_lines")
#: Every reply key and the placeholders its texts may use.
REPLY_FIELDS: Mapping[str, tuple[str, ...]] = {
    "example_full": (), "example_short": (), "example_coupon": (),
    "optout": (), "optin": (), "help": (),
    "reg_welcome": ("name",), "reg_already": ("name",), "reg_usage": (),
    "reg_agent_notify": ("name", "phone"),
    "order_accepted": ("order_id", "items"), "not_registered": (), "balance": ("balance",),
    "broadcast_sent": ("count",), "broadcast_usage": (), "broadcast_not_agent": (),
    "poll_thanks": (),
    **{f"order_{kind.value}": _ITEM + ("codes",) for kind in OrderErrorKind},
}

_SECTIONS: Mapping[str, frozenset[str]] = {
    "version": frozenset(),
    "optout": frozenset({"tier1", "fillers", "stop_prefix", "max_words_after_stop", "stop_prefix_veto",
                         "tier2", "tier2_ignore"}),
    "optin": frozenset({"keywords"}), "help": frozenset({"keywords"}),
    "register": frozenset({"keywords"}), "balance": frozenset({"keywords"}),
    "broadcast": frozenset({"keywords"}),
    "order": frozenset({"keywords", "coupon_keywords", "skip_words", "trailing_words", "quantity_nouns",
                        "time_prepositions", "max_qty", "max_lines"}),
    "poll": frozenset({"yes", "no", "fillers"}),
    "automatic": frozenset({"patterns"}),
    "replies": frozenset(REPLY_FIELDS),
}


def _word_skeletons(phrase: str) -> list[str]:
    """Skeletons of the words of a list entry."""
    return [_skeleton(w) for w in _resolve(_split_words(_clean(phrase)))]


class _Loader:
    """Reads one TOML document, checking keys and types; errors name the file and the key."""

    def __init__(self, source: str, data: Mapping[str, Any]) -> None:
        """Check sections and keys up front."""
        self.source = source
        self.data = data
        for section, value in data.items():
            if section not in _SECTIONS:
                self.fail(section, "unknown section")
            keys = _SECTIONS[section]
            if keys and not isinstance(value, dict):
                self.fail(section, "must be a table")
            if keys:
                for key in value:
                    if key not in keys:
                        self.fail(f"{section}.{key}", "unknown key")

    def fail(self, key: str, why: str) -> NoReturn:
        """Raise GrammarDataError naming the file and the key."""
        raise GrammarDataError(f"{self.source}: {key}: {why}")

    def strings(self, section: str, key: str) -> tuple[str, ...]:
        """A required non-empty list of non-empty strings."""
        value = self.data.get(section, {}).get(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(f"{section}.{key}", f"expected a non-empty list of non-empty strings, found {value!r}")
        return tuple(value)

    def integer(self, section: str, key: str, low: int, high: int) -> int:
        """A required integer within [low, high]."""
        value = self.data.get(section, {}).get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.fail(f"{section}.{key}", f"expected an integer {low}..{high}, found {value!r}")
        return value

    def keys(self, section: str, key: str, fillers: frozenset[str] = frozenset()) -> dict[str, str]:
        """Phrase key (filler-free skeletons, spaces removed) → phrase as listed."""
        out: dict[str, str] = {}
        for phrase in self.strings(section, key):
            core = "".join(s for s in _word_skeletons(phrase) if s not in fillers)
            if not core:
                self.fail(f"{section}.{key}", f"{phrase!r} is empty once filler words are dropped")
            out.setdefault(core, phrase)
        return out

    def word_set(self, section: str, key: str) -> frozenset[str]:
        """Skeletons of single-word (or space-joined) entries."""
        return frozenset(" ".join(_word_skeletons(p)) for p in self.strings(section, key))

    def patterns(self, section: str, key: str) -> tuple[_Pattern, ...]:
        """Compiled word patterns (syntax in commands.toml)."""
        out = []
        for source in self.strings(section, key):
            text = source.strip()
            anchored = text.startswith("^")
            parts: list[tuple[str, bool]] = []
            for raw in text.lstrip("^").split():
                prefix = raw.endswith("*")
                skels = _word_skeletons(raw.rstrip("*"))
                if len(skels) != 1 or not skels[0]:
                    self.fail(f"{section}.{key}", f"{source!r}: {raw!r} is not one word")
                if prefix and len(raw) - 1 > _STEM_MAX:
                    self.fail(f"{section}.{key}", f"{source!r}: stems are at most {_STEM_MAX} letters")
                parts.append((skels[0], prefix))
            out.append(_Pattern(source, anchored, tuple(parts)))
        return tuple(out)

    def poll_keys(self, key: str) -> frozenset[str]:
        """Comparison keys of a poll synonym list."""
        return frozenset(k for v in self.strings("poll", key) for k in _poll_keys(v, frozenset()))

    def replies(self) -> dict[str, dict[Lang, str]]:
        """Every reply of REPLY_FIELDS in both languages, placeholders checked."""
        table = self.data.get("replies")
        if not isinstance(table, dict):
            self.fail("replies", "missing table")
        out: dict[str, dict[Lang, str]] = {}
        for key, allowed in REPLY_FIELDS.items():
            entry = table.get(key)
            if not isinstance(entry, dict):
                self.fail(f"replies.{key}", "missing table with ru and en texts")
            out[key] = {}
            for lang in Lang:
                text = entry.get(lang.value)
                if not isinstance(text, str) or not text.strip():
                    self.fail(f"replies.{key}.{lang.value}", f"expected a non-empty string, found {text!r}")
                try:
                    fields = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
                except ValueError as exc:
                    self.fail(f"replies.{key}.{lang.value}", f"bad braces: {exc}")
                unknown = fields - set(allowed)
                if unknown:
                    self.fail(f"replies.{key}.{lang.value}",
                              f"unknown placeholder(s) {sorted(unknown)}; allowed: {list(allowed)}")
                out[key][lang] = text
            extra = set(entry) - {lang.value for lang in Lang}
            if extra:
                self.fail(f"replies.{key}", f"unknown key(s) {sorted(extra)}")
        return out

    def build(self) -> Words:
        """The compiled Words."""
        fillers = self.word_set("optout", "fillers")
        return Words(
            source=self.source,
            tier1=self.keys("optout", "tier1", fillers),
            fillers=fillers,
            stop_prefix=self.keys("optout", "stop_prefix"),
            max_words_after_stop=self.integer("optout", "max_words_after_stop", 0, 20),
            stop_prefix_veto=self.patterns("optout", "stop_prefix_veto"),
            tier2=self.patterns("optout", "tier2"),
            tier2_ignore=self.patterns("optout", "tier2_ignore"),
            optin=self.keys("optin", "keywords", fillers),
            help=self.keys("help", "keywords", fillers),
            register=self.word_set("register", "keywords"),
            order=self.word_set("order", "keywords"),
            order_skip=self.word_set("order", "skip_words"),
            order_trailing=self.word_set("order", "trailing_words"),
            coupon=self.word_set("order", "coupon_keywords"),
            quantity_nouns=self.patterns("order", "quantity_nouns"),
            time_prepositions=self.patterns("order", "time_prepositions"),
            max_qty=self.integer("order", "max_qty", 1, 9999),
            max_lines=self.integer("order", "max_lines", 1, 1000),
            balance=self.keys("balance", "keywords", fillers),
            broadcast=self.word_set("broadcast", "keywords"),
            poll_yes=self.poll_keys("yes"),
            poll_no=self.poll_keys("no"),
            poll_fillers=self.word_set("poll", "fillers"),
            automatic=self.patterns("automatic", "patterns"),
            replies=(replies := self.replies()),
            echoes=_echoes(replies),
        )


_ECHO_MIN = 16


def _echoes(replies: Mapping[str, Mapping[Lang, str]]) -> tuple[str, ...]:
    """The longest fixed part of each reply, normalised, when long enough to be unmistakable."""
    out: set[str] = set()
    for key, texts in replies.items():
        if key.startswith("example_"):
            continue
        for text in texts.values():
            literals = [normalise(lit) for lit, _, _, _ in string.Formatter().parse(text)]
            longest = max(literals, key=len, default="")
            if len(longest) >= _ECHO_MIN:
                out.add(longest)
    return tuple(sorted(out))


@functools.lru_cache(maxsize=8)
def load_words(path: str | Path | None = None) -> Words:
    """Load and compile the word lists (default: the packaged commands.toml); cached per path.

    Staff-edited copies are loaded by path; call `load_words.cache_clear()` after editing one.
    """
    try:
        if path is None:
            resource = resources.files("gateway") / "data" / "commands.toml"
            source, raw = "gateway/data/commands.toml", resource.read_text(encoding="utf-8")
        else:
            source, raw = str(path), Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GrammarDataError(f"{path}: cannot read: {exc}") from exc
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise GrammarDataError(f"{source}: not valid TOML: {exc}") from exc
    return _Loader(source, data).build()


# ---------------------------------------------------------------------------------------------
# Opt-out, keywords, automatic text


def _find_any(patterns: Iterable[_Pattern], words: Sequence[str]) -> _Pattern | None:
    """The first pattern found in `words`, or None."""
    for pattern in patterns:
        if pattern.find(words) >= 0:
            return pattern
    return None


def _tier1(readings: Sequence[Sequence[str]], w: Words) -> str | None:
    """The tier-1 entry the message is, or None."""
    for words in readings:
        core = [x for x in words if _skeleton(x) not in w.fillers]
        if not core:
            continue
        phrase = w.tier1.get("".join(_skeleton(x) for x in core))
        if phrase is not None:
            return phrase
        stop = w.stop_prefix.get(_skeleton(core[0]))
        if stop is not None and len(core) - 1 <= w.max_words_after_stop:
            if _find_any(w.stop_prefix_veto, core[1:]) is None:
                return stop
    return None


def _tier2(readings: Sequence[Sequence[str]], w: Words) -> str | None:
    """The tier-2 pattern found in the message, or None."""
    for reading in readings:
        words = list(reading)
        for ignore in w.tier2_ignore:
            while (i := ignore.find(words)) >= 0:
                del words[i:i + len(ignore.words)]
        found = _find_any(w.tier2, words)
        if found is not None:
            return found.source
    return None


def _keyword(readings: Sequence[Sequence[str]], keys: Mapping[str, str], w: Words) -> str | None:
    """The keyword the whole message is (filler words aside), or None."""
    for words in readings:
        core = "".join(s for s in (_skeleton(x) for x in words) if s not in w.fillers)
        if core in keys:
            return keys[core]
    return None


def _first_word_in(readings: Sequence[Sequence[str]], keys: frozenset[str]) -> bool:
    """True when the first word of any reading is one of `keys`."""
    return any(words and _skeleton(words[0]) in keys for words in readings)


def looks_automatic(text: str, *, words: Words | None = None) -> bool:
    """True when the text looks machine-made (auto-reply, operator notice, delivery report…).

    Our own replies coming back (another gateway or a forwarding phone answering us) count too:
    two machines answering each other is the loop SMSEagle caps at 5 replies per 10 minutes.
    """
    w = words or load_words()
    flat = normalise(text)
    if any(echo in flat for echo in w.echoes):
        return True
    for reading in _readings(text)[:2]:
        if _find_any(w.automatic, reading) is not None:
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Orders

_PHONE_HEAD_RE = re.compile(
    r"^\s*(?:\+7|8|7)[\s()-]*(\d{3})[\s()-]*(\d{3})[\s-]*(\d{2})[\s-]*(\d{2})(?=\s|$|[,;:])", re.ASCII
)
# "31234x2", "33456*1", "4567-3": a code and its quantity glued by a multiplication sign or a hyphen.
# Only glued: a spaced "x" is a word of its own (a skip word between code and quantity, or an
# unknown payment letter in "SPO123 X 31234 2", which must not vanish into the numbers around it).
_DIGIT_JOIN_RE = re.compile(r"(?<=\d)[x×х*](?=\d)|(?<=\d)-(?=\d)")
_DECIMAL_RE = re.compile(r"(?<=\d)[.,](?=\d)")
_ORDER_SEP_RE = re.compile(r"[^\w+\-\u2024]|_")
_SIGN_RE = re.compile(r"(?<!\S)(?P<sign>[+-])(?=\d)|(?<=[^\W\d_])(?P<hyphen>-)(?=[^\W\d_])|[+-]")
_UNIT_RE = re.compile(r"^(-?\d+)(?:шт|штук|штуки|штука|pcs|pc|x|х)$|^[xх×*](\d+)$")
# SPO typed in Latin, Cyrillic (СПО) or look-alikes (CPO, СРО), O as zero, number and letters glued.
_SPO_HEAD_RE = re.compile(r"^[sсc][pпр][oо0]")
_SPO_RE = re.compile(r"^[sсc][pпр][oо0]([0-9]*)([kкnнhrрp]{0,2})$")
_SPO_GLUED_LETTERS_RE = re.compile(r"^[sсc][pпр][oо0][0-9]+([^\W\d_]{1,2})$")
_DIGITS_RE = re.compile(r"^[0-9]+$")
_QTY_LIKE_RE = re.compile(r"^[+-]?[0-9]{1,3}(?:\u2024[0-9]+)?$")
_COUPON_RE = re.compile(r"^[A-Z0-9]{4,16}$")
_COUPON_CODEISH_RE = re.compile(r"^(?=.*[0-9])[^\W_]+$|^[a-z0-9]+$")
_PIECE_EDGE = "\"'«»()[]{}.,;:!?=#/\\|<>~"
_KEYWORD_SEP_RE = re.compile(r"[:=#]+")
_CREDIT = frozenset("kк")
_IMMEDIATE = frozenset("nнh")          # Н is the Cyrillic look-alike of H, typed for N
_REFUSE = frozenset("rрp")             # Р is the Cyrillic look-alike of P, typed for R
_NUMBER_WORDS = frozenset({
    "один", "одна", "два", "две", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять",
    "десять", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
})
_ORDER_WORD_RE = re.compile(r"^[^\W\d_]+(?:-[^\W\d_]+)*$")
_NOTE_INNER_EDGE = " \t\r\n,;:-—–"


@functools.lru_cache(maxsize=4096)
def _split_coupon_keyword(piece: str, keys: frozenset[str]) -> tuple[str, str] | None:
    """(keyword, glued code or "") when a whitespace piece starts with a coupon keyword; else None.

    Handles "купон", "купон:", "КУПОН:AB23CD45", "промо-код", "купон-ab23cd45".  Cached: a long
    note is tokenised a dozen times while its place in the raw text is found (`_chunk_offset`).
    """
    head, *glued = _KEYWORD_SEP_RE.split(piece.strip(_PIECE_EDGE), maxsplit=1)
    parts = head.split("-")
    for k in range(min(len(parts), 3), 0, -1):   # the longest hyphenated keyword wins ("промо-код")
        keyword = "-".join(parts[:k])
        if _letter_key(keyword) in keys:
            code = "-".join(parts[k:])
            if glued:
                code = f"{code}-{glued[0]}" if code else glued[0]
            return keyword, code.strip(_PIECE_EDGE + "-")
    return None


@functools.lru_cache(maxsize=4096)
def _piece_chunks(piece: str) -> tuple[str, ...]:
    """Order tokens of one whitespace-free piece: digit runs (sign kept), words, SPO chunks."""
    s = _DIGIT_JOIN_RE.sub(" ", piece)
    s = _ORDER_SEP_RE.sub(" ", s)
    s = _SIGN_RE.sub(lambda m: " " + m["sign"] if m["sign"] else m["hyphen"] or " ", s)
    out = []
    for chunk in s.split():
        unit = _UNIT_RE.match(chunk)
        out.append(unit.group(1) or unit.group(2) if unit else chunk)
    return tuple(out)


def _order_chunks(text: str, w: Words, *, whole: bool = True) -> list[str]:
    """Tokens of an order message: digit runs (sign kept), "+7…" phones, words, SPO chunks.

    A coupon keyword is followed by its code as one chunk, kept whole (codes may hold "X" between
    digits); skip words and punctuation between the keyword and the code are dropped.  `whole=False`
    reads a piece cut from the end of a message (no "Re:" prefix to strip there).
    """
    s = _clean(text, strip_prefix=whole)
    head = _PHONE_HEAD_RE.match(s) if whole else None
    chunks: list[str] = []
    if head:
        chunks.append("+7" + "".join(head.groups()))
        s = s[head.end():]
    s = _DECIMAL_RE.sub("\u2024", s)        # one-dot leader: keeps "2.5" one token
    pieces = s.split()
    i = 0
    while i < len(pieces):
        coupon = _split_coupon_keyword(pieces[i], w.coupon)
        i += 1
        if coupon is None:
            chunks.extend(_piece_chunks(pieces[i - 1]))
            continue
        keyword, code = coupon
        chunks.append(keyword)
        while not code and i < len(pieces):
            candidate = pieces[i].strip(_PIECE_EDGE + "-")
            i += 1
            if candidate and _letter_key(candidate) not in w.order_skip:
                code = candidate
        if code:
            chunks.append(code)
    return chunks


def _digitish(token: str) -> str:
    """A code typed with the letter O for zero ("31О34") read as digits; other tokens unchanged."""
    if any(ch.isdigit() for ch in token):
        mapped = token.replace("о", "0").replace("o", "0")
        if _DIGITS_RE.match(mapped):
            return mapped
    return token


def _letter_key(token: str) -> str:
    """Skeleton of an all-letter order token ("3AKA3" counts as letters); "" for numbers and signs."""
    token = _undigit(token)
    return _skeleton(token) if _ORDER_WORD_RE.match(token) else ""


@dataclass(frozen=True)
class _Items:
    """The items part of an order: its lines, its coupon and where its note is among the chunks."""

    lines: tuple[OrderLine, ...]
    coupon: str | None
    note: tuple[tuple[int, int], ...]   # [start, end) chunk ranges of the note, coupon phrases cut out


def _coupon_code(raw: str) -> str:
    """A typed coupon code upper-cased, hyphens dropped, Cyrillic look-alikes read as Latin."""
    return "".join(_CYR_TO_LAT.get(ch, ch) for ch in raw.replace("-", "")).upper()


def _take_coupon(
    chunks: Sequence[str], i: int, form: OrderForm, w: Words, *, in_note: bool
) -> tuple[str, int] | OrderError | None:
    """(code, next index) for the coupon keyword at `i`; an OrderError when it is malformed.

    In free text after the items a keyword followed by an ordinary word ("а купон на скидку?") is
    prose: None.  Where a code is expected the same is a missing code.
    """
    raw = chunks[i + 1] if i + 1 < len(chunks) else ""
    if not raw or _letter_key(raw) in w.order_trailing | w.order_skip | w.coupon:
        return OrderError(OrderErrorKind.MISSING_COUPON, form)
    code = _coupon_code(raw)
    if _COUPON_RE.match(code):
        return code, i + 2
    if _COUPON_CODEISH_RE.match(raw.replace("-", "")):
        return OrderError(OrderErrorKind.BAD_COUPON, form, raw.upper().replace("\u2024", "."))
    return None if in_note else OrderError(OrderErrorKind.MISSING_COUPON, form)


def _code_like(chunk: str) -> bool:
    """True for a product code, also one typed with O for zero or a stray letter ("31О34", "a3456")."""
    if _DIGITS_RE.match(_digitish(chunk)):
        return 4 <= len(chunk) <= 6
    digits = sum(ch.isdigit() for ch in chunk)
    return chunk.isalnum() and digits >= 4 and len(chunk) - digits <= 2


def _has_item_pair(chunks: Sequence[str], w: Words) -> bool:
    """True when the chunks hold something like a code followed by a quantity ("33456 2", "a3456 x1")."""
    for k, chunk in enumerate(chunks):
        if _code_like(chunk):
            j = k + 1
            while j < len(chunks) and _letter_key(chunks[j]) in w.order_skip:
                j += 1
            if j < len(chunks) and _QTY_LIKE_RE.match(chunks[j]):
                return True
    return False


def _named_item(chunks: Sequence[str], w: Words) -> str | None:
    """The first word followed by a quantity the way an item is, or None.

    "крем 2", "тушь x 1", "помаду 1 шт, спасибо" name a product instead of its code; "заберу 2 числа",
    "после 2", "в 2" do not (a word after the number, a time preposition, a word of one or two letters).
    """
    n = len(chunks)
    ignored = w.order_trailing | w.order_skip | w.coupon

    def skip(j: int) -> int:
        """Index of the next chunk that is not a skip word."""
        while j < n and _letter_key(chunks[j]) in w.order_skip:
            j += 1
        return j

    for p, word in enumerate(chunks):
        if len(word) < 3 or not _ORDER_WORD_RE.match(word) or _letter_key(word) in ignored:
            continue
        if _find_any(w.time_prepositions, _resolve([word])) is not None:
            continue
        q = skip(p + 1)
        if q >= n or not _QTY_LIKE_RE.match(chunks[q]):
            continue
        r = skip(q + 1)
        if (r > q + 1 or r >= n or _code_like(chunks[r])
                or all(_letter_key(c) in w.order_trailing | w.order_skip for c in chunks[r:])
                or (_ORDER_WORD_RE.match(chunks[r]) and (s := skip(r + 1)) < n and _QTY_LIKE_RE.match(chunks[s]))):
            return word   # "крем 2", "крем 2 шт", "крем 2 31234", "крем 2, помаду 1"
    return None


def _note_part(
    chunks: Sequence[str], start: int, form: OrderForm, w: Words, position: int
) -> tuple[str | None, tuple[tuple[int, int], ...]] | OrderError | None:
    """(coupon, note ranges) for free text from `start` (a word after the last item); None if no note.

    None means the text is not a note: it holds a code/quantity pair (another item typed wrong) or
    its first word makes the number before it count something else ("2 дня назад"); the caller then
    reports the first word as it always did.  A product named with a quantity ("крем 2") is reported
    by its name.
    """
    n = len(chunks)
    if _find_any(w.quantity_nouns, _resolve([chunks[start]])) is not None:
        return None
    coupon: str | None = None
    ranges: list[tuple[int, int]] = []
    seg = j = start
    while j < n:
        if _letter_key(chunks[j]) not in w.coupon:
            j += 1
            continue
        taken = _take_coupon(chunks, j, form, w, in_note=True)
        if taken is None:
            j += 1
            continue
        if isinstance(taken, OrderError):
            return taken
        code, after = taken
        if coupon is not None and code != coupon:
            return OrderError(OrderErrorKind.EXTRA_COUPON, form, code)
        coupon = code
        if j > seg:
            ranges.append((seg, j))
        seg = j = after
    if seg < n:
        ranges.append((seg, n))
    kept = [chunks[k] for a, b in ranges for k in range(a, b)]
    if _has_item_pair(kept, w):
        return None
    named = _named_item(kept, w)
    if named is not None:
        return OrderError(OrderErrorKind.LETTER_FOR_CODE, form, named, position)
    if all(_letter_key(c) in w.order_trailing | w.order_skip for c in kept):
        ranges = []
    return coupon, tuple(ranges)


def _parse_lines(chunks: Sequence[str], form: OrderForm, w: Words) -> _Items | OrderError:
    """Parse `<code> <qty>` pairs, coupons and a trailing note; the first problem is an OrderError."""
    lines: list[OrderLine] = []
    coupon: str | None = None
    note: tuple[tuple[int, int], ...] = ()
    i = 0
    n = len(chunks)
    trailing = w.order_trailing | w.order_skip

    def skip(j: int) -> int:
        """Index of the next chunk that is not a skip word."""
        while j < n and _letter_key(chunks[j]) in w.order_skip:
            j += 1
        return j

    while True:
        i = skip(i)
        if i >= n:
            break
        token = chunks[i]
        if _letter_key(token) in w.coupon:
            taken = _take_coupon(chunks, i, form, w, in_note=False)
            assert taken is not None   # in_note=False never answers None
            if isinstance(taken, OrderError):
                return taken
            code, i = taken
            if coupon is not None and code != coupon:
                return OrderError(OrderErrorKind.EXTRA_COUPON, form, code)
            coupon = code
            continue
        if all(_letter_key(c) in trailing for c in chunks[i:]):
            break
        if lines and _ORDER_WORD_RE.match(token):
            tail = _note_part(chunks, i, form, w, len(lines) + 1)
            if isinstance(tail, OrderError):
                return tail
            if tail is not None:
                tail_coupon, note = tail
                if tail_coupon is not None and coupon is not None and tail_coupon != coupon:
                    return OrderError(OrderErrorKind.EXTRA_COUPON, form, tail_coupon)
                coupon = coupon or tail_coupon
                break
        position = len(lines) + 1
        if position > w.max_lines:
            return OrderError(OrderErrorKind.TOO_MANY_ITEMS, form, str(w.max_lines), position)
        code = _digitish(token)
        if not _DIGITS_RE.match(code):
            has_letter = any(ch.isalpha() for ch in token)
            kind = OrderErrorKind.LETTER_FOR_CODE if has_letter else OrderErrorKind.BAD_CODE
            return OrderError(kind, form, token.replace("\u2024", "."), position)
        if not 4 <= len(code) <= 6:
            return OrderError(OrderErrorKind.BAD_CODE, form, token, position)
        i = skip(i + 1)
        if i >= n or _letter_key(chunks[i]) in w.order_trailing | w.coupon:
            return OrderError(OrderErrorKind.MISSING_QTY, form, code, position)
        qty = chunks[i]
        if _DIGITS_RE.match(qty):
            after = skip(i + 1)
            if len(qty) >= 4 and after < n and _QTY_LIKE_RE.match(chunks[after]):
                # a code where the quantity belongs ("31234 33456 2"): the previous code has none
                return OrderError(OrderErrorKind.MISSING_QTY, form, code, position)
            value = int(qty)
            if value == 0:
                return OrderError(OrderErrorKind.QTY_ZERO, form, qty, position)
            if value > w.max_qty:
                return OrderError(OrderErrorKind.QTY_TOO_BIG, form, qty, position)
        elif qty.startswith("-") and _DIGITS_RE.match(qty[1:]):
            kind = OrderErrorKind.QTY_ZERO if int(qty[1:]) == 0 else OrderErrorKind.QTY_NEGATIVE
            return OrderError(kind, form, qty, position)
        else:
            return OrderError(OrderErrorKind.QTY_NOT_NUMBER, form, qty.replace("\u2024", "."), position)
        lines.append(OrderLine(code, value))
        i += 1
    if not lines:
        return OrderError(OrderErrorKind.NO_ITEMS, form)
    return _Items(tuple(lines), coupon, note)


def _chunk_offset(text: str, chunks: Sequence[str], k: int, w: Words) -> int | None:
    """Where in the raw `text` chunk `k` of `_order_chunks(text)` starts, or None when unsure.

    A binary search over word starts for the shortest suffix that still has the wanted number of
    chunks, checked by comparing its chunks: O(n log n) even for a 255-part message.
    """
    if k >= len(chunks):
        return len(text)
    want = list(chunks[k:])
    starts = [j for j, ch in enumerate(text) if ch.isalnum() and (j == 0 or _is_gap(text[j - 1]))]
    lo, hi, found = 0, len(starts) - 1, -1
    while lo <= hi:
        mid = (lo + hi) // 2
        if len(_order_chunks(text[starts[mid]:], w, whole=False)) >= len(want):
            found, lo = mid, mid + 1
        else:
            hi = mid - 1
    for j in starts[max(found - _OFFSET_TRIES, 0):found + 1][::-1] if found >= 0 else ():
        if _order_chunks(text[j:], w, whole=False) == want:
            return j
    return None


_OFFSET_TRIES = 4


def _is_gap(ch: str) -> bool:
    """True for a character that separates words (not a letter, digit, accent or invisible format mark)."""
    return unicodedata.category(ch)[0] not in "LNM" and unicodedata.category(ch) != "Cf"


def _note_text(text: str, chunks: Sequence[str], base: int, ranges: Sequence[tuple[int, int]],
               w: Words) -> str | None:
    """The note as typed: the raw text of the chunk ranges (offset by `base`), coupon phrases cut out."""
    parts: list[str] = []
    for number, (a, b) in enumerate(ranges):
        start = _chunk_offset(text, chunks, base + a, w)
        end = _chunk_offset(text, chunks, base + b, w)
        if start is None or end is None or end < start:
            part = " ".join(chunks[base + a:base + b])   # the cleaned words: never lose the text
        else:
            part = text[start:end].strip()
        # Cut edges: "заберу в пятницу, КУПОН X. Спасибо" → "заберу в пятницу" + "Спасибо".
        if base + b < len(chunks):
            part = part.rstrip(_NOTE_INNER_EDGE)
        if number:
            part = part.lstrip(_NOTE_INNER_EDGE + ".!?")
        parts.append(part)
    note = " ".join(p for p in parts if p).strip()
    return note or None


def _payment_letters(token: str) -> tuple[Payment | None, bool, bool] | None:
    """(payment, refuse, refuse_came_first) for a letter chunk like "k", "н", "kr", "rk"; else None."""
    if not 1 <= len(token) <= 2 or not token.isalpha():
        return None
    pay: Payment | None = None
    refuse = refuse_first = False
    for ch in token:
        if ch in _CREDIT or ch in _IMMEDIATE:
            if pay is not None:
                return None
            pay = Payment.CREDIT if ch in _CREDIT else Payment.IMMEDIATE
        elif ch in _REFUSE:
            if refuse:
                return None
            refuse = True
            refuse_first = pay is None
        else:
            return None
    return pay, refuse, refuse_first


def _is_orderish(token: str) -> bool:
    """True for a token an order may contain after the consultant: a number, payment letters, "x"."""
    return (bool(re.match(r"^[+-]?[0-9]+$", token)) or _payment_letters(token) is not None
            or token in ("x", "х"))


def _looks_like_full_order(chunks: Sequence[str], w: Words) -> list[str] | None:
    """The chunks of a full-form order (an ORDER keyword in front dropped), or None."""
    if chunks and _letter_key(chunks[0]) in w.order and len(chunks) > 2 and _SPO_RE.match(chunks[2]):
        chunks = chunks[1:]
    if not chunks:
        return None
    has_digit = any(ch.isdigit() for c in chunks for ch in c)
    if _SPO_RE.match(chunks[0]) and has_digit:
        return list(chunks)
    if len(chunks) > 1 and any(ch.isdigit() for ch in chunks[0]) and (
        _SPO_RE.match(chunks[1])
        or (_SPO_HEAD_RE.match(chunks[1]) and re.match(r"^\+?[0-9]{5,}$", chunks[0]))   # "… SPOabc"
    ):
        return list(chunks)
    if (len(chunks) >= 3 and re.match(r"^\+?[0-9]{5,}$", chunks[0])
            and all(_is_orderish(c) for c in chunks[1:])):
        return list(chunks)
    return None


def _parse_full_order(chunks: list[str], w: Words, text: str, all_chunks: Sequence[str]) -> Order | OrderError:
    """Parse `<consultant> SPO<n> K|N [R] <code> <qty> …` (chunks from _looks_like_full_order).

    `chunks` is a suffix of `all_chunks`, the chunks of the raw `text` (the note is cut from it).
    """
    full = OrderForm.FULL
    first = chunks[0]
    if _SPO_RE.match(first):
        return OrderError(OrderErrorKind.MISSING_CONSULTANT, full, first)
    if first.startswith("+7") and len(first) == 12:
        consultant = first
    elif re.match(r"^[78][0-9]{10}$", first):
        consultant = "+7" + first[1:]
    elif _DIGITS_RE.match(first) and 6 <= len(first) <= 9:
        consultant = first
    else:
        return OrderError(OrderErrorKind.BAD_CONSULTANT, full, first)
    rest = chunks[1:]
    spo_match = _SPO_RE.match(rest[0]) if rest else None
    if spo_match is None:
        if rest and (glued_bad := _SPO_GLUED_LETTERS_RE.match(rest[0])):   # "SPO123X"
            return OrderError(OrderErrorKind.BAD_PAYMENT, full, glued_bad.group(1).upper())
        if rest and _SPO_HEAD_RE.match(rest[0]):
            return OrderError(OrderErrorKind.BAD_SPO, full, rest[0].upper())
        return OrderError(OrderErrorKind.MISSING_SPO, full, rest[0] if rest else "")
    spo, glued = spo_match.groups()
    rest = rest[1:]
    if not spo:
        if glued or not rest:
            return OrderError(OrderErrorKind.BAD_SPO, full, chunks[1].upper())
        nxt = re.match(r"^([0-9]+)([kкnнhrрp]{0,2})$", rest[0])
        if nxt is None:
            return OrderError(OrderErrorKind.BAD_SPO, full, f"{chunks[1]} {rest[0]}".upper())
        spo, glued = nxt.groups()
        rest = rest[1:]
    if len(spo) > 10:
        return OrderError(OrderErrorKind.BAD_SPO, full, spo)
    if glued:
        rest = [glued, *rest]
    if not rest:
        return OrderError(OrderErrorKind.MISSING_PAYMENT, full)
    letters = _payment_letters(rest[0])
    if letters is None:
        if _ORDER_WORD_RE.match(rest[0]) and len(rest[0]) <= 3:
            return OrderError(OrderErrorKind.BAD_PAYMENT, full, rest[0].upper())
        return OrderError(OrderErrorKind.MISSING_PAYMENT, full, rest[0])
    pay, refuse, refuse_first = letters
    letters_token, rest = rest[0], rest[1:]
    if pay is None:   # an R with no K/N in the same chunk
        follow = _payment_letters(rest[0]) if rest else None
        if follow is not None and follow[0] is not None:
            return OrderError(OrderErrorKind.REFUSE_BEFORE_PAYMENT, full, f"{letters_token} {rest[0]}".upper())
        return OrderError(OrderErrorKind.MISSING_PAYMENT, full, rest[0] if rest else "")
    if refuse_first:
        return OrderError(OrderErrorKind.REFUSE_BEFORE_PAYMENT, full, letters_token.upper())
    if not refuse and rest:
        follow = _payment_letters(rest[0])
        if follow is not None and follow[0] is None:
            refuse = True
            rest = rest[1:]
    items = _parse_lines(rest, full, w)
    if isinstance(items, OrderError):
        return items
    note = _note_text(text, all_chunks, len(all_chunks) - len(rest), items.note, w) if items.note else None
    return Order(consultant, spo, pay, refuse, items.lines, items.coupon, note)


def _is_prose(rest: Sequence[str], w: Words) -> bool:
    """True when a short order's words read as a sentence ("заказ 12345 когда придёт?")."""
    for k, token in enumerate(rest):
        if k and _letter_key(rest[k - 1]) in w.coupon:
            continue    # a coupon code, even one made of letters
        if _ORDER_WORD_RE.match(token) and len(token) > 2:
            key = _skeleton(token)
            if (key not in w.order_skip and key not in w.order_trailing and key not in w.coupon
                    and token not in _NUMBER_WORDS):
                return True
    return False


def _parse_short_order(chunks: list[str], w: Words, text: str, all_chunks: Sequence[str]
                       ) -> ShortOrder | OrderError | None:
    """Parse `ЗАКАЗ <code> <qty> …`; None when the rest reads as prose ("заказ 12345 пришёл?").

    Free text after complete items is the order's note ("ЗАКАЗ 31234 2 заберу в пятницу").
    """
    rest = chunks[1:]
    if rest and not any(ch.isdigit() for c in rest for ch in c):
        return None
    items = _parse_lines(rest, OrderForm.SHORT, w)
    if isinstance(items, OrderError):
        # A coupon word with no usable code is an error even among other words ("…спасибо, вот купон").
        return None if items.kind not in _COUPON_KINDS and _is_prose(rest, w) else items
    note = _note_text(text, all_chunks, len(all_chunks) - len(rest), items.note, w) if items.note else None
    return ShortOrder(items.lines, items.coupon, note)


Catalogue: TypeAlias = Mapping[str, Any] | Container[str] | Callable[[str], object]


def _known(lookup: Catalogue, key: str) -> bool:
    """True when `key` is in a mapping/container or the callable returns something truthy."""
    if callable(lookup):
        return bool(lookup(key))
    return key in lookup


def validate_order(
    order: Order | ShortOrder,
    catalogue: Catalogue,
    *,
    consultants: Catalogue | None = None,
) -> list[OrderError]:
    """Catalogue checks: unknown consultant, every unknown code and every repeated code, in order."""
    form = OrderForm.FULL if isinstance(order, Order) else OrderForm.SHORT
    errors: list[OrderError] = []
    if isinstance(order, Order) and consultants is not None and not _known(consultants, order.consultant):
        errors.append(OrderError(OrderErrorKind.UNKNOWN_CONSULTANT, form, order.consultant))
    seen: set[str] = set()
    for position, line in enumerate(order.lines, start=1):
        if line.code in seen:
            errors.append(OrderError(OrderErrorKind.DUPLICATE_CODE, form, line.code, position))
            continue
        seen.add(line.code)
        if not _known(catalogue, line.code):
            errors.append(OrderError(OrderErrorKind.UNKNOWN_CODE, form, line.code, position))
    return errors


# ---------------------------------------------------------------------------------------------
# Register, broadcast, poll

_FIRST_WORD_RE = re.compile(r"^[\W_]*[^\W_]+(?:-[^\W_]+)*")
_PHONE_ANYWHERE_RE = re.compile(
    r"(?<![\d+])(\+?[78][\s()-]*\d{3}[\s()-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}|9\d{9})(?!\d)", re.ASCII
)
_CODE_RE = re.compile(r"^[^\W_]{1,12}$")
_NAME_MAX = 60


def _after_keyword(text: str) -> str:
    """The raw text after the first word (the keyword), separators after it removed."""
    stripped = _PREFIX_RE.sub("", text)
    m = _FIRST_WORD_RE.match(stripped)
    rest = stripped[m.end():] if m else ""
    return rest.lstrip(" \t\r\n:,.;-—–!")


def _phone_e164(digits: str) -> str | None:
    """+7XXXXXXXXXX from 8/7 + 10 digits or a bare 9XXXXXXXXX; None otherwise."""
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] == "9":
        return "+7" + digits
    return None


def _parse_register(text: str) -> Register | Usage:
    """REG <name> [<inviter>]: the inviter is a phone (anywhere) or a token with digits (agent code)."""
    rest = unicodedata.normalize("NFKC", _after_keyword(text))
    inviter: str | None = None
    phone = _PHONE_ANYWHERE_RE.search(rest)
    if phone:
        inviter = _phone_e164(re.sub(r"\D", "", phone.group(1)))
        rest = rest[:phone.start()] + " " + rest[phone.end():]
    tokens = [t.strip(".,;:!?\"'«»()") for t in re.split(r"[\s,;]+", rest)]
    tokens = [t for t in tokens if t]
    if inviter is None:
        for i, token in enumerate(tokens):
            if _CODE_RE.match(token) and any(ch.isdigit() for ch in token):
                code = tokens.pop(i).casefold()
                inviter = "".join(_CYR_TO_LAT.get(ch, ch) for ch in code).upper()
                break
    name = " ".join(tokens)[:_NAME_MAX].strip()
    if not any(ch.isalpha() for ch in name):
        return Usage("reg_usage")
    return Register(name, inviter)


def _poll_keys(text: str, fillers: frozenset[str]) -> set[str]:
    """Comparison keys of a poll option or reply: skeleton and look-alike-folded forms."""
    words = [x for x in _resolve(_split_words(_clean(text))) if _skeleton(x) not in fillers]
    if not words:
        bare = text.strip()
        return {bare} if bare else set()
    folded = " ".join("".join(_CYR_TO_LAT.get(ch, ch) for ch in x) for x in words)
    return {" ".join(_skeleton(x) for x in words), "~" + folded}


def _match_poll(text: str, options: Sequence[str], w: Words) -> str | None:
    """The option a reply chooses (directly or through yes/no synonyms), or None."""
    reply = _poll_keys(text, w.poll_fillers)
    if not reply:
        return None
    for option in options:
        keys = _poll_keys(option, w.poll_fillers)
        if reply & keys:
            return option
        for group in (w.poll_yes, w.poll_no):
            if keys & group and reply & group:
                return option
    return None


# ---------------------------------------------------------------------------------------------
# parse


def parse(text: str, *, poll_options: Sequence[str] = (), words: Words | None = None) -> Command:
    """The command an inbound SMS carries (see the module docstring for precedence)."""
    w = words or load_words()
    readings = _readings(text)
    base = readings[0]
    if not base:
        if _PREFIX_RE.sub("", text).strip() == "?":
            return Help()
        option = _match_poll(text, poll_options, w) if poll_options else None
        return PollAnswer(option, text, "") if option is not None else Other()
    matched = _tier1(readings, w)
    if matched is not None:
        return OptOut(1, matched)
    if (matched := _keyword(readings, w.optin, w)) is not None:
        return OptIn(matched)
    if _keyword(readings, w.help, w) is not None:
        return Help()
    if _first_word_in(readings, w.register):
        return _parse_register(text)
    chunks = _order_chunks(text, w)
    full = _looks_like_full_order(chunks, w)
    if full is not None:
        return _parse_full_order(full, w, text, chunks)
    if _first_word_in(readings, w.order) and chunks:
        short = _parse_short_order(chunks, w, text, chunks)
        if short is not None:
            return short
    if _keyword(readings, w.balance, w) is not None:
        return Balance()
    if _first_word_in(readings, w.broadcast):
        body = _after_keyword(text).strip()
        return Broadcast(body) if body else Usage("broadcast_usage")
    if poll_options:
        option = _match_poll(text, poll_options, w)
        if option is not None:
            return PollAnswer(option, text, " ".join(base))
    matched = _tier2(readings, w)
    if matched is not None:
        return OptOut(2, matched)
    return Other()


# ---------------------------------------------------------------------------------------------
# Replies

_TOKEN_MAX = 12
_COUPON_KINDS = frozenset({OrderErrorKind.MISSING_COUPON, OrderErrorKind.BAD_COUPON, OrderErrorKind.EXTRA_COUPON})
_CODES_MAX = 6


def reply_text(key: str, lang: Lang, *, words: Words | None = None, **values: object) -> str:
    """The reply `key` in `lang` with its placeholders filled; extra values are ignored."""
    w = words or load_words()
    try:
        template = w.replies[key][Lang(lang)]
    except KeyError:
        raise KeyError(f"no reply {key!r}; known: {sorted(w.replies)}") from None
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    missing = fields - set(values)
    if missing:
        raise KeyError(f"reply {key!r} needs {sorted(missing)}")
    return template.format_map({f: values[f] for f in fields})


def _cut(token: str) -> str:
    """A typed token shortened to fit a reply."""
    # "..." not "…": an ellipsis is outside GSM 03.38 and would turn an English reply into UCS-2.
    return token if len(token) <= _TOKEN_MAX else token[: _TOKEN_MAX - 3] + "..."


def order_error_reply(
    errors: OrderError | Sequence[OrderError], lang: Lang, *, words: Words | None = None
) -> str:
    """One reply for an order's errors: the first error, with every unknown code listed together."""
    w = words or load_words()
    errs = [errors] if isinstance(errors, OrderError) else list(errors)
    if not errs:
        raise ValueError("order_error_reply() needs at least one error")
    first = errs[0]
    codes = [_cut(e.token) for e in errs if e.kind == first.kind]
    shown = ", ".join(codes[:_CODES_MAX]) + (" ..." if len(codes) > _CODES_MAX else "")
    example_key = "example_full" if first.form == OrderForm.FULL else "example_short"
    example = reply_text(example_key, lang, words=w)
    if first.kind in _COUPON_KINDS:
        example = f"{example} {reply_text('example_coupon', lang, words=w)}"
    return reply_text(
        f"order_{first.kind.value}", lang, words=w,
        token=_cut(first.token), position=first.position or 1, codes=shown,
        example=example, max_qty=w.max_qty, max_lines=w.max_lines,
    )
