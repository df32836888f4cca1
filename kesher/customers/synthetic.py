"""Generated people with known duplicates, for measuring the duplicate finder (tests, benchmark, demo).

Each duplicate is another record of a person with what real records get wrong: a typo in a name, first and
last names swapped, the phone written another way (or missing), the name in Hebrew in one record and in
Latin letters in the other, a different or missing email.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

# (Hebrew, Latin spellings): the common transliterations Israeli records carry.
FIRST_NAMES = [
    ("דוד", ["David"]),
    ("משה", ["Moshe"]),
    ("יוסף", ["Yosef", "Yossef"]),
    ("יוסי", ["Yossi", "Yosi"]),
    ("אברהם", ["Avraham", "Abraham"]),
    ("יצחק", ["Yitzhak", "Itzhak"]),
    ("יעקב", ["Yaakov", "Yakov"]),
    ("דניאל", ["Daniel"]),
    ("אורי", ["Ori", "Uri"]),
    ("נועם", ["Noam"]),
    ("איתי", ["Itai", "Itay"]),
    ("עומר", ["Omer"]),
    ("רון", ["Ron"]),
    ("גיא", ["Guy", "Gai"]),
    ("אלון", ["Alon"]),
    ("עידו", ["Ido"]),
    ("שרה", ["Sarah", "Sara"]),
    ("רחל", ["Rachel", "Rahel"]),
    ("מיכל", ["Michal", "Mikhal"]),
    ("נועה", ["Noa", "Noah"]),
    ("תמר", ["Tamar"]),
    ("יעל", ["Yael"]),
    ("שירה", ["Shira"]),
    ("מאיה", ["Maya"]),
    ("רותם", ["Rotem"]),
    ("הדס", ["Hadas"]),
    ("ליאת", ["Liat"]),
    ("אביגיל", ["Avigail", "Abigail"]),
    ("אסתר", ["Ester", "Esther"]),
    ("חנה", ["Hana", "Hanna", "Chana"]),
    ("רבקה", ["Rivka"]),
    ("דנה", ["Dana"]),
    ("אלה", ["Ella", "Ela"]),
    ("עדי", ["Adi"]),
    ("שני", ["Shani"]),
    ("טל", ["Tal"]),
    ("ליאור", ["Lior"]),
    ("אריאל", ["Ariel"]),
    ("בנימין", ["Binyamin", "Benjamin"]),
    ("שמואל", ["Shmuel"]),
    ("אליהו", ["Eliyahu"]),
]
LAST_NAMES = [
    ("כהן", ["Cohen", "Kohen"]),
    ("לוי", ["Levi", "Levy"]),
    ("מזרחי", ["Mizrahi", "Mizrachi"]),
    ("פרץ", ["Peretz", "Perez"]),
    ("ביטון", ["Biton", "Bitton"]),
    ("דהן", ["Dahan"]),
    ("אברהם", ["Avraham"]),
    ("פרידמן", ["Friedman", "Fridman"]),
    ("אזולאי", ["Azoulay", "Azulai"]),
    ("מלכה", ["Malka"]),
    ("כץ", ["Katz", "Kats"]),
    ("יוסף", ["Yosef"]),
    ("דוד", ["David"]),
    ("עמר", ["Amar"]),
    ("אוחיון", ["Ohayon"]),
    ("חדד", ["Hadad", "Haddad"]),
    ("גבאי", ["Gabay", "Gabai"]),
    ("שפירא", ["Shapira", "Shapiro"]),
    ("בן דוד", ["Ben David"]),
    ("אשכנזי", ["Ashkenazi"]),
    ("סעדה", ["Saada"]),
    ("רוזנברג", ["Rosenberg"]),
    ("גולדברג", ["Goldberg"]),
    ("שטרן", ["Stern", "Shtern"]),
    ("ברק", ["Barak"]),
    ("גרינברג", ["Greenberg"]),
    ("שלום", ["Shalom"]),
    ("טל", ["Tal"]),
    ("שרעבי", ["Sharabi"]),
    ("קליין", ["Klein"]),
    ("וייס", ["Weiss"]),
    ("זילברמן", ["Zilberman", "Silberman"]),
    ("נחום", ["Nachum", "Nahum"]),
    ("יעקובי", ["Yaakobi"]),
    ("רביבו", ["Revivo"]),
    ("בוזגלו", ["Buzaglo"]),
    ("חזן", ["Hazan", "Chazan"]),
    ("ששון", ["Sasson"]),
    ("אלמוג", ["Almog"]),
    ("הורוביץ", ["Horowitz", "Horovitz"]),
    ("קפלן", ["Kaplan"]),
    ("לנדאו", ["Landau"]),
]
DOMAINS = [
    "gmail.com",
    "walla.co.il",
    "hotmail.com",
    "yahoo.com",
    "outlook.com",
    "012.net.il",
    "bezeqint.net",
]


@dataclass
class Person:
    key: str  # the person; duplicates share it
    external_id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    birthday: str


def _phone_written(digits: str, rng: random.Random) -> str:
    """0501234567 as people write it."""
    local = digits[1:]
    return rng.choice(
        [
            digits,
            f"{digits[:3]}-{digits[3:]}",
            f"{digits[:3]}-{digits[3:6]}-{digits[6:]}",
            f"{digits[:3]} {digits[3:6]} {digits[6:]}",
            f"+972{local}",
            f"+972-{local[:2]}-{local[2:]}",
            f"972{local}",
        ]
    )


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1 :]  # a letter left out
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # two letters swapped
    return word[:i] + word[i] + word[i:]  # a letter doubled


def people(count: int, duplicates: int, *, seed: int = 18) -> list[Person]:
    """`count` distinct people plus `duplicates` extra records of some of them, shuffled."""
    rng = random.Random(seed)
    base: list[tuple[Person, int, int, bool]] = []
    used_phones: set[str] = set()
    for n in range(count):
        f_index, l_index = rng.randrange(len(FIRST_NAMES)), rng.randrange(len(LAST_NAMES))
        while True:
            phone = "05" + rng.choice("0234578") + "".join(rng.choice("0123456789") for _ in range(7))
            if phone not in used_phones:
                used_phones.add(phone)
                break
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
        latin_first = rng.choice(FIRST_NAMES[f_index][1])
        latin_last = rng.choice(LAST_NAMES[l_index][1])
        hebrew = rng.random() < 0.5
        local = f"{latin_first.lower()}.{latin_last.lower().replace(' ', '')}{rng.randrange(1, 9999)}"
        email = f"{local}@{rng.choice(DOMAINS)}"
        person = Person(
            key=f"p{n}",
            external_id=f"c{n}",
            first_name=FIRST_NAMES[f_index][0] if hebrew else latin_first,
            last_name=LAST_NAMES[l_index][0] if hebrew else latin_last,
            email=email if rng.random() < 0.85 else "",
            phone=_phone_written(phone, rng) if rng.random() < 0.9 else "",
            birthday=born.isoformat() if rng.random() < 0.8 else "",
        )
        base.append((person, f_index, l_index, hebrew))
    records = [p for p, *_ in base]
    phones = {p.key: p.phone for p in records}
    for d in range(duplicates):
        person, f_index, l_index, hebrew = base[rng.randrange(count)]
        first, last = person.first_name, person.last_name
        # Each duplicate has one or two things wrong, as records from another till or a web form do.
        changes = rng.sample(["script", "typo", "swap", "phone", "email"], k=rng.choice([1, 2]))
        if "script" in changes:
            if hebrew:
                first, last = rng.choice(FIRST_NAMES[f_index][1]), rng.choice(LAST_NAMES[l_index][1])
            else:
                first, last = FIRST_NAMES[f_index][0], LAST_NAMES[l_index][0]
        if "typo" in changes:
            if rng.random() < 0.5:
                first = _typo(first, rng)
            else:
                last = _typo(last, rng)
        if "swap" in changes:
            first, last = last, first
        phone = phones[person.key]
        digits = "".join(ch for ch in phone if ch.isdigit())
        if digits.startswith("972"):
            digits = "0" + digits[3:]
        email = person.email
        # A record with no phone and no email is a name only: nobody could tell whose. Each duplicate keeps
        # one of the two, written its own way.
        drop_phone = "phone" in changes and rng.random() < 0.3 and bool(email) and "email" not in changes
        if "phone" in changes and digits:
            phone = "" if drop_phone else _phone_written(digits, rng)
        if "email" in changes:
            email = "" if (rng.random() < 0.5 and phone) else email.upper()
        records.append(
            Person(
                key=person.key,
                external_id=f"d{d}",
                first_name=first,
                last_name=last,
                email=email,
                phone=phone,
                birthday=person.birthday if rng.random() < 0.9 else "",
            )
        )
    rng.shuffle(records)
    return records


def true_pairs(records: list[Person]) -> set[tuple[str, str]]:
    """Every pair of records (by external id, in order) that is one person."""
    by_person: dict[str, list[str]] = {}
    for record in records:
        by_person.setdefault(record.key, []).append(record.external_id)
    pairs = set()
    for ids in by_person.values():
        ids.sort()
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                pairs.add((a, b))
    return pairs
