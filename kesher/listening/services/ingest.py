"""Taking mentions in, a batch at a time: clean, drop what is known, analyse, weigh the author's influence,
link the author to a member, set the priority, write, and open a case for what needs an answer.

Every connector and the API come through `mentions_ingest`; a batch is one transaction with one query per
step (not one per mention). A mention is written once per `(brand, source, external_id)` with
INSERT … ON CONFLICT DO NOTHING: a concurrent duplicate waits on the unique index, then reads the row
the first one committed (its case included), so nothing is created twice.
"""

from __future__ import annotations

import contextlib
import math
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from kesher.brands.models import Brand
from kesher.core.bulk import rows_in, rows_insert_new, rows_update
from kesher.core.errors import ValidationFailed
from kesher.listening.analysis import analyse_many
from kesher.listening.models import AuthorLink, Connector, ConnectorKind, Mention, Priority, Sentiment
from kesher.members.models import Member
from kesher.members.normalize import normalize_email, normalize_phone
from kesher.service.services.opening import CaseOpening, cases_open_many

MAX_TEXT = 10_000
MAX_BATCH = 1_000
SOURCE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
EMAIL_LIKE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_LIKE = re.compile(r"^\+?[\d\s\-().]{7,20}$")

# Influence: reach (the followers, and each share's own audience) times engagement, on log scales so that
# one celebrity does not drown everyone else. A share is taken to reach SHARE_REACH more people.
SHARE_REACH = 100
# From this influence a negative mention is urgent business (about 5,000 followers with 20 reactions).
INFLUENTIAL = 8.0
# Mentions read from these parts are not routed to the inbox here: the community's "need help" posts and
# the detractors' survey answers reach the inbox through those parts already.
NOT_ROUTED = {"community", "surveys"}
CASE_CHANNEL = "mention"
URGENT_ALWAYS = {"legal_threat", "safety"}


@dataclass
class MentionIn:
    """One mention as a connector read it, before it is checked."""

    source: str
    external_id: str
    text: str
    posted_at: datetime
    url: str = ""
    author_handle: str = ""
    author_name: str = ""
    author_followers: int | None = None
    shares: int = 0
    engagement: int = 0
    language: str = ""
    parent_external_id: str = ""
    author_email: str = ""
    author_phone: str = ""
    member_id: uuid.UUID | None = None  # known already (the brand's own parts)


@dataclass
class IngestResult:
    mentions: list[Mention]  # one per distinct (source, external_id), in the order given
    created: set[uuid.UUID] = field(default_factory=set)

    @property
    def added(self) -> int:
        return len(self.created)

    def is_new(self, mention: Mention) -> bool:
        return mention.pk in self.created


def influence_of(*, followers: int | None, shares: int, engagement: int) -> float:
    """log10(1 + reach) × (1 + log10(1 + engagement)), reach = followers + shares × SHARE_REACH."""
    reach = (followers or 0) + shares * SHARE_REACH
    return round(math.log10(1 + reach) * (1 + math.log10(1 + engagement)), 3)


def priority_of(*, sentiment: str, urgent: Sequence[str], influence: float) -> str:
    """A legal threat or a safety issue is urgent. A complaint is high, urgent from an influential author.
    Any other negative mention is high from an influential author, normal otherwise; the rest is low."""
    influential = influence >= INFLUENTIAL
    if any(signal in URGENT_ALWAYS for signal in urgent):
        return Priority.URGENT
    if "complaint" in urgent:
        return Priority.URGENT if influential else Priority.HIGH
    if sentiment == Sentiment.NEGATIVE:
        return Priority.HIGH if influential else Priority.NORMAL
    return Priority.LOW


def needs_answer(mention: Mention) -> bool:
    return mention.source not in NOT_ROUTED and mention.priority != Priority.LOW


def _text(value: object, limit: int, field_name: str, *, required: bool = False) -> str:
    text = " ".join(str(value or "").split()) if field_name != "text" else str(value or "").strip()
    if required and not text:
        raise ValidationFailed(f"{field_name} is required", field=field_name)
    if len(text) > limit:
        raise ValidationFailed(f"{field_name} is longer than {limit} characters", field=field_name)
    return text


def _count(value: object, field_name: str) -> int:
    if value is None or value == "":
        return 0
    try:
        number = int(str(value).replace(",", "").strip())
    except ValueError:
        raise ValidationFailed(f"{field_name} must be a whole number", field=field_name) from None
    if not 0 <= number <= 10**15:
        raise ValidationFailed(f"{field_name} must be between 0 and 10^15", field=field_name)
    return number


