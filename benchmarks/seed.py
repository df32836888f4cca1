"""Scratch databases and the benchmark's club: one brand, an API key and many members, seeded fast.

Seeding is not what is measured, so members go in with bulk_create (plus their points accounts)
instead of one member_create call each; card numbers and referral codes are unique by construction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlparse, urlunparse

import psycopg
from psycopg import sql

BRAND_SLUG = "bench"
FIRST_NAMES = ["נועה", "יוסף", "מאיה", "דוד", "תמר", "אורי", "שירה", "איתי", "Maya", "Daniel", "רחל", "עומר"]
LAST_NAMES = ["כהן", "לוי", "מזרחי", "פרץ", "ביטון", "אברהם", "Friedman", "Cohen", "שפירא", "דהן"]
INTERESTS = ["coffee", "books", "running", "family", "cooking", "travel"]


def database_url(base_url: str, name: str) -> str:
    parts = urlparse(base_url)
    return urlunparse(parts._replace(path=f"/{name}"))


def database_recreate(*, base_url: str, name: str) -> None:
    """Drop (disconnecting anyone still on it) and create an empty database."""
    with psycopg.connect(database_url(base_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def server_version(base_url: str) -> str:
    with psycopg.connect(database_url(base_url, "postgres")) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        commit = conn.execute("SHOW synchronous_commit").fetchone()
    return f"{row[0] if row else '?'} (synchronous_commit={commit[0] if commit else '?'})"


def _luhn_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


def card_number(index: int) -> str:
    body = "8" + f"{index:010d}"
    return body + _luhn_digit(body)


def referral_code(index: int, alphabet: str) -> str:
    # An odd multiplier modulo 32**8 is a bijection: unique codes that do not look sequential.
    value = (index * 2654435761 + 104729) % (32**8)
    chars = []
    for _ in range(8):
        value, digit = divmod(value, 32)
        chars.append(alphabet[digit])
    return "".join(chars)


@dataclass(frozen=True)
class Club:
    brand_id: str
    api_key: str
    member_ids: list[str]


def club_create(*, members: int, batch: int = 5000) -> Club:
    """Migrate, then create the brand (with its default earning program), a key and `members` members."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone
    from tqdm import tqdm

    from kesher.brands.services import api_key_create, brand_create
    from kesher.loyalty.models import PointsAccount
    from kesher.members.models import Member
    from kesher.members.services import REFERRAL_ALPHABET

    call_command("migrate", interactive=False, verbosity=0)
    brand = brand_create(slug=BRAND_SLUG, name="Bench Coffee", default_locale="he")
    issued = api_key_create(brand=brand, scope="all", name="benchmark")
    now = timezone.now()
    member_ids: list[str] = []
    with tqdm(total=members, unit=" members", desc="seeding members", unit_scale=True) as bar:
        for start in range(0, members, batch):
            rows = []
            for index in range(start, min(start + batch, members)):
                member_id = uuid.uuid4()
                member_ids.append(str(member_id))
                rows.append(
                    Member(
                        id=member_id,
                        brand=brand,
                        external_id=f"bench-{index:07d}",
                        email=f"member{index}@bench.kesher.test",
                        phone=f"+97252{index:07d}",
                        first_name=FIRST_NAMES[index % len(FIRST_NAMES)],
                        last_name=LAST_NAMES[index % len(LAST_NAMES)],
                        locale="he" if index % 4 else "en",
                        interests=[INTERESTS[index % len(INTERESTS)]],
                        joined_at=now,
                        source="bench",
                        card_number=card_number(index),
                        referral_code=referral_code(index, REFERRAL_ALPHABET),
                        consent_email=index % 3 == 0,
                        consent_sms=index % 5 == 0,
                    )
                )
            with transaction.atomic():
                Member.objects.bulk_create(rows)
                PointsAccount.objects.bulk_create(
                    [PointsAccount(member_id=row.pk, brand=brand) for row in rows]
                )
            bar.update(len(rows))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()
    return Club(brand_id=str(brand.pk), api_key=issued.raw_key, member_ids=member_ids)
