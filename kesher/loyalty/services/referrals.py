"""Referrals: a friend joins with a member's code, their first purchase pays both, staff decide doubts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.activity.services import activity_record
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import Conflict
from kesher.core.tasks import enqueue
from kesher.loyalty.models import Referral
from kesher.loyalty.services.program import program_of
from kesher.members.models import Member


def referral_on_purchase_batch(activities: list[Activity]) -> None:
    for activity in activities:
        if activity.type == "purchase" and activity.member.referred_by_id is not None:
            referral_on_purchase(activity)


def referral_on_signup(activity: Activity) -> None:
    """Immediate consumer of `signup`: link the friend to their referrer and note anything suspect."""
    friend = activity.member
    referrer = friend.referred_by
    if referrer is None or Referral.objects.filter(friend=friend).exists():
        return
    suspicions: list[str] = []
    if referrer.pk == friend.pk:
        suspicions.append("self_referral")
    if (friend.email and friend.email == referrer.email) or (friend.phone and friend.phone == referrer.phone):
        suspicions.append("same_contact_as_referrer")
    shared = Member.objects.filter(brand_id=friend.brand_id).exclude(pk=friend.pk)
    contact = Q()
    if friend.phone:
        contact |= Q(phone=friend.phone)
    if friend.email:
        local, _, domain = friend.email.partition("@")
        contact |= Q(email__iexact=f"{local.split('+')[0]}@{domain}")
    if contact and shared.filter(contact).exclude(pk=referrer.pk).exists():
        suspicions.append("contact_used_by_another_member")
    recent = Referral.objects.filter(
        referrer=referrer, created_at__gte=timezone.now() - timedelta(days=1)
    ).count()
    if recent >= program_of(friend.brand_id).referral_review_threshold:
        suspicions.append("many_referrals_in_a_day")
    Referral.objects.create(brand_id=friend.brand_id, referrer=referrer, friend=friend, suspicions=suspicions)


def referral_on_purchase(activity: Activity) -> None:
    """Immediate consumer of `purchase`: the friend's first purchase pays both sides (or waits for review)."""
    if activity.member.referred_by_id is None:
        return
    referral = (
        Referral.objects.select_for_update()
        .filter(friend_id=activity.member_id, status=Referral.Status.JOINED)
        .first()
    )
    if referral is None:
        return
    earlier = Activity.objects.filter(member_id=activity.member_id, type="purchase").exclude(pk=activity.pk)
    if earlier.exists():
        referral.suspicions = [*referral.suspicions, "not_the_first_purchase"]
    referral.purchase = activity
    if referral.suspicions:
        referral.status = Referral.Status.REVIEW
        referral.save(update_fields=["status", "suspicions", "purchase"])
        return
    referral.save(update_fields=["purchase"])
    transaction.on_commit(lambda: _pay_referral_later(referral.pk))


def _pay_referral_later(referral_id: Any) -> None:
    # By name: the task module wraps this one, so importing it here would close a circle.
    enqueue("kesher.loyalty.tasks.referral_pay", str(referral_id))


def referral_pay(*, referral_id: Any) -> bool:
    """Reward both sides through `referral` activities (the brand's rules decide the points). Safe twice."""
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update()
            .select_related("brand", "referrer", "friend")
            .get(pk=referral_id)
        )
        if (
            referral.status not in (Referral.Status.JOINED, Referral.Status.REVIEW)
            or referral.purchase_id is None
        ):
            return False
        for side, member in (("referrer", referral.referrer), ("friend", referral.friend)):
            activity_record(
                brand=referral.brand,
                member=member,
                type="referral",
                source="loyalty",
                external_id=f"referral:{referral.pk}:{side}",
                attributes={"referred_member_id": str(referral.friend_id), "side": side},
            )
        referral.status = Referral.Status.REWARDED
        referral.decided_at = timezone.now()
        referral.save(update_fields=["status", "decided_at"])
    return True


@transaction.atomic
def referral_decide(*, referral: Referral, approve: bool, actor: Actor) -> Referral:
    """Staff decide a suspect referral: approve pays both sides, reject closes it. Audited."""
    if referral.status != Referral.Status.REVIEW:
        raise Conflict(f"This referral is {referral.status}, not waiting for review", code="not_in_review")
    audit_record(
        brand=referral.brand,
        actor=actor,
        action="referral.approve" if approve else "referral.reject",
        target_type="referral",
        target_id=referral.pk,
        data={"suspicions": referral.suspicions},
    )
    if approve:
        referral_pay(referral_id=referral.pk)
    else:
        Referral.objects.filter(pk=referral.pk).update(
            status=Referral.Status.REJECTED, decided_at=timezone.now()
        )
    referral.refresh_from_db()
    return referral
