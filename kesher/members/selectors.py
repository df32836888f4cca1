"""Reads of members, always inside one brand."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet

from kesher.brands.models import Brand
from kesher.core.bulk import rows_in
from kesher.core.errors import NotFound, ValidationFailed
from kesher.core.rows import row_get
from kesher.members.birthdays import gregorian_keys_for, hebrew_keys_for
from kesher.members.models import Member
from kesher.members.normalize import normalize_phone


def _not_found(what: str) -> NotFound:
    return NotFound(f"No member {what}", code="member_not_found")


def _with_brand(member: Member | None, brand: Brand) -> Member | None:
    if member is not None:
        member._state.fields_cache["brand"] = brand  # asked for within this brand: no query to read it again
    return member


def member_get(*, brand: Brand, member_id: str | uuid.UUID) -> Member:
    try:
        member_uuid = uuid.UUID(str(member_id))
    except ValueError:
        raise _not_found(f"with id {member_id}") from None
    member = _with_brand(row_get(Member, brand_id=brand.pk, pk=member_uuid), brand)
    if member is None:
        raise _not_found(f"with id {member_id}")
    return member


def member_get_by_external_id(*, brand: Brand, external_id: str) -> Member:
    member = _with_brand(row_get(Member, brand_id=brand.pk, external_id=external_id), brand)
    if member is None:
        raise _not_found(f"with external_id {external_id!r}")
    return member


def members_by_reference(
    *, brand: Brand, ids: Iterable[uuid.UUID], external_ids: Iterable[str]
) -> tuple[dict[uuid.UUID, Member], dict[str, Member]]:
    """The brand's members with any of these ids, and those with any of these external ids (a query for
    each list that is not empty), every one with its brand in place."""
    wanted_ids, wanted_external = list(ids), list(external_ids)
    by_id = rows_in(Member, "id", wanted_ids, brand_id=brand.pk) if wanted_ids else []
    by_external = (
        rows_in(Member, "external_id", wanted_external, brand_id=brand.pk) if wanted_external else []
    )
    for member in [*by_id, *by_external]:
        _with_brand(member, brand)
    return {member.pk: member for member in by_id}, {
        member.external_id or "": member for member in by_external
    }


# What people put between digits: spaces (also no-break and thin), dashes of every kind, dots, slashes,
# underscores, brackets, and the invisible direction marks a phone's keyboard or a copy from RTL text adds.
DIGIT_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212._/()\[\]\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def digits_typed(query: str) -> str | None:
    """The digits of a number typed with separators ("8123 4567-8901" -> "812345678901"), in any script's
    digits; None when the text is more than a number with separators."""
    compact = DIGIT_SEPARATORS.sub("", query)
    if not compact or not compact.isdecimal():
        return None
    return "".join(str(unicodedata.decimal(char)) for char in compact)


def member_find(*, brand: Brand, query: str) -> list[Member]:
    """What a cashier types: a phone number in any local or international form (spaces, dashes, dots,
    brackets, a leading 0, +972, 972 or 00972), a card number with spaces or dashes, an email or an
    external id."""
    query = query.strip()
    if not query:
        return []
    conditions = Q(card_number=query) | Q(external_id=query) | Q(email=query.lower())
    digits = digits_typed(query.removeprefix("+"))
    if digits is not None:
        conditions |= Q(card_number=digits)
    for form in {query, f"+{digits}" if query.startswith("+") and digits else digits}:
        if form:
            with contextlib.suppress(ValidationFailed):
                conditions |= Q(phone=normalize_phone(form, default_country=brand.default_country))
    return list(Member.objects.filter(brand=brand).filter(conditions).order_by("-created_at")[:20])


@dataclass(frozen=True)
class MemberPage:
    members: list[Member]
    next_cursor: str | None


def _encode_cursor(member: Member) -> str:
    raw = json.dumps([member.created_at.isoformat(), str(member.pk)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, pk = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(created), uuid.UUID(pk)
    except (ValueError, TypeError):
        raise ValidationFailed("cursor is not one this server gave out", field="cursor") from None


def member_list(
    *,
    brand: Brand,
    status: str | None = None,
    q: str | None = None,
    interest: str | None = None,
    consent: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> MemberPage:
    """Newest first, by an opaque cursor so pages stay stable while members join."""
    members: QuerySet[Member] = Member.objects.filter(brand=brand)
    if status:
        members = members.filter(status=status)
    if q:
        members = members.filter(
            Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(email__icontains=q) | Q(external_id=q)
        )
    if interest:
        members = (
            members.filter(interests__contains=[interest])
            if _json_contains_supported()
            else members.filter(interests__icontains=f'"{interest}"')
        )
    if consent:
        if consent not in ("email", "sms", "push"):
            raise ValidationFailed("consent must be email, sms or push", field="consent")
        members = members.filter(**{f"consent_{consent}": True})
    if cursor:
        created, pk = _decode_cursor(cursor)
        members = members.filter(Q(created_at__lt=created) | Q(created_at=created, pk__lt=pk))
    rows = list(members.order_by("-created_at", "-pk")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return MemberPage(members=rows, next_cursor=_encode_cursor(rows[-1]) if has_more and rows else None)


def _json_contains_supported() -> bool:
    from django.db import connection

    return connection.features.supports_json_field_contains


CALENDARS = ("gregorian", "hebrew")


def members_born_on(*, brand_id: uuid.UUID | str, day: date, calendar: str = "gregorian") -> QuerySet[Member]:
    """Members whose birthday is `day`, by the Gregorian or the Hebrew calendar: one index lookup.

    Gregorian: 29 February birthdays fall on 28 February in common years. Hebrew: the Hebrew date of
    `day`, with the edge days of kesher.members.birthdays (Adar in leap and common years, 30 Heshvan,
    30 Kislev and 30 Adar I in years without that day). Any status; callers narrow further.
    """
    if calendar == "gregorian":
        return Member.objects.filter(brand_id=brand_id, birthday_md__in=gregorian_keys_for(day))
    if calendar == "hebrew":
        return Member.objects.filter(brand_id=brand_id, hebrew_birthday_md__in=hebrew_keys_for(day))
    raise ValidationFailed("calendar must be gregorian or hebrew", field="calendar")