def mention_clean(item: MentionIn) -> MentionIn:
    """The mention checked and tidied: a clear 422 naming the field when something is wrong."""
    source = str(item.source or "").strip().lower()
    if not SOURCE_PATTERN.match(source):
        raise ValidationFailed(
            "source must be 1 to 40 lowercase letters, digits, dots, dashes or underscores", field="source"
        )
    if not isinstance(item.posted_at, datetime) or timezone.is_naive(item.posted_at):
        raise ValidationFailed("posted_at must be a time with its UTC offset", field="posted_at")
    followers = item.author_followers
    return MentionIn(
        source=source,
        external_id=_text(item.external_id, 200, "external_id", required=True),
        text=_text(item.text, MAX_TEXT, "text", required=True),
        posted_at=item.posted_at,
        url=_text(item.url, 2000, "url"),
        author_handle=_text(item.author_handle, 200, "author.handle").removeprefix("@"),
        author_name=_text(item.author_name, 200, "author.name"),
        author_followers=None
        if followers is None or followers == ""
        else _count(followers, "author.followers"),
        shares=_count(item.shares, "shares"),
        engagement=_count(item.engagement, "engagement"),
        language=_text(item.language, 8, "language").lower(),
        parent_external_id=_text(item.parent_external_id, 200, "parent_external_id"),
        author_email=_text(item.author_email, 254, "author.email"),
        author_phone=_text(item.author_phone, 40, "author.phone"),
        member_id=item.member_id,
    )


# --- who the author is --------------------------------------------------------------------------------


def _contact_keys(item: MentionIn, country: str) -> tuple[str | None, str | None]:
    """The author's email and phone as the members part normalises them (from the fields, or a handle that
    is one)."""
    email = phone = None
    for raw in (item.author_email, item.author_handle if EMAIL_LIKE.match(item.author_handle) else ""):
        if raw and email is None:
            with contextlib.suppress(ValidationFailed):
                email = normalize_email(raw)
    for raw in (item.author_phone, item.author_handle if PHONE_LIKE.match(item.author_handle) else ""):
        if raw and phone is None:
            with contextlib.suppress(ValidationFailed):
                phone = normalize_phone(raw, default_country=country)
    return email, phone


def _members_of(brand: Brand, items: list[MentionIn]) -> tuple[dict[int, uuid.UUID], list[AuthorLink]]:
    """Each item's member (by position), when its email, phone or handle is known; and the handles newly
    learned (a handle seen with a member's email or phone)."""
    contacts = [_contact_keys(item, brand.default_country) for item in items]
    emails = {email for email, _ in contacts if email}
    phones = {phone for _, phone in contacts if phone}
    by_email = (
        {m.email: m.pk for m in rows_in(Member, "email", sorted(emails), brand_id=brand.pk)} if emails else {}
    )
    by_phone = (
        {m.phone: m.pk for m in rows_in(Member, "phone", sorted(phones), brand_id=brand.pk)} if phones else {}
    )
    handles = {(item.source, item.author_handle) for item in items if item.author_handle}
    by_handle: dict[tuple[str, str], uuid.UUID] = {}
    if handles:
        for link in rows_in(AuthorLink, "handle", sorted({h for _, h in handles}), brand_id=brand.pk):
            by_handle[(link.source, link.handle)] = link.member_id
    found: dict[int, uuid.UUID] = {}
    learned: dict[tuple[str, str], AuthorLink] = {}
    for position, (item, (email, phone)) in enumerate(zip(items, contacts, strict=True)):
        member_id = (
            item.member_id
            or (by_email.get(email) if email else None)
            or (by_phone.get(phone) if phone else None)
        )
        key = (item.source, item.author_handle)
        if member_id is not None and item.author_handle and key not in by_handle and key not in learned:
            learned[key] = AuthorLink(
                brand=brand, source=item.source, handle=item.author_handle, member_id=member_id
            )
        member_id = member_id or by_handle.get(key)
        if member_id is not None:
            found[position] = member_id
    return found, list(learned.values())


# --- the batch ------------------------------------------------------------------------------------------


def _existing(brand: Brand, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Mention]:
    by_source: dict[str, list[str]] = {}
    for source, external_id in keys:
        by_source.setdefault(source, []).append(external_id)
    found: dict[tuple[str, str], Mention] = {}
    for source, external_ids in by_source.items():
        for mention in rows_in(Mention, "external_id", external_ids, brand_id=brand.pk, source=source):
            found[(source, mention.external_id)] = mention
    return found


def _subject(mention: Mention) -> str:
    who = f"@{mention.author_handle}" if mention.author_handle else mention.author_name
    head = " ".join(mention.text.split())
    head = head if len(head) <= 80 else head[:79] + "…"
    return f"{who} ({mention.source}): {head}" if who else f"{mention.source}: {head}"


def _route(brand: Brand, mentions: list[Mention], members: dict[uuid.UUID, Member]) -> list[Mention]:
    """Open a case (channel "mention") for each new mention that needs an answer, all in one batch;
    returns those given one."""
    routed = [mention for mention in mentions if needs_answer(mention)]
    if not routed:
        return []
    opened = cases_open_many(
        brand=brand,
        openings=[
            CaseOpening(
                channel=CASE_CHANNEL,
                source_ref=str(mention.pk),
                subject=_subject(mention)[:200],
                text=mention.text,
                member=members.get(mention.member_id) if mention.member_id else None,
                priority=mention.priority,
                author_handle=mention.author_handle,
                author_name=mention.author_name,
                language=mention.language or "he",
                url=mention.url,
            )
            for mention in routed
        ],
    )
    for mention, (case, _new) in zip(routed, opened, strict=True):
        mention.case_id = case.pk
    return routed


