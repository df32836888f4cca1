"""Challenges: the brand asks for ideas until a date, with a prize; a jury of staff picks the winners,
who get the prize points through the loyalty ledger and the prize reward as a free coupon; audited."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from kesher.brands.models import Brand
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import Conflict, NotFound, ValidationFailed
from kesher.ideas.models import Challenge, ChallengeWinner, Idea
from kesher.ideas.services._common import clean_text
from kesher.loyalty.models import Coupon, Reward
from kesher.loyalty.services import points_adjust, reward_surprise_grant


def challenge_create(
    *,
    brand: Brand,
    title: str,
    question: str,
    starts_at: datetime,
    ends_at: datetime,
    prize_points: int = 0,
    prize_reward: Reward | None = None,
    winners_max: int = 1,
    actor: Actor,
) -> Challenge:
    title = clean_text(title, "title", max_length=200, min_length=3)
    question = clean_text(question, "question", max_length=5000)
    if ends_at <= starts_at:
        raise ValidationFailed("a challenge ends after it starts", field="ends_at")
    if not 0 <= prize_points <= 1_000_000:
        raise ValidationFailed("prize_points is between 0 and 1,000,000", field="prize_points")
    if not 1 <= winners_max <= 100:
        raise ValidationFailed("winners_max is between 1 and 100", field="winners_max")
    if prize_reward is not None and prize_reward.brand_id != brand.pk:
        raise NotFound("No such reward", code="reward_not_found", field="prize_reward_id")
    with transaction.atomic():
        challenge = Challenge.objects.create(
            brand=brand,
            title=title,
            question=question,
            starts_at=starts_at,
            ends_at=ends_at,
            prize_points=prize_points,
            prize_reward=prize_reward,
            winners_max=winners_max,
        )
        audit_record(
            brand=brand,
            actor=actor,
            action="ideas.challenge_created",
            target_type="challenge",
            target_id=challenge.pk,
            data={"title": title, "prize_points": prize_points, "ends_at": ends_at.isoformat()},
        )
    return challenge


def challenge_winners_pick(*, challenge: Challenge, ideas: list[Idea], actor: Actor) -> list[ChallengeWinner]:
    """The jury's choice, once the challenge has closed: each winner's author gets the prize. Refused
    (nothing changed) while the challenge is open, once it was judged, or for an idea not submitted to it."""
    if not ideas:
        raise ValidationFailed("pick at least one idea", field="idea_ids")
    with transaction.atomic():
        locked = (
            Challenge.objects.select_for_update(of=("self",))
            .select_related("brand", "prize_reward")
            .get(pk=challenge.pk)
        )
        if timezone.now() < locked.ends_at:
            raise Conflict("The challenge is still open", code="challenge_open")
        if locked.judged_at is not None:
            raise Conflict("The jury has picked this challenge's winners", code="challenge_judged")
        if len({idea.pk for idea in ideas}) != len(ideas) or len(ideas) > locked.winners_max:
            raise ValidationFailed(f"pick up to {locked.winners_max} different ideas", field="idea_ids")
        for idea in ideas:
            if idea.challenge_id != locked.pk or idea.brand_id != locked.brand_id:
                raise NotFound("That idea was not submitted to this challenge", code="idea_not_found")
            if idea.author is None:
                raise Conflict("That idea's author is no longer a member", code="author_gone")
        winners = []
        for idea in ideas:
            member = idea.author
            assert member is not None
            reason = f"Challenge prize: {locked.title}"
            if locked.prize_points:
                points_adjust(member=member, points=locked.prize_points, reason=reason, actor=actor)
            coupon = None
            if locked.prize_reward is not None:
                reward = locked.prize_reward
                given = reward_surprise_grant(
                    brand=locked.brand,
                    members=[member],
                    reward=reward,
                    reason=reason,
                    budget=reward.cost_points,
                    actor=actor,
                )
                if given:
                    coupon = (
                        Coupon.objects.filter(member=member, reward=reward).order_by("-issued_at").first()
                    )
            winners.append(
                ChallengeWinner.objects.create(
                    brand_id=locked.brand_id,
                    challenge=locked,
                    idea=idea,
                    member=member,
                    points=locked.prize_points,
                    coupon=coupon,
                    picked_by=actor.user,  # type: ignore[misc]
                )
            )
        locked.judged_at = timezone.now()
        locked.save(update_fields=["judged_at"])
        audit_record(
            brand=locked.brand,
            actor=actor,
            action="ideas.challenge_judged",
            target_type="challenge",
            target_id=locked.pk,
            data={
                "ideas": [str(idea.pk) for idea in ideas],
                "prize_points": locked.prize_points,
                "prize_reward": str(locked.prize_reward_id or ""),
            },
        )
    return winners
