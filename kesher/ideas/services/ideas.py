"""Ideas: submitted, supported (once per member, whatever the race), commented, moved up the stages,
expired when a deadline passes, given a status by the brand, hidden or restored by a moderator."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from kesher.activity.services import activity_record
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import Conflict, NotFound, ValidationFailed
from kesher.core.markup import render_markdown
from kesher.ideas.models import Challenge, Idea, IdeaComment, IdeaNotice, IdeaStatus, IdeaSupport
from kesher.ideas.services._common import (
    ACTIVITY_SOURCE,
    check_member,
    clean_text,
    notify_followers,
    settings_of,
    status_of_kind,
)
from kesher.members.models import Member


def challenge_is_open(challenge: Challenge, now: datetime) -> bool:
    return challenge.starts_at <= now < challenge.ends_at and challenge.judged_at is None


def idea_submit(*, member: Member, title: str, body: str, challenge: Challenge | None = None) -> Idea:
    """A member submits an idea (to a challenge while it is open); its first stage's clock starts."""
    check_member(member)
    title = clean_text(title, "title", max_length=200, min_length=5)
    body = clean_text(body, "body", max_length=20_000)
    now = timezone.now()
    with transaction.atomic():
        if challenge is not None:
            if challenge.brand_id != member.brand_id:
                raise NotFound("No such challenge", code="challenge_not_found", field="challenge")
            locked = Challenge.objects.select_for_update().get(pk=challenge.pk)
            if not challenge_is_open(locked, now):
                raise Conflict("The challenge takes no ideas now", code="challenge_closed", field="challenge")
        stages = settings_of(member.brand).stages
        idea = Idea.objects.create(
            brand_id=member.brand_id,
            challenge=challenge,
            author=member,
            title=title,
            body=body,
            body_html=render_markdown(body),
            status=status_of_kind(member.brand, IdeaStatus.Kind.OPEN),
            stage=1,
            phase=Idea.Phase.GATHERING if stages else Idea.Phase.REVIEW,
            stage_deadline=now + timedelta(days=stages[0]["days"]) if stages else None,
            created_at=now,
        )
        activity_record(
            brand=member.brand,
            member=member,
            type="idea_submitted",
            attributes={"idea_id": str(idea.pk)},
            source=ACTIVITY_SOURCE,
            idempotency_key=f"idea_submitted:{idea.pk}",
        )
    return idea


def _expire_locked(idea: Idea, now: datetime) -> bool:
    """Expire a locked idea whose deadline has passed (and tell its supporters). True when it expired."""
    if idea.phase != Idea.Phase.GATHERING or idea.stage_deadline is None or idea.stage_deadline > now:
        return False
    idea.phase = Idea.Phase.EXPIRED
    idea.expired_at = now
    idea.save(update_fields=["phase", "expired_at"])
    notify_followers(idea=idea, kind=IdeaNotice.Kind.EXPIRED, stage=idea.stage)
    return True


def idea_expire_if_due(*, idea: Idea, now: datetime | None = None) -> Idea:
    """Checked lazily on every read and write: an idea past its deadline expires now."""
    now = now or timezone.now()
    if idea.phase != Idea.Phase.GATHERING or idea.stage_deadline is None or idea.stage_deadline > now:
        return idea
    with transaction.atomic():
        locked = Idea.objects.select_for_update().select_related("status").get(pk=idea.pk)
        _expire_locked(locked, now)
    return locked


def ideas_expire_due(*, now: datetime | None = None, limit: int = 1000) -> int:
    """The daily sweep: every idea past its stage deadline expires. Returns how many did."""
    now = now or timezone.now()
    due = list(
        Idea.objects.filter(phase=Idea.Phase.GATHERING, stage_deadline__lte=now)
        .order_by("stage_deadline")
        .values_list("pk", flat=True)[:limit]
    )
    expired = 0
    for pk in due:
        with transaction.atomic():
            locked = Idea.objects.select_for_update().select_related("status").get(pk=pk)
            expired += _expire_locked(locked, now)
    return expired


def _advance(idea: Idea, now: datetime) -> list[int]:
    """Move a locked idea up every stage its supporters reached; past the last one, to review."""
    stages = settings_of(idea.brand).stages
    reached = []
    while idea.phase == Idea.Phase.GATHERING and idea.stage <= len(stages):
        if idea.supporters < stages[idea.stage - 1]["threshold"]:
            break
        reached.append(idea.stage)
        idea.stage += 1
        if idea.stage > len(stages):
            idea.phase = Idea.Phase.REVIEW
            idea.stage_deadline = None
            if idea.status.kind == IdeaStatus.Kind.OPEN:
                idea.status = status_of_kind(idea.brand, IdeaStatus.Kind.REVIEW)
                idea.status_changed_at = now
        else:
            idea.stage_deadline = now + timedelta(days=stages[idea.stage - 1]["days"])
    return reached


