"""Cleaning imported customer records: names, phones, emails and the keys duplicates are compared on.

Phones and emails reuse kesher.members.normalize (E.164 with Israeli formats; lower case); on top of it
names get their spacing, Latin case and Hebrew final letters put right, and emails with a common typo of
a popular domain get a suggestion, never a silent change.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from kesher.core.errors import ValidationFailed
from kesher.members.normalize import normalize_email, normalize_name, normalize_phone

# Hebrew letters with a final form, and the reverse.
_FINAL_TO_MIDDLE = {"ך": "כ", "ם": "מ", "ן": "נ", "ף": "פ", "ץ": "צ"}
_MIDDLE_TO_FINAL = {middle: final for final, middle in _FINAL_TO_MIDDLE.items()}
_HEBREW = re.compile(r"[\u05d0-\u05ea]")
_NIQQUD = re.compile(r"[\u0591-\u05c7]")
_GERESH = {"'", "\u05f3", "\u2019"}  # צ׳ as in צ׳רלי: the letter is not final before a geresh

# Popular mail domains and the typos people make of them (suggested, never applied).
_DOMAIN_TYPOS = {
    "gmial.com": "gmail.com",
    "gmai.com": "gmail.com",
    "gamil.com": "gmail.com",
    "gmal.com": "gmail.com",
    "gnail.com": "gmail.com",
    "gmail.co": "gmail.com",
    "gmail.co.il": "gmail.com",
    "gmail.con": "gmail.com",
    "gmaill.com": "gmail.com",
    "hotmial.com": "hotmail.com",
    "hotmal.com": "hotmail.com",
    "hotmai.com": "hotmail.com",
    "hotmail.con": "hotmail.com",
    "homail.com": "hotmail.com",
    "yaho.com": "yahoo.com",
    "yahooo.com": "yahoo.com",
    "yahoo.con": "yahoo.com",
    "walla.co.i": "walla.co.il",
    "wala.co.il": "walla.co.il",
    "walla.com": "walla.co.il",
    "outlok.com": "outlook.com",
    "outllook.com": "outlook.com",
    "iclod.com": "icloud.com",
    "icloud.con": "icloud.com",
}


def hebrew_finals_fix(word: str) -> str:
    """A final letter inside a word becomes its middle form; a middle form ending a word becomes final."""
    if not _HEBREW.search(word):
        return word
    letters = list(word)
    for index, letter in enumerate(letters):
        after = letters[index + 1] if index + 1 < len(letters) else ""
        word_goes_on = bool(after) and (_HEBREW.match(after) is not None)
        if letter in _FINAL_TO_MIDDLE and word_goes_on:
            letters[index] = _FINAL_TO_MIDDLE[letter]
        elif letter in _MIDDLE_TO_FINAL and not word_goes_on and after not in _GERESH and index > 0:
            letters[index] = _MIDDLE_TO_FINAL[letter]
    return "".join(letters)


def _latin_case(word: str) -> str:
    """ "COHEN", "cohen" → "Cohen"; "McDonald" and "O'Brien" keep their inner capitals; "ben-David" parts."""
    if not word.isascii() or not any(ch.isalpha() for ch in word):
        return word
    if word.islower() or word.isupper():
        return "-".join(
            "'".join(p[:1].upper() + p[1:].lower() for p in part.split("'")) for part in word.split("-")
        )
    return word[:1].upper() + word[1:]


def name_clean(raw: str | None) -> str:
    """One space between words, niqqud dropped, Hebrew final letters right, Latin names in title case."""
    text = unicodedata.normalize("NFC", raw or "")
    text = _NIQQUD.sub("", text)
    words = normalize_name(text).split(" ")
    return " ".join(_latin_case(hebrew_finals_fix(word)) for word in words if word)[:100]


def email_suggestion(email: str | None) -> str | None:
    """The address with its domain's common typo corrected, if it has one: a suggestion to show."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.rpartition("@")
    fixed = _DOMAIN_TYPOS.get(domain.lower())
    return f"{local}@{fixed}" if fixed else None