@transaction.atomic
def mentions_ingest(
    *, brand: Brand, items: Sequence[MentionIn], connector: Connector | None = None, route: bool = True
) -> IngestResult:
    """Take a batch of checked mentions in (see `mention_clean`); what is already there is dropped and
    returned as it was first written. One transaction; the connector's counters move with it."""
    if len(items) > MAX_BATCH:
        raise ValidationFailed(f"At most {MAX_BATCH} mentions at once", field="mentions")
    unique: dict[tuple[str, str], MentionIn] = {}
    for item in items:
        unique.setdefault((item.source, item.external_id), item)
    existing = _existing(brand, unique)
    fresh = [item for key, item in unique.items() if key not in existing]
    now = timezone.now()
    candidates: list[Mention] = []
    if fresh:
        members, links = _members_of(brand, fresh)
        parents = _existing(brand, {(i.source, i.parent_external_id) for i in fresh if i.parent_external_id})
        analyses = analyse_many([item.text for item in fresh], brand=brand)
        for position, (item, found) in enumerate(zip(fresh, analyses, strict=True)):
            influence = influence_of(
                followers=item.author_followers, shares=item.shares, engagement=item.engagement
            )
            topics = list(found.topics)
            urgent = list(found.urgent)
            parent = parents.get((item.source, item.parent_external_id))
            candidates.append(
                Mention(
                    id=uuid.uuid4(),
                    brand=brand,
                    connector=connector,
                    source=item.source,
                    external_id=item.external_id,
                    url=item.url,
                    author_handle=item.author_handle,
                    author_name=item.author_name,
                    author_followers=item.author_followers,
                    shares=item.shares,
                    engagement=item.engagement,
                    text=item.text,
                    language=item.language or found.language,
                    posted_at=item.posted_at,
                    received_at=now,
                    parent_id=parent.pk if parent else None,
                    parent_external_id=item.parent_external_id,
                    sentiment=found.sentiment,
                    score=round(float(found.score), 4),
                    topics=topics,
                    topics_text=(" " + " ".join(topics) + " ")[:500] if topics else "",
                    urgent=urgent,
                    priority=priority_of(sentiment=found.sentiment, urgent=urgent, influence=influence),
                    influence=influence,
                    member_id=members.get(position),
                )
            )
        if links:  # another batch may have learned the same handle first: the unique key keeps one
            AuthorLink.objects.bulk_create(links, ignore_conflicts=True)
    # In key order, so that overlapping batches at once wait on each other rather than deadlock.
    candidates.sort(key=lambda m: (m.source, m.external_id))
    created = rows_insert_new(Mention, candidates) if candidates else set()
    made = [mention for mention in candidates if mention.pk in created]
    lost = [mention for mention in candidates if mention.pk not in created]
    if lost:  # written meanwhile by a concurrent batch: theirs is the answer
        existing.update(_existing(brand, {(m.source, m.external_id) for m in lost}))
    if made:
        _replies_adopted(brand, made)
        if route:
            member_ids = {m.member_id for m in made if m.member_id and needs_answer(m)}
            members_by_id = (
                {m.pk: m for m in rows_in(Member, "id", sorted(member_ids), brand_id=brand.pk)}
                if member_ids
                else {}
            )
            routed = _route(brand, made, members_by_id)
            if routed:
                rows_update(Mention, routed, ["case_id"])
    if connector is not None and made:
        Connector.objects.filter(pk=connector.pk).update(total_added=F("total_added") + len(made))
    by_key = {(m.source, m.external_id): m for m in made}
    mentions = [by_key.get(key) or existing[key] for key in unique]
    return IngestResult(mentions=mentions, created={m.pk for m in made})


def _replies_adopted(brand: Brand, made: list[Mention]) -> None:
    """Replies that came before the mention they answer now point at it."""
    by_source: dict[str, list[str]] = {}
    for mention in made:
        by_source.setdefault(mention.source, []).append(mention.external_id)
    for source, external_ids in by_source.items():
        parent = Mention.objects.filter(
            brand=brand, source=source, external_id=OuterRef("parent_external_id")
        ).values("pk")[:1]
        Mention.objects.filter(
            brand=brand, source=source, parent__isnull=True, parent_external_id__in=external_ids
        ).update(parent_id=Subquery(parent))


def internal_connector(*, brand: Brand, kind: str) -> Connector:
    """The brand's connector for one of its own parts, made the first time it is asked for."""
    connector, _ = Connector.objects.get_or_create(
        brand=brand, kind=kind, defaults={"name": ConnectorKind(kind).label, "source": kind, "active": False}
    )
    return connector
