"""The analyser's promises: Hebrew prefixes, negation, intensifiers, emoji, sarcasm, topics and urgent
signals, the same answers one at a time and in a batch, and hspell's output read right."""

from __future__ import annotations

import os

import pytest

from kesher.listening.analysis import Analysis, analyse, analyse_many, hspell
from kesher.listening.analysis.keywords import keyword_set_compile
from kesher.listening.analysis.text import language_detect, prefix_splits, tokens_split


def sentiment(text: str) -> str:
    return analyse(text).sentiment


def score(text: str) -> float:
    return analyse(text).score


def test_the_answer_is_a_frozen_analysis() -> None:
    found = analyse("המשלוח לא הגיע, ממש לא מקצועי 😡")
    assert found == Analysis(
        language="he", sentiment="negative", score=found.score, topics=("delivery",), urgent=("complaint",)
    )
    assert -1.0 <= found.score < -0.6
    with pytest.raises(AttributeError):
        found.score = 1.0  # type: ignore[misc]


def test_prefix_letters_are_peeled_off() -> None:
    assert prefix_splits("וכשהגיע") == (
        ("", "וכשהגיע"),
        ("ו", "כשהגיע"),
        ("וכ", "שהגיע"),
        ("וכש", "הגיע"),
        ("וכשה", "גיע"),  # every reading is tried; only the ones in the word lists count
    )
    assert prefix_splits("מעולה")[0] == ("", "מעולה")  # the word itself is always tried first
    assert sentiment("והמשלוח היה מעולה") == "positive"
    assert sentiment("וכשהגיע הכל היה שבור") == "negative"
    assert sentiment("שהמוכרת הייתה אדיבה") == "positive"  # ש+ה peeled from a word not in the list as such


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("טוב", "positive"),
        ("לא טוב", "negative"),
        ("ממש לא טוב", "negative"),
        ("לא רע", "positive"),
        ("ולא מרוצה בכלל", "negative"),
        ("אין בעיות", "positive"),
        ("בלי שום בעיה", "positive"),
        ("good", "positive"),
        ("not good", "negative"),
        ("not bad at all", "positive"),
        ("couldn't find a single flaw", "positive"),
        ("the parcel never arrived", "negative"),
    ],
)
def test_negation(text: str, label: str) -> None:
    assert sentiment(text) == label


def test_negation_strength() -> None:
    assert score("ממש לא טוב") < score("לא טוב") < 0  # "ממש לא" turns it at full strength
    assert score("לא טוב") < score("לא ממש טוב") < 0  # "לא ממש" only weakens
    assert score("really not good") < score("not good") < 0


def test_a_negation_with_no_polarity_word_is_a_failure_told() -> None:
    assert sentiment("הטכנאי לא תיקן את המזגן") == "negative"
    assert sentiment("the courier didn't show up") == "negative"
    assert sentiment("אין לכם את זה במידה 42?") == "neutral"  # a question is not a complaint


def test_intensifiers_stretched_letters_and_exclamations() -> None:
    assert score("טוב") < score("ממש טוב") < score("סופר מעולה")
    assert score("מעולה") < score("מעולהההה")
    assert score("good") < score("very good") < score("sooo good!!!")
    assert score("טעים") < score("נורא טעים")  # נורא before a polarity word strengthens it…
    assert sentiment("נורא") == "negative"  # …and alone is terrible


def test_emoji() -> None:
    assert sentiment("הגיע 😍") == "positive"
    assert sentiment("arrived 👎") == "negative"
    assert sentiment("👍") == "positive"


def test_contrast_weighs_what_follows() -> None:
    assert sentiment("טעים אבל יקר מאוד") == "negative"
    assert sentiment("a bit expensive but absolutely delicious") == "positive"


def test_sarcasm_turns_praise_around() -> None:
    assert sentiment("אחלה שירות, נו באמת") == "negative"
    assert sentiment("שירות מעולה 🙄") == "negative"
    assert sentiment('ממש "מעולה" השירות שלכם') == "negative"
    assert sentiment("oh great, another delay") == "negative"
    assert sentiment("yeah right, fast shipping") == "negative"
    assert sentiment("Great, late again") == "negative"