def email_clean(raw: str | None) -> str | None:
    """Lower case and trimmed; raises ValidationFailed for what is not an address."""
    return normalize_email(raw)


def phone_clean(raw: str | None, *, default_country: str = "IL") -> str | None:
    """E.164 (050-123 4567, 972-50-1234567 and +972 50 123 4567 all become +972501234567)."""
    if raw is not None:
        raw = raw.strip()
        digits = re.sub(r"\D", "", raw)
        # "972501234567" without its plus is an international number written without the plus.
        if digits.startswith("972") and len(digits) == 12 and not raw.startswith("0"):
            raw = "+" + digits
    return normalize_phone(raw, default_country=default_country)


# --- comparison keys for finding duplicates -------------------------------------------------------------

# Hebrew and Latin spellings of a name meet in one reduced alphabet of consonants: vowels and the vowel
# letters (א ה ו ע, and י inside a word) drop, letters that sound alike share a symbol (כ ק ח and c k q ch
# kh → k; ש ס and s sh → s; ט ת and t th → t; צ and tz ts → c; פ and p f ph → p). ו, v and w drop, and so
# does ב inside a word (where it sounds v): "Aviv" and "אביב", "David" and "דוד", "Levi" and "לוי" meet.
_HEBREW_SKELETON = {
    "א": "",
    "ב": "b",
    "ג": "g",
    "ד": "d",
    "ה": "",
    "ו": "",
    "ז": "z",
    "ח": "k",
    "ט": "t",
    "י": "y",
    "כ": "k",
    "ך": "k",
    "ל": "l",
    "מ": "m",
    "ם": "m",
    "נ": "n",
    "ן": "n",
    "ס": "s",
    "ע": "",
    "פ": "p",
    "ף": "p",
    "צ": "c",
    "ץ": "c",
    "ק": "k",
    "ר": "r",
    "ש": "s",
    "ת": "t",
}
_LATIN_DIGRAPHS = (
    ("tch", "c"),
    ("tz", "c"),
    ("ts", "c"),
    ("sh", "s"),
    ("ch", "k"),
    ("kh", "k"),
    ("ph", "p"),
    ("th", "t"),
    ("ck", "k"),
)
_LATIN_SKELETON = str.maketrans({"c": "k", "q": "k", "x": "k", "f": "p", "v": "", "w": "", "j": "g"})
_VOWELS = re.compile(r"[aeiouh]")


def _latin_skeleton(word: str) -> str:
    word = "".join(ch for ch in unicodedata.normalize("NFKD", word.lower()) if "a" <= ch <= "z")
    for digraph, symbol in _LATIN_DIGRAPHS:
        word = word.replace(digraph, symbol.upper())  # upper case: not translated again below
    word = word.translate(_LATIN_SKELETON).lower()
    first, rest = word[:1], word[1:]
    rest = _VOWELS.sub("", rest.replace("y", ""))
    first = "" if first in "aeiouh" else first
    return first + rest


def _hebrew_skeleton(word: str) -> str:
    word = _NIQQUD.sub("", word)
    out = []
    for index, letter in enumerate(word):
        symbol = _HEBREW_SKELETON.get(letter, "")
        if letter in "יב" and index > 0:
            symbol = ""  # a vowel letter, or ב sounding v, inside the word
        out.append(symbol)
    return "".join(out)


def name_key(raw: str | None) -> str:
    """A spelling-free key of a name, the same for "כהן", "Cohen" and "Kohen", for "יוסי" and "Yossi"."""
    keys = []
    for word in (raw or "").replace("-", " ").split():
        key = _hebrew_skeleton(word) if _HEBREW.search(word) else _latin_skeleton(word)
        # Doubled letters are a spelling habit (Yossi, Hanna), not a sound.
        key = re.sub(r"(.)\1+", r"\1", key)
        if key:
            keys.append(key)
    return "".join(keys)


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    message: str
    suggestion: str = ""


def field_problem(field: str, error: ValidationFailed) -> Problem:
    return Problem(field=field, code=f"bad_{field}", message=error.message)