def idea_support(*, idea: Idea, member: Member) -> tuple[Idea, bool]:
    """The member supports the idea, once. Returns (the idea, whether this call added the support).

    The idea's row is locked first, so concurrent supports of one idea take turns; the unique
    (idea, member) pair refuses a second row all the same."""
    check_member(member)
    if idea.brand_id != member.brand_id:
        raise NotFound("No such idea", code="idea_not_found")
    now = timezone.now()
    with transaction.atomic():
        locked = Idea.objects.select_for_update().select_related("status", "brand").get(pk=idea.pk)
        if locked.visibility != Idea.Visibility.PUBLISHED:
            raise NotFound("No such idea", code="idea_not_found")
        # An expiry that was due stands (it commits) although the support is then refused.
        expired = _expire_locked(locked, now) or locked.phase == Idea.Phase.EXPIRED
        if not expired:
            if locked.author_id == member.pk:
                raise Conflict("An idea's author cannot support it", code="own_idea")
            if locked.status.kind == IdeaStatus.Kind.DECLINED:
                raise Conflict("The brand declined this idea", code="idea_declined")
            try:
                with transaction.atomic():
                    IdeaSupport.objects.create(brand_id=locked.brand_id, idea=locked, member=member)
            except IntegrityError:
                return locked, False
            Idea.objects.filter(pk=locked.pk).update(supporters=F("supporters") + 1)
            locked.supporters += 1
            reached = _advance(locked, now)
            if reached:
                locked.save(update_fields=["stage", "phase", "stage_deadline", "status", "status_changed_at"])
                for stage in reached:
                    notify_followers(idea=locked, kind=IdeaNotice.Kind.STAGE, stage=stage)
            activity_record(
                brand=locked.brand,
                member=member,
                type="idea_supported",
                attributes={"idea_id": str(locked.pk)},
                source=ACTIVITY_SOURCE,
                idempotency_key=f"idea_supported:{locked.pk}:{member.pk}",
            )
            return locked, True
    raise Conflict("The idea expired before it reached its stage", code="idea_expired")


def idea_comment(
    *, idea: Idea, body: str, member: Member | None = None, actor: Actor | None = None
) -> IdeaComment:
    """A member comments (or, with `actor` and no member, the brand answers)."""
    body = clean_text(body, "body", max_length=5000)
    if member is not None:
        check_member(member)
        if member.brand_id != idea.brand_id:
            raise NotFound("No such idea", code="idea_not_found")
    elif actor is None:
        raise ValidationFailed("member_id is required", field="member_id")
    with transaction.atomic():
        comment = IdeaComment.objects.create(
            brand_id=idea.brand_id,
            idea=idea,
            author=member,
            by_brand=member is None,
            staff_user=actor.user if member is None and actor is not None else None,  # type: ignore[misc]
            body=body,
            body_html=render_markdown(body),
        )
        Idea.objects.filter(pk=idea.pk).update(comment_count=F("comment_count") + 1)
        if member is None and actor is not None:
            audit_record(
                brand=idea.brand,
                actor=actor,
                action="ideas.comment_as_brand",
                target_type="idea",
                target_id=idea.pk,
                data={"comment_id": str(comment.pk)},
            )
    return comment


def idea_status_set(*, idea: Idea, status: IdeaStatus, reason: str, actor: Actor) -> Idea:
    """Staff give an idea a status (declining needs a reason); audited; supporters hear of it."""
    if status.brand_id != idea.brand_id:
        raise NotFound("No such status", code="status_not_found", field="status")
    reason = reason.strip()
    if len(reason) > 500:
        raise ValidationFailed("reason is longer than 500 characters", field="reason")
    if status.kind == IdeaStatus.Kind.DECLINED and not reason:
        raise ValidationFailed("declining an idea needs a reason", field="reason")
    with transaction.atomic():
        locked = Idea.objects.select_for_update().select_related("status", "brand").get(pk=idea.pk)
        if locked.status_id == status.pk:
            raise Conflict("The idea has that status already", code="status_unchanged", field="status")
        before = locked.status.code
        locked.status = status
        locked.status_reason = reason
        locked.status_changed_at = timezone.now()
        locked.save(update_fields=["status", "status_reason", "status_changed_at"])
        audit_record(
            brand=locked.brand,
            actor=actor,
            action="ideas.status_set",
            target_type="idea",
            target_id=locked.pk,
            data={"from": before, "to": status.code, "reason": reason},
        )
        notify_followers(idea=locked, kind=IdeaNotice.Kind.STATUS, status=status, reason=reason)
    return locked


def idea_moderate(*, idea: Idea, action: str, reason: str, actor: Actor) -> Idea:
    """A moderator hides an idea from the board, or restores it; audited."""
    if action not in ("hide", "restore"):
        raise ValidationFailed("action must be hide or restore", field="action")
    target = Idea.Visibility.HIDDEN if action == "hide" else Idea.Visibility.PUBLISHED
    with transaction.atomic():
        locked = Idea.objects.select_for_update().get(pk=idea.pk)
        if locked.visibility == target:
            raise Conflict(f"The idea is {target} already", code="visibility_unchanged")
        locked.visibility = target
        locked.save(update_fields=["visibility"])
        audit_record(
            brand=idea.brand,
            actor=actor,
            action=f"ideas.{action}",
            target_type="idea",
            target_id=idea.pk,
            data={"reason": reason.strip()[:300]},
        )
    return locked


def notices_mark_read(*, member: Member) -> int:
    return IdeaNotice.objects.filter(member=member, read_at__isnull=True).update(read_at=timezone.now())