def test_neutral_questions() -> None:
    assert sentiment("מה שעות הפתיחה ביום שישי?") == "neutral"
    assert sentiment("Do you ship to Eilat?") == "neutral"


def test_language() -> None:
    assert language_detect("שלום, מה שלומך?") == "he"
    assert language_detect("Hello there") == "en"
    assert language_detect("الخدمة ممتازة") == "ar"
    assert language_detect("Отличный сервис") == "ru"
    assert language_detect("123 !!!") == "und"
    assert analyse("הזמנתי iPhone והוא הגיע").language == "he"


def test_topics_with_prefixes_and_inflections() -> None:
    assert analyse("ובמשלוחים שלכם תמיד יש עיכוב").topics == ("delivery",)
    assert analyse("I returned it and the refund took weeks").topics == ("returns",)
    assert analyse("המחיר יקר והמוכרת לא נחמדה").topics == ("price", "staff")
    topics = keyword_set_compile([("coffee", ["קפה", "espresso"]), ("cake", ["עוגת גבינה"])])
    assert analyse("הקפה היה טוב", brand=topics).topics == ("coffee",)
    assert analyse("ועוגת גבינה מושלמת", brand=topics).topics == ("cake",)
    assert analyse("עוגה", brand=topics).topics == ()


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("אני פונה לעורך דין", "legal_threat"),
        ("נגיש תביעה ייצוגית", "legal_threat"),
        ('דיברתי עם עו"ד שלי', "legal_threat"),
        ("I will sue you", "legal_threat"),
        ("my lawyer will be in touch", "legal_threat"),
        ("הבן שלי נפצע מהצעצוע", "safety"),
        ("יש פה סכנה אמיתית", "safety"),
        ("she had an allergic reaction", "safety"),
        ("אני רוצה להגיש תלונה", "complaint"),
        ("זוועה של שירות, בושה", "complaint"),
    ],
)
def test_urgent_signals(text: str, signal: str) -> None:
    assert signal in analyse(text).urgent


def test_no_urgent_signal_in_praise() -> None:
    assert analyse("שירות מעולה, תודה").urgent == ()


def test_one_at_a_time_and_in_a_batch_agree() -> None:
    texts = ["המשלוחים הגיעו מהר", "לא קיבלתי כלום", "Great staff!", "", "   ", "🙂"]
    assert analyse_many(texts) == [analyse(text) for text in texts]
    assert analyse("") == Analysis(language="und", sentiment="neutral", score=0.0, topics=(), urgent=())


def test_tokens_keep_abbreviations_and_emoji_apart() -> None:
    words = [token.text for token in tokens_split('עו"ד אמר: "לא"!!! 😡')]
    assert words[0] == 'עו"ד' and "😡" in words and "!" in words


def test_hspell_output_is_read_as_lemmas() -> None:
    output = (
        "מילה חוקית: מעולים\n\tמעולה(ת,ז,רבים)\n"
        "צירוף חוקי: מ+עולים\n\tעלה(פ,ז,רבים,הווה)\n\nשגיאות כתיב:\nבלבל\n"
    )
    assert hspell.parse(output) == {"מעולים": ("מעולה", "עלה")}


def test_hspell_gives_lemmas_of_inflected_words() -> None:
    if hspell.binary() is None:
        missing = "Debian's hspell is not installed (.ci/run installs it)"
        if os.environ.get("CI"):  # in CI a missing hspell is a failure, never a skip
            pytest.fail(missing)
        pytest.skip(missing)
    found = hspell.lemmas_lookup(["התאכזבתי", "גרועים", "קשקשבלבל"])
    assert "התאכזב" in found["התאכזבתי"]
    assert "גרוע" in found["גרועים"]
    assert found["קשקשבלבל"] == ()
    assert analyse_many(["המנות היו גרועות"])[0].sentiment == "negative"


def test_without_hspell_the_built_in_stripping_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hspell, "_binary", [None])
    assert analyse_many(["והמשלוח היה מעולה", "ממש לא מקצועיים"])[0].sentiment == "positive"
    assert analyse_many(["ממש לא מקצועיים"])[0].sentiment == "negative"
