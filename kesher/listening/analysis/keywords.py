"""Topics from the keywords a brand defines, and the urgent signals (complaint, legal threat, safety).

A keyword matches a word whatever Hebrew prefix letters it carries (המשלוח, ובמשלוח, שהמשלוחים) and an
English keyword its inflections (returned, returns → return). Keywords of more than one word match
the words in a row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kesher.listening.analysis.lexicon import hebrew_forms
from kesher.listening.analysis.text import HEBREW, Token, normalise, tokens_split

DEFAULT_TOPICS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # name: (Hebrew keywords, English keywords)
    "delivery": (
        (
            "משלוח",
            "שליח",
            "שליחה",
            "חבילה",
            "הגיע",
            "הגיעה",
            "הגעה",
            "איסוף",
            "דואר",
            "שילוח",
            "הובלה",
            "מסירה",
            "לוקר",
            "נקודת איסוף",
        ),
        (
            "delivery",
            "deliver",
            "delivered",
            "shipping",
            "shipment",
            "ship",
            "courier",
            "package",
            "parcel",
            "arrived",
            "arrive",
            "dispatch",
            "tracking",
            "pickup",
        ),
    ),
    "price": (
        (
            "מחיר",
            "יקר",
            "זול",
            "עלות",
            "תשלום",
            "כסף",
            "שקל",
            "שקלים",
            "הנחה",
            "מבצע",
            "חיוב",
            "חייבו",
            "קופון",
            "משתלם",
            "מופקע",
        ),
        (
            "price",
            "pricing",
            "expensive",
            "cheap",
            "cost",
            "paid",
            "pay",
            "payment",
            "charge",
            "charged",
            "discount",
            "deal",
            "money",
            "overpriced",
            "coupon",
            "affordable",
        ),
    ),
    "staff": (
        (
            "צוות",
            "שירות",
            "נציג",
            "נציגה",
            "מוכר",
            "מוכרת",
            "עובד",
            "עובדת",
            "עובדים",
            "שירות לקוחות",
            "מנהל",
            "מנהלת",
            "קופאי",
            "קופאית",
            "מלצר",
            "מלצרית",
            "מוקד",
            "מוקדנית",
            "מוקדן",
            "יחס",
        ),
        (
            "staff",
            "employee",
            "cashier",
            "agent",
            "representative",
            "rep",
            "seller",
            "salesperson",
            "manager",
            "waiter",
            "waitress",
            "team",
            "customer service",
            "support",
            "clerk",
        ),
    ),
    "quality": (
        (
            "איכות",
            "איכותי",
            "פגום",
            "פגם",
            "שבור",
            "נשבר",
            "טיב",
            "חומר",
            "בד",
            "טעם",
            "טעים",
            "טרי",
            "עמיד",
            "נקרע",
            "התקלקל",
            "מקולקל",
            "תקלה",
        ),
        (
            "quality",
            "broken",
            "broke",
            "defective",
            "faulty",
            "material",
            "fabric",
            "taste",
            "tasty",
            "fresh",
            "durable",
            "build",
            "damaged",
            "flimsy",
            "stale",
        ),
    ),
    "returns": (
        (
            "החזרה",
            "להחזיר",
            "החזרתי",
            "החזר",
            "זיכוי",
            "החלפה",
            "להחליף",
            "החלפתי",
            "ביטול",
            "לבטל",
            "ביטלתי",
            "אחריות",
            "החזר כספי",
        ),
        (
            "return",
            "returned",
            "refund",
            "exchange",
            "store credit",
            "cancel",
            "cancellation",
            "warranty",
            "money back",
        ),
    ),
}

URGENT: dict[str, tuple[str, ...]] = {
    "complaint": (
        "תלונה",
        "להתלונן",
        "מתלונן",
        "מתלוננת",
        "התלוננתי",
        "אתלונן",
        "דורש",
        "דורשת",
        "תחזירו",
        "בושה",
        "שערורייה",
        "לעולם לא עוד",
        "לדבר עם מנהל",
        "complaint",
        "complain",
        "complained",
        "formal complaint",
        "speak to a manager",
        "unacceptable",
        "never again",
        "disgrace",
        "i demand",
        "money back",
    ),
    "legal_threat": (
        "עורך דין",
        "עורכת דין",
        'עו"ד',
        'עוה"ד',
        "עורכי דין",
        "תביעה",
        "תביעה ייצוגית",
        "לתבוע",
        "אתבע",
        "נתבע",
        "נתבעים",
        "תביעות קטנות",
        "בית משפט",
        "הגנת הצרכן",
        "מכתב התראה",
        "lawyer",
        "attorney",
        "sue",
        "suing",
        "lawsuit",
        "legal action",
        "court",
        "small claims",
        "class action",
        "consumer protection",
        "solicitor",
    ),
    "safety": (
        "סכנה",
        "מסוכן",
        "מסוכנת",
        "נפצע",
        "נפצעתי",
        "נפצעה",
        "נפצעו",
        "פציעה",
        "כוויה",
        "נכוויתי",
        "נשרף",
        "שריפה",
        "התחשמלתי",
        "התחשמל",
        "הרעלה",
        "הרעלת מזון",
        "תגובה אלרגית",
        "אלרגיה",
        "אלרגי",
        "בית חולים",
        "מיון",
        "נחנק",
        "נחנקה",
        "זכוכית",
        "danger",
        "dangerous",
        "unsafe",
        "injured",
        "injury",
        "hurt",
        "burned",
        "burnt",
        "caught fire",
        "fire",
        "electric shock",
        "food poisoning",
        "allergic reaction",
        "allergy",
        "hospital",
        "emergency room",
        "choking",
        "choked",
        "glass",
        "exploded",
        "recall",
    ),
}
COMPLAINT_SCORE = -0.6  # a strongly negative text is a complaint even without the word


@dataclass(frozen=True, slots=True)
class KeywordSet:
    """Compiled keywords: the first word's forms → (the keyword's words, the name it stands for)."""

    index: dict[str, tuple[tuple[tuple[str, ...], str], ...]]
    names: tuple[str, ...]
    # word as written → the keywords that may start at it (filled as texts come)
    starts: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = field(default_factory=dict, compare=False)

    def find(self, tokens: Sequence[Token]) -> tuple[str, ...]:
        found: set[str] = set()
        starts = self.starts
        for i, token in enumerate(tokens):
            entries = starts.get(token.squeezed)
            if entries is None:
                entries = tuple(entry for form in token.forms for entry in self.index.get(form, ()))
                if len(starts) > 200_000:
                    starts.clear()
                starts[token.squeezed] = entries
            for words, name in entries:
                if name not in found and _rest_matches(tokens, i, words):
                    found.add(name)
        if not found:
            return ()
        return tuple(name for name in self.names if name in found)

    def find_in(self, text: str) -> tuple[str, ...]:
        return self.find(tokens_split(text))


def _rest_matches(tokens: Sequence[Token], i: int, words: tuple[str, ...]) -> bool:
    if len(words) == 1:
        return True
    if i + len(words) > len(tokens):
        return False
    for k, word in enumerate(words[1:], start=1):
        token = tokens[i + k]
        if word != token.squeezed and word not in token.forms:
            return False
    return True


def keyword_set_compile(keywords: Iterable[tuple[str, Iterable[str]]]) -> KeywordSet:
    """[(name, [keyword, ...]), ...] → a KeywordSet, in the order the names were given."""
    index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    names: list[str] = []
    for name, words in keywords:
        if name not in names:
            names.append(name)
        for keyword in words:
            parts = tuple(normalise(keyword).lower().split())
            if not parts:
                continue
            firsts = hebrew_forms(parts[0]) if HEBREW.match(parts[0]) else {parts[0]}
            for first in firsts:
                index.setdefault(first, []).append((parts, name))
    return KeywordSet(index={k: tuple(v) for k, v in index.items()}, names=tuple(names))


DEFAULT_TOPIC_SET = keyword_set_compile((name, he + en) for name, (he, en) in DEFAULT_TOPICS.items())
URGENT_SET = keyword_set_compile(URGENT.items())
