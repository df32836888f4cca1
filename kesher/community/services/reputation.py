"""Reputation (standing, not redeemable) given and taken back per event, the brand's rules, and badges."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from kesher.brands.models import Brand
from kesher.community.models import Badge, CommunityProfile, Post, ReputationEvent, ReputationRule
from kesher.community.services.defaults import DEFAULT_REPUTATION, community_settings, profile_of
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import ValidationFailed
from kesher.members.models import Member

# Events the daily cap does not limit: an accepted answer always counts in full, losses always apply.
UNCAPPED_EVENTS = frozenset({"answer_accepted", "accepting_answer", "post_downvoted", "spam_removed"})

BADGES: dict[str, str] = {
    "first_answer": gettext_noop("First answer"),
    "first_accepted": gettext_noop("First accepted answer"),
    "ten_accepted": gettext_noop("10 accepted answers"),
    "good_question": gettext_noop("Good question"),
    "popular_question": gettext_noop("Popular question"),
    "helpful_month": gettext_noop("Helpful member of the month"),
}

GOOD_QUESTION_SCORE = 10

POPULAR_QUESTION_VIEWS = 1000


def _rule_points(brand_id: Any, event: str) -> int:
    rule = ReputationRule.objects.filter(brand_id=brand_id, event=event).first()
    return rule.points if rule is not None else DEFAULT_REPUTATION[event]


def reputation_give(
    *, member: Member, event: str, post: Post | None, source_key: str
) -> ReputationEvent | None:
    """Give the brand's points for an event, within the daily cap; the event row records what was given."""
    profile = CommunityProfile.objects.select_for_update().get(pk=profile_of(member).pk)
    points = _rule_points(member.brand_id, event)
    capped = event not in UNCAPPED_EVENTS
    day = timezone.localdate()
    if capped and points > 0:
        cap = community_settings(member.brand).reputation_daily_cap
        used = (
            ReputationEvent.objects.filter(member=member, day=day, counts_against_cap=True).aggregate(
                total=Sum("points")
            )["total"]
            or 0
        )
        points = max(0, min(points, cap - used))
    reputation_event = ReputationEvent.objects.create(
        brand_id=member.brand_id,
        member=member,
        event=event,
        points=points,
        post=post,
        source_key=source_key,
        counts_against_cap=capped,
        day=day,
    )
    CommunityProfile.objects.filter(pk=profile.pk).update(reputation=F("reputation") + points)
    return reputation_event


def reputation_take_back(*, member: Member, source_key: str) -> ReputationEvent | None:
    """Undo exactly what an earlier event gave (a vote withdrawn, an acceptance moved)."""
    CommunityProfile.objects.select_for_update().get(pk=profile_of(member).pk)
    original = (
        ReputationEvent.objects.filter(
            member=member, source_key=source_key, reverses__isnull=True, reversed_by__isnull=True
        )
        .order_by("-id")
        .first()
    )
    if original is None:
        return None
    reversal = ReputationEvent.objects.create(
        brand_id=member.brand_id,
        member=member,
        event=original.event,
        points=-original.points,
        post=original.post,
        source_key=source_key,
        reverses=original,
        counts_against_cap=original.counts_against_cap,
        day=original.day,  # freeing the cap of the day it was used
    )
    CommunityProfile.objects.filter(member=member).update(reputation=F("reputation") - original.points)
    return reversal


@transaction.atomic
def reputation_rule_set(*, brand: Brand, event: str, points: int, actor: Actor = SYSTEM) -> ReputationRule:
    if event not in DEFAULT_REPUTATION:
        raise ValidationFailed(f"event must be one of {', '.join(DEFAULT_REPUTATION)}", field="event")
    rule, _created = ReputationRule.objects.update_or_create(
        brand=brand, event=event, defaults={"points": points}
    )
    audit_record(
        brand=brand,
        actor=actor,
        action="community.reputation_rule.set",
        target_type="reputation_rule",
        target_id=rule.pk,
        data={"event": event, "points": points},
    )
    return rule


def badge_give(member: Member, code: str, awarded_for: str = "") -> bool:
    """Award a badge if the member has not got it (for this post or month) and qualifies."""
    if Badge.objects.filter(member=member, code=code, awarded_for=awarded_for).exists():
        return False
    if code == "first_answer":
        qualifies = Post.objects.filter(author=member, kind=Post.Kind.ANSWER, status="published").exists()
    elif code == "first_accepted":
        qualifies = Post.objects.filter(author=member, accepted_for__isnull=False).exists()
    elif code == "ten_accepted":
        qualifies = Post.objects.filter(author=member, accepted_for__isnull=False).count() >= 10
    else:
        qualifies = True
    if not qualifies:
        return False
    try:
        with transaction.atomic():
            Badge.objects.create(brand_id=member.brand_id, member=member, code=code, awarded_for=awarded_for)
    except IntegrityError:
        return False
    return True


def badges_helpful_month(*, brand: Brand, month: datetime) -> Member | None:
    """The member with the most accepted answers in a month gets "helpful member of the month"."""
    start = month.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    best = (
        Post.objects.filter(
            brand=brand,
            kind=Post.Kind.ANSWER,
            author__isnull=False,
            accepted_for__accepted_at__gte=start,
            accepted_for__accepted_at__lt=end,
        )
        .values("author")
        .annotate(total=Count("pk"))
        .order_by("-total", "author")
        .first()
    )
    if best is None:
        return None
    member = Member.objects.get(pk=best["author"])
    badge_give(member, "helpful_month", start.strftime("%Y-%m"))
    return member
