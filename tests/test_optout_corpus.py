"""Opt-out corpora (reliability-security.md §6.2 C1): every tier-1 variant opts out, no ordinary reply does.

The tier-1 corpus is generated from base phrases × case × ё × punctuation × look-alike letters ×
transliteration (three schemes written here, independently of the grammar's own skeleton); the
ordinary corpus is a hand-written list of realistic customer messages × variations.
"""

from __future__ import annotations

import itertools

import pytest

from gateway.grammar import OptOut, Other, PollAnswer, looks_automatic, parse

RU_TIER1 = [
    "стоп", "СТОП все", "стопвсе", "отписка", "отписаться", "отпишите", "отпишите меня",
    "Отпишите меня от рассылки", "отмена", "отказ", "хватит", "не пишите", "Не пишите мне больше",
    "не присылайте", "Не присылайте мне смс", "удалите", "удалите меня", "Удалите мой номер из базы",
    "больше не писать", "Отписаться от рассылки", "СТОП больше не пишите", "стоп спасибо",
    "пожалуйста отпишите", "Я отказываюсь от рассылки", "не хочу получать смс", "Хватит уже",
    "Нет, хватит", "Уберите меня из списка", "Отказ от рассылки", "Стоп, сколько можно",
    "отписка от смс", "Стоп стоп стоп", "Не отправляйте мне сообщения", "Отмена рассылки",
    "Прекратите", "Прошу прекратить рассылку", "Прекратите присылать сообщения", "хватит спамить",
]
EN_TIER1 = [
    "stop", "STOP please", "stop all", "stopall", "unsubscribe", "Unsubscribe me", "cancel", "end",
    "quit", "revoke", "optout", "opt out", "opt-out", "Please opt me out", "remove",
    "Remove me from your list", "Stop texting me", "stop sending messages", "leave me alone",
    "stop it", "Stop, thanks", "STOP ALL MESSAGES", "unsubscribe from this list please",
]

