"""The staff's member list and a member's page: search, filters, sorting, paging and export, and everything
one member has done and been sent, read with a fixed number of queries whatever the page holds."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext

from kesher.activity.models import Activity
from kesher.brands.models import Brand
from kesher.core.errors import ValidationFailed
from kesher.members.labels import activity_label, consent_source_label
from kesher.members.models import ConsentEvent, Member, MemberStatus
from kesher.members.normalize import normalize_phone
from kesher.members.selectors import digits_typed

CHANNELS = ("email", "sms", "push")
PURCHASE_WINDOWS = (30, 90, 180, 365)  # days, as offered in the filter
SORTS = {
    "name": ("first_name", "last_name", "pk"),
    "-name": ("-first_name", "-last_name", "-pk"),
    "joined": ("joined_at", "pk"),
    "-joined": ("-joined_at", "-pk"),
    "points": ("points__balance", "pk"),
    "-points": ("-points__balance", "-pk"),
    "last_purchase": ("last_purchase_at", "pk"),
    "-last_purchase": ("-last_purchase_at", "-pk"),
}
DEFAULT_SORT = "-joined"


@dataclass
class DirectoryQuery:
    """What the staff asked for, each part already checked (unknown values are dropped, not guessed)."""

    q: str = ""
    tier: str = ""  # a tier's id, "none" for members in no tier, or "" for any
    segment: str = ""
    consent: dict[str, str] = field(default_factory=dict)  # channel -> "yes" | "no"
    purchased_within: int | None = None  # days: bought at least once in them
    no_purchase_within: int | None = None  # days: bought nothing in them
    points_min: int | None = None
    points_max: int | None = None
    sort: str = DEFAULT_SORT

    @classmethod
    def from_params(cls, params: Any) -> DirectoryQuery:
        def number(name: str) -> int | None:
            raw = (params.get(name) or "").replace(",", "").strip()
            try:
                return int(raw) if raw else None
            except ValueError:
                raise ValidationFailed(gettext("Type a whole number"), field=name) from None

        def window(name: str) -> int | None:
            value = number(name)
            return value if value in PURCHASE_WINDOWS else None

        consent = {
            channel: params.get(f"consent_{channel}")
            for channel in CHANNELS
            if params.get(f"consent_{channel}") in ("yes", "no")
        }
        sort = params.get("sort") or DEFAULT_SORT
        return cls(
            q=(params.get("q") or "").strip(),
            tier=(params.get("tier") or "").strip(),
            segment=(params.get("segment") or "").strip(),
            consent=consent,
            purchased_within=window("purchased_within"),
            no_purchase_within=window("no_purchase_within"),
            points_min=number("points_min"),
            points_max=number("points_max"),
            sort=sort if sort in SORTS else DEFAULT_SORT,
        )


def _search(brand: Brand, text: str) -> Q:
    """Name (every word typed, in the first or last name), email, external id, card number or phone
    number, however the number is typed."""
    condition = Q(external_id=text) | Q(email__icontains=text)
    digits = digits_typed(text.removeprefix("+"))
    if digits is not None:
        condition |= Q(card_number=digits)
        for form in {text, f"+{digits}" if text.startswith("+") else digits}:
            with contextlib.suppress(ValidationFailed):
                condition |= Q(phone=normalize_phone(form, default_country=brand.default_country))
        return condition
    every_word = Q()
    for word in text.split():
        every_word &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    return condition | every_word


def member_directory(*, brand: Brand, query: DirectoryQuery, now: datetime | None = None) -> QuerySet[Member]:
    """The brand's members (not erased ones) that the query selects, in its order, each with its points
    account and tier joined and its last purchase annotated: one query for any page of them."""
    now = now or timezone.now()
    purchases = Activity.objects.filter(brand_id=brand.pk, member_id=OuterRef("pk"), type="purchase")
    members = (
        Member.objects.filter(brand=brand)
        .exclude(status=MemberStatus.ERASED)
        .select_related("points", "points__tier")
        .annotate(
            last_purchase_at=Subquery(purchases.order_by("-occurred_at").values("occurred_at")[:1]),
        )
    )
    if query.q:
        members = members.filter(_search(brand, query.q))
    if query.tier == "none":
        members = members.filter(Q(points__tier__isnull=True) | Q(points__isnull=True))
    elif query.tier:
        members = (
            members.filter(points__tier_id=query.tier) if _is_uuid_or_int(query.tier) else members.none()
        )
    if query.segment:
        from kesher.campaigns.models import Segment
        from kesher.campaigns.selectors import rules_members

        segment = (
            Segment.objects.filter(brand=brand, pk=query.segment).first() if _is_uuid(query.segment) else None
        )
        if segment is None:
            return members.none()
        members = members.filter(pk__in=rules_members(brand=brand, rules=segment.rules, now=now).values("pk"))
    for channel, wanted in query.consent.items():
        members = members.filter(**{f"consent_{channel}": wanted == "yes"})
    if query.purchased_within:
        since = now - timedelta(days=query.purchased_within)
        members = members.filter(Exists(purchases.filter(occurred_at__gte=since)))
    if query.no_purchase_within:
        since = now - timedelta(days=query.no_purchase_within)
        members = members.filter(~Exists(purchases.filter(occurred_at__gte=since)))
    if query.points_min is not None:
        members = members.filter(points__balance__gte=query.points_min)
    if query.points_max is not None:
        members = members.filter(points__balance__lte=query.points_max)
    order = SORTS[query.sort]
    if "last_purchase" in query.sort:  # members who never bought go last either way
        column = F("last_purchase_at")
        first = column.desc(nulls_last=True) if query.sort.startswith("-") else column.asc(nulls_last=True)
        return members.order_by(first, order[-1])
    return members.order_by(*order)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_uuid_or_int(value: str) -> bool:
    return value.isdigit() or _is_uuid(value)


@dataclass(frozen=True)
class MemberRecord:
    """Everything the member's page shows, newest first in each part."""

    member: Member
    consent_events: list[ConsentEvent]
    activities: list[Activity]
    messages: list[Any]
    posts: list[Any]


RECORD_ROWS = 50  # of each part on the member's page


def member_record(*, member: Member) -> MemberRecord:
    """Each part is one query; activity types and consent sources carry their label (`label`,
    `source_label`) so no code reaches the page."""
    from kesher.campaigns.models import Message
    from kesher.community.models import Post

    record = MemberRecord(
        member=member,
        consent_events=list(
            ConsentEvent.objects.filter(brand_id=member.brand_id, member=member).order_by("-occurred_at")[
                :RECORD_ROWS
            ]
        ),
        activities=list(
            Activity.objects.filter(brand_id=member.brand_id, member=member).order_by("-occurred_at")[
                :RECORD_ROWS
            ]
        ),
        messages=list(
            Message.objects.filter(brand_id=member.brand_id, member=member)
            .select_related("campaign")
            .order_by("-created_at")[:RECORD_ROWS]
        ),
        posts=list(
            Post.objects.filter(brand_id=member.brand_id, author=member)
            .select_related("space", "question")
            .order_by("-created_at")[:RECORD_ROWS]
        ),
    )
    for activity in record.activities:
        activity.label = activity_label(activity.type)  # type: ignore[attr-defined]
    for event in record.consent_events:
        event.source_label = consent_source_label(event.source)  # type: ignore[attr-defined]
    return record