# Transliteration schemes a Russian speaker uses on a Latin-only phone.
_COMMON = dict(zip("абвгдезиклмнопрстуф", "abvgdeziklmnoprstuf"))
SCHEMES = [
    {**_COMMON, "ё": "yo", "ж": "zh", "й": "i", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
     "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "iu", "я": "ia"},
    {**_COMMON, "ё": "e", "ж": "zh", "й": "j", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch",
     "ъ": "", "ы": "y", "ь": "'", "э": "e", "ю": "yu", "я": "ya"},
    {**_COMMON, "ё": "jo", "ж": "zh", "й": "y", "х": "x", "ц": "tz", "ч": "ch", "ш": "sh", "щ": "sh",
     "ъ": "", "ы": "i", "ь": "", "э": "e", "ю": "ju", "я": "ja"},
]
CYR_TO_LAT_UPPER = dict(zip("АВЕКМНОРСТХУ", "ABEKMHOPCTXY"))
# Digits an old phone's user types for a letter: 0 for О, 3 for З, 4 for Ч, 6 for Б.
DIGIT_FOR_LETTER = {"О": "0", "З": "3", "Ч": "4", "Б": "6"}
CYR_TO_LAT_LOWER = dict(zip("аеорсху", "aeopcxy"))
LAT_TO_CYR_UPPER = {v: k for k, v in CYR_TO_LAT_UPPER.items()}
LAT_TO_CYR_LOWER = {v: k for k, v in CYR_TO_LAT_LOWER.items()}
PUNCTUATION = ["{}!", "{}!!!", "{}.", "  {}  ", "«{}»", "{} 🙏", "Re: {}", "{}?!", "{},", "-{}-", "{}\n"]


def translit(text: str, scheme: dict[str, str]) -> str:
    """Latin spelling of Russian text under one scheme, keeping case of the first letter."""
    out = []
    for ch in text:
        low = ch.lower()
        if low in scheme:
            lat = scheme[low]
            out.append(lat.upper() if ch.isupper() and len(lat) == 1 else lat.capitalize() if ch.isupper() else lat)
        else:
            out.append(ch)
    return "".join(out)


def swap(text: str, table: dict[str, str], every: int = 1) -> str:
    """Replace every `every`-th letter that has a look-alike in `table`."""
    out, seen = [], 0
    for ch in text:
        if ch in table:
            seen += 1
            if seen % every == 0:
                out.append(table[ch])
                continue
        out.append(ch)
    return "".join(out)


def is_tier(command: object, tier: int) -> bool:
    return isinstance(command, OptOut) and command.tier == tier


def alternate_case(text: str) -> str:
    return "".join(ch.upper() if i % 2 else ch.lower() for i, ch in enumerate(text))


def variants(base: str, russian: bool) -> set[str]:
    """All generated spellings of one base phrase."""
    out = {base, base.upper(), base.lower(), base.capitalize(), alternate_case(base)}
    if "е" in base or "Е" in base:
        out |= {base.replace("е", "ё").replace("Е", "Ё"), base.upper().replace("Е", "Ё")}
    out |= {p.format(base) for p in PUNCTUATION}
    if russian:
        out |= {swap(base.upper(), CYR_TO_LAT_UPPER), swap(base.lower(), CYR_TO_LAT_LOWER, 2),
                swap(base.upper(), CYR_TO_LAT_UPPER, 2) + "!", swap(base.upper(), DIGIT_FOR_LETTER)}
        for scheme in SCHEMES:
            lat = translit(base.lower(), scheme)
            out |= {lat, lat.upper(), lat.capitalize() + "!"}
    else:
        out |= {swap(base.upper(), LAT_TO_CYR_UPPER), swap(base.lower(), LAT_TO_CYR_LOWER, 2)}
    return out


TIER1_CORPUS = sorted(
    set(itertools.chain.from_iterable(variants(b, True) for b in RU_TIER1))
    | set(itertools.chain.from_iterable(variants(b, False) for b in EN_TIER1))
)


def test_tier1_corpus_is_large_enough() -> None:
    assert len(TIER1_CORPUS) >= 300
    # The corpus really contains each kind of variant, not just case changes.
    assert any("ё" in t.lower() for t in TIER1_CORPUS)
    assert any("otpis" in t.lower() for t in TIER1_CORPUS)
    assert any("hvatit" in t.lower() or "xvatit" in t.lower() for t in TIER1_CORPUS)
    assert any(any(c in t for c in "ABEKMHOPCTXY") and any("А" <= c <= "я" for c in t) for t in TIER1_CORPUS)
    assert "CT0П" not in TIER1_CORPUS and "СТ0П" in TIER1_CORPUS and "0ТКА3" in TIER1_CORPUS


def test_every_tier1_variant_opts_out() -> None:
    missed = [t for t in TIER1_CORPUS if not is_tier(parse(t), 1)]
    assert missed == [], f"{len(missed)} of {len(TIER1_CORPUS)} not tier 1: {missed[:20]}"


def test_tier1_wins_over_an_open_poll() -> None:
    for text in ("СТОП", "stop", "Отписаться"):
        assert isinstance(parse(text, poll_options=("да", "нет")), OptOut)


# Hand-written realistic replies a direct-sales office receives.  None is an opt-out request.
ORDINARY = [
    "да", "Да!", "нет", "нет, спасибо", "нет, спасибо, заказ получил", "Заказ получила, спасибо",
    "Спасибо большое", "Когда будет доставка?", "Где мой заказ?", "А сколько стоит крем для рук?",
    "Здравствуйте! Есть ли помада 31234?", "Можно заказать 2 туши?", "Я заберу заказ в пятницу",
    "Хорошо", "Ок", "Спасибо, получила", "Пришлите каталог пожалуйста", "А скидка есть?",
    "Перезвоните мне", "Буду через час", "Оплатила", "Оплачу завтра", "Можно оплатить картой?",
    "Сколько я должна?", "Подскажите номер СПО", "Когда новый каталог?", "Есть крем для стоп?",
    "стоп-кран сломался?", "Уже еду", "Не могу найти ваш офис", "Не приду сегодня",
    "Нет на месте, позвоню позже", "Отмена заказа 12345", "Хочу отменить заказ",
    "Спасибо, всё пришло", "Всё хорошо, спасибо", "Добрый день, заказ 123456 готов?", "Жду звонка",
    "Не получила смс с кодом", "Почему не пришёл заказ?", "Можно поменять цвет?", "Размер не подошёл",
    "Дайте пожалуйста номер менеджера", "Привет, это Оля", "Хватит ли одной упаковки на месяц?",
    "Отпишусь когда получу", "Стопку каталогов заберу завтра", "Нет, не надо", "Нет, потом",
    "Спасибо, не нужно", "Удалось оплатить?", "А где забирать?", "Привезите в субботу",
    "Заказ 12345 когда придёт?", "Отказалась от помады, остальное беру", "Хочу ещё две туши",
    "Всем привет от Маши", "Спасибо, до свидания",
    "yes", "no", "No thanks", "ok", "Thanks, got it", "When will my order arrive?", "Where is my order?",
    "How much is the lipstick?", "I'll pick it up tomorrow", "Can I pay by card?", "Call me please",
    "Got the parcel, thanks!", "Is 31234 in stock?", "Please send the catalogue", "Can I change the colour?",
    "Sorry, wrong number", "Cancel my order please", "End of the month is fine",
    "Remove the blue one from my order", "I'm at the bus stop, 5 min",
]
# Ordinary messages that contain a probable-intent word: they may go to staff review (tier 2,
# sending paused) but must never be an automatic opt-out.
REVIEW_ALLOWED = {"I'm at the bus stop, 5 min"}

def ordinary_variants(base: str) -> set[str]:
    return {base, base.upper(), base.lower(), f"Re: {base}", f"{base}!!", f"  {base}...", f"{base} :)",
            base.replace("е", "ё")}


ORDINARY_CORPUS = sorted(set(itertools.chain.from_iterable(ordinary_variants(b) for b in ORDINARY)))


def test_ordinary_corpus_is_large_enough() -> None:
    assert len(ORDINARY) >= 60
    assert len(ORDINARY_CORPUS) >= 300


def test_no_ordinary_reply_opts_out() -> None:
    wrong = [(t, parse(t)) for t in ORDINARY_CORPUS if is_tier(parse(t), 1)]
    assert wrong == []


def test_ordinary_replies_stay_out_of_review_except_the_listed_ones() -> None:
    reviewed = {b for b in ORDINARY for t in ordinary_variants(b) if isinstance(parse(t), OptOut)}
    assert reviewed == REVIEW_ALLOWED


def test_no_ordinary_reply_looks_machine_made() -> None:
    # Loop protection must not silence customers: our replies' fixed parts are never ordinary text.
    assert [t for t in ORDINARY_CORPUS if looks_automatic(t)] == []


@pytest.mark.parametrize("text", ["да", "нет", "Нет, спасибо", "ДА!", "yes", "no"])
def test_yes_no_replies_are_poll_answers_not_opt_outs(text: str) -> None:
    assert isinstance(parse(text, poll_options=("да", "нет")), PollAnswer)
    assert isinstance(parse(text), Other)


TIER2 = [
    "не беспокойте", "Не беспокойте меня", "спам", "Это спам!", "Надоели!", "надоели уже со своими акциями",
    "Жалоба в ФАС", "Напишу жалобу в ФАС", "Пожалуюсь в роскомнадзор", "Вы достали",
    "Откуда у вас мой номер? Не пишите", "Прекратите спамить", "Хватит мне писать каждый день про акции",
    "Я вас заблокирую", "Подам в суд", "Зачем вы мне пишете? Отпишите уже наконец от всего этого",
    "Stop, I made a mistake in my order", "Стоп, я ошиблась в заказе", "this is spam",
    "I'm not interested", "don't text me again", "Do not text this number", "Stop harassing me every single day with adverts about lipstick",
    "You keep spamming me", "больше не надо", "Сколько можно? Не присылайте эту рекламу, я же просила",
    "Я не давала согласия на рассылку", "Спасибо, не надо больше", "Мне не интересно", "Прекратите это",
]


@pytest.mark.parametrize("text", TIER2)
def test_probable_intent_goes_to_review(text: str) -> None:
    assert is_tier(parse(text), 2)


def test_tier2_corpus_variants_never_escape_review() -> None:
    corpus = {v for b in TIER2 for v in (b, b.upper(), f"Re: {b}", b.replace("е", "ё"))}
    assert all(isinstance(parse(t), OptOut) for t in corpus)
