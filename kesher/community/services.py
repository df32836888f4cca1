"""Every write to the community: spaces, posts, votes, acceptance, reputation, badges and moderation.

Points (redeemable, the loyalty ledger) come from activities recorded here: question_asked,
answer_posted, answer_accepted. Reputation (standing, not redeemable) is a separate ledger of its own.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, override

from kesher.brands.models import Brand
from kesher.community import pagecache, textsearch
from kesher.community.access import Reader, reader_member, space_visible, visible_posts_q
from kesher.community.markup import MAX_BODY, count_links, render_markdown
from kesher.community.models import (
    Badge,
    CommunityProfile,
    CommunitySettings,
    Flag,
    Follow,
    Notification,
    PointsReversal,
    Post,
    PostRevision,
    ReputationEvent,
    ReputationRule,
    SearchDocument,
    Space,
    Tag,
    Vote,
)
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kesher.members.models import Member, MemberStatus

if TYPE_CHECKING:
    from kesher.activity.models import Activity

ACTIVITY_SOURCE = "community"

# Reputation a brand starts with, in line with the known Q&A sites; the brand may edit each number.
DEFAULT_REPUTATION: dict[str, int] = {
    "question_upvoted": 5,
    "answer_upvoted": 10,
    "answer_accepted": 15,
    "accepting_answer": 2,
    "post_downvoted": -2,
    "spam_removed": -100,
}
# Events the daily cap does not limit: an accepted answer always counts in full, losses always apply.
UNCAPPED_EVENTS = frozenset({"answer_accepted", "accepting_answer", "post_downvoted", "spam_removed"})

# The reputation each privilege needs, by default; a brand may change any of them.
DEFAULT_PRIVILEGES: dict[str, int] = {
    "vote_up": 1,
    "flag": 15,
    "post_without_review": 50,
    "vote_down": 125,
    "edit_others": 1000,
}

FLAGS_TO_HOLD = 3  # open flags from different members that take a post out of view until reviewed
VIEW_FLUSH_EVERY = 10  # counted views are written to the database in batches, not on every page view

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

TAG_PATTERN = re.compile(r"^[^\W_][\w-]{0,29}$")
MAX_TAGS = 5


# --- setup ---------------------------------------------------------------------------------------


def community_install_defaults(*, brand: Brand) -> Space:
    """A new brand's community: settings, the reputation table and a public Q&A space "general"."""
    CommunitySettings.objects.get_or_create(brand=brand, defaults={"privileges": dict(DEFAULT_PRIVILEGES)})
    for event, points in DEFAULT_REPUTATION.items():
        ReputationRule.objects.get_or_create(brand=brand, event=event, defaults={"points": points})
    with override(brand.default_locale):
        name = _("General")
        description = _("Questions and answers about everything")
    space, _created = Space.objects.get_or_create(
        brand=brand,
        slug="general",
        defaults={"name": name, "description": description, "kind": "qa", "visibility": "public"},
    )
    return space


def community_settings(brand: Brand) -> CommunitySettings:
    found, _created = CommunitySettings.objects.get_or_create(
        brand=brand, defaults={"privileges": dict(DEFAULT_PRIVILEGES)}
    )
    return found


def privilege_threshold(brand: Brand, privilege: str) -> int:
    return int(community_settings(brand).privileges.get(privilege, DEFAULT_PRIVILEGES[privilege]))


def profile_of(member: Member) -> CommunityProfile:
    profile, _created = CommunityProfile.objects.get_or_create(
        member=member, defaults={"brand_id": member.brand_id}
    )
    return profile


def has_privilege(member: Member, privilege: str) -> bool:
    return profile_of(member).reputation >= privilege_threshold(member.brand, privilege)


def _require_privilege(member: Member, privilege: str) -> None:
    needed = privilege_threshold(member.brand, privilege)
    if profile_of(member).reputation < needed:
        raise PermissionDenied(
            f"This needs {needed} reputation ({privilege})", code="reputation_too_low", field="member_id"
        )


# --- spaces --------------------------------------------------------------------------------------


@transaction.atomic
def space_create(
    *,
    brand: Brand,
    slug: str,
    name: str,
    kind: str = Space.Kind.QA,
    visibility: str = Space.Visibility.PUBLIC,
    tiers: list[str] | None = None,
    description: str = "",
    actor: Actor = SYSTEM,
) -> Space:
    slug = slugify(slug, allow_unicode=True)
    if not slug:
        raise ValidationFailed("slug must have letters or digits", field="slug")
    if kind not in Space.Kind.values:
        raise ValidationFailed(f"kind must be one of {', '.join(Space.Kind.values)}", field="kind")
    if visibility not in Space.Visibility.values:
        raise ValidationFailed(
            f"visibility must be one of {', '.join(Space.Visibility.values)}", field="visibility"
        )
    clean_tiers = sorted({tier.strip() for tier in tiers or [] if tier.strip()})
    if visibility == Space.Visibility.TIERS and not clean_tiers:
        raise ValidationFailed("a tiers space needs at least one tier name", field="tiers")
    if visibility != Space.Visibility.TIERS and clean_tiers:
        raise ValidationFailed("tiers are only for visibility 'tiers'", field="tiers")
    if Space.objects.filter(brand=brand, slug=slug).exists():
        raise Conflict(f"A space with slug {slug!r} already exists", field="slug", code="duplicate_space")
    space = Space.objects.create(
        brand=brand,
        slug=slug,
        name=name.strip(),
        description=description,
        kind=kind,
        visibility=visibility,
        tiers=clean_tiers,
    )
    audit_record(
        brand=brand,
        actor=actor,
        action="community.space.create",
        target_type="space",
        target_id=space.pk,
        data={"slug": slug, "kind": kind, "visibility": visibility, "tiers": clean_tiers},
    )
    pagecache.versions_bump(brand_id=brand.pk)
    return space


# --- posting -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Author:
    """Who writes: a member, or the brand itself through a staff user or a manage-scope key."""

    member: Member | None = None
    by_brand: bool = False
    actor: Actor = SYSTEM

    @property
    def is_staff(self) -> bool:
        return self.by_brand


def _body_hash(body: str) -> str:
    return hashlib.sha256(" ".join(textsearch.words(body)).encode()).hexdigest()


def _clean_title(title: str) -> str:
    title = " ".join(title.split())
    if not 5 <= len(title) <= 200:
        raise ValidationFailed("title must be 5 to 200 characters", field="title")
    return title


def _clean_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise ValidationFailed("body must not be empty", field="body")
    if len(body) > MAX_BODY:
        raise ValidationFailed(f"body must be at most {MAX_BODY} characters", field="body")
    return body


def _clean_tags(tags: list[str]) -> list[str]:
    clean: list[str] = []
    for raw in tags:
        tag = "-".join(raw.strip().casefold().split())
        if not tag:
            continue
        if not TAG_PATTERN.match(tag):
            raise ValidationFailed(f"tag {raw!r} must be letters, digits and dashes, up to 30", field="tags")
        if tag not in clean:
            clean.append(tag)
    if len(clean) > MAX_TAGS:
        raise ValidationFailed(f"at most {MAX_TAGS} tags", field="tags")
    return clean


def _check_may_post(author: Author, brand: Brand) -> CommunityProfile | None:
    if author.by_brand:
        return None
    member = author.member
    if member is None:
        raise ValidationFailed("a post needs a member or the brand as its author", field="member_id")
    if member.brand_id != brand.pk:
        raise NotFound("No such member", code="member_not_found", field="member_id")
    if member.status not in (MemberStatus.ACTIVE, MemberStatus.PROSPECT):
        raise Conflict(f"The member is {member.status}", field="member_id", code="member_inactive")
    profile = profile_of(member)
    if profile.suspended_until is not None and profile.suspended_until > timezone.now():
        raise PermissionDenied("The member is suspended from the community", code="member_suspended")
    return profile


def _spam_reasons(
    *, brand: Brand, author: Author, profile: CommunityProfile | None, title: str, body: str, body_hash: str
) -> list[str]:
    """Checks before publishing; any reason holds the post for a moderator instead of refusing it."""
    if author.by_brand or profile is None or author.member is None:
        return []
    rules = community_settings(brand)
    reasons: list[str] = []
    banned = {textsearch.fold(word).strip() for word in rules.banned_words if word.strip()}
    if banned:
        present: set[str] = set()
        for word in textsearch.words(f"{title} {body}"):
            present.add(word)
            present.update(textsearch.forms_of(word))
        if present & banned:
            reasons.append("banned_words")
    trusted = profile.reputation >= privilege_threshold(brand, "post_without_review")
    if not trusted and count_links(body) > rules.new_member_links_per_post:
        reasons.append("too_many_links")
    repeated = Post.objects.filter(brand=brand, body_hash=body_hash).exclude(status=Post.Status.DELETED)
    if (
        repeated.filter(author=author.member).exists()
        or repeated.filter(created_at__gte=timezone.now() - timedelta(days=1)).count() >= 2
    ):
        reasons.append("repeated_text")
    pause = timedelta(seconds=rules.min_seconds_between_posts)
    last = profile.last_posted_at
    if not trusted and last is not None and timezone.now() - last < pause:
        reasons.append("too_fast")
    return reasons


def _check_daily_limit(brand: Brand, author: Author, profile: CommunityProfile | None) -> None:
    if profile is None or author.member is None:
        return
    if profile.reputation >= privilege_threshold(brand, "post_without_review"):
        return
    limit = community_settings(brand).new_member_posts_per_day
    since = timezone.now() - timedelta(days=1)
    if Post.objects.filter(author=author.member, created_at__gte=since).count() >= limit:
        raise Conflict(
            f"New members may post {limit} times a day; try again tomorrow", code="post_limit_reached"
        )


def _new_post(
    *,
    space: Space,
    kind: str,
    author: Author,
    body: str,
    title: str = "",
    question: Post | None = None,
    parent: Post | None = None,
    tags: list[str] | None = None,
) -> Post:
    profile = _check_may_post(author, space.brand)
    body = _clean_body(body)
    body_hash = _body_hash(body)
    _check_daily_limit(space.brand, author, profile)
    reasons = _spam_reasons(
        brand=space.brand, author=author, profile=profile, title=title, body=body, body_hash=body_hash
    )
    now = timezone.now()
    post = Post.objects.create(
        brand=space.brand,
        space=space,
        kind=kind,
        question=question,
        parent=parent,
        author=author.member,
        by_brand=author.by_brand,
        staff_user=author.actor.user if author.by_brand else None,  # type: ignore[misc]
        title=title,
        slug=slugify(title, allow_unicode=True)[:80] if title else "",
        body=body,
        body_html=render_markdown(body),
        body_hash=body_hash,
        status=Post.Status.HELD if reasons else Post.Status.PUBLISHED,
        hold_reasons=reasons,
        created_at=now,
        last_activity_at=now,
    )
    if tags:
        post.tags.set([Tag.objects.get_or_create(brand=space.brand, name=name)[0] for name in tags])
    PostRevision.objects.create(
        post=post,
        number=1,
        editor=author.member,
        editor_user=post.staff_user,
        title=title,
        body=body,
        tags=tags or [],
    )
    if profile is not None:
        CommunityProfile.objects.filter(pk=profile.pk).update(last_posted_at=now)
    _index(post)
    if post.status == Post.Status.PUBLISHED:
        _on_publish(post)
    pagecache.thread_changed(post)
    return post


@transaction.atomic
def question_ask(
    *, space: Space, author: Author, title: str, body: str, tags: list[str] | None = None
) -> Post:
    """Ask in a space the author may see. Spam suspicions hold the question for review."""
    if author.member is not None and not space_visible(space, reader_member(author.member)):
        raise NotFound("No such space", code="space_not_found", field="space")
    if space.kind == Space.Kind.ANNOUNCEMENTS and not author.by_brand:
        raise PermissionDenied("Only the brand posts in announcements", code="announcements_only")
    return _new_post(
        space=space, kind=Post.Kind.QUESTION, author=author, title=_clean_title(title), body=body,
        tags=_clean_tags(tags or []),
    )  # fmt: skip


def _lock_question(question: Post) -> Post:
    return Post.objects.select_for_update().get(pk=question.pk)


def _check_open(question: Post) -> None:
    if question.kind != Post.Kind.QUESTION:
        raise NotFound("No such question", code="question_not_found")
    if question.locked:
        raise Conflict("This question is locked", code="question_locked")
    if question.closed_at is not None:
        raise Conflict("This question is closed", code="question_closed")
    if question.status != Post.Status.PUBLISHED:
        raise Conflict("This question is not published", code="question_not_published")


@transaction.atomic
def answer_post(*, question: Post, author: Author, body: str) -> Post:
    question = _lock_question(question)
    if author.member is not None and not space_visible(question.space, reader_member(author.member)):
        raise NotFound("No such question", code="question_not_found")
    _check_open(question)
    return _new_post(space=question.space, kind=Post.Kind.ANSWER, author=author, body=body, question=question)


@transaction.atomic
def comment_post(*, parent: Post, author: Author, body: str) -> Post:
    if parent.kind == Post.Kind.COMMENT:
        raise ValidationFailed("comment on a question or an answer", field="parent")
    question = parent if parent.kind == Post.Kind.QUESTION else parent.question
    assert question is not None
    question = _lock_question(question)
    if author.member is not None and not space_visible(question.space, reader_member(author.member)):
        raise NotFound("No such post", code="post_not_found")
    if question.locked:
        raise Conflict("This question is locked", code="question_locked")
    if len(body) > 1000:
        raise ValidationFailed("a comment is at most 1000 characters", field="body")
    return _new_post(
        space=question.space,
        kind=Post.Kind.COMMENT,
        author=author,
        body=body,
        question=question,
        parent=parent,
    )


def _on_publish(post: Post) -> None:
    """Runs once, when a post first becomes public: counters, tag counts, points, badges."""
    if post.published_at is not None:
        _recount(post)
        return
    now = timezone.now()
    Post.objects.filter(pk=post.pk).update(published_at=now)
    post.published_at = now
    _recount(post)
    if post.kind == Post.Kind.QUESTION:
        post.tags.update(question_count=F("question_count") + 1)
    if post.kind == Post.Kind.ANSWER:
        answer_id = post.pk  # after commit: followers must not hear of an answer that is rolled back
        transaction.on_commit(lambda: notifications_for_new_answer(answer_id=answer_id))
    if post.author is None:
        return
    for grant in _post_grants(post, accepted=False):
        _points_grant(member=post.author, grant=grant)
    if post.kind == Post.Kind.ANSWER:
        _badge_give(post.author, "first_answer")


def _recount(post: Post) -> None:
    """Keep the question's counters and activity time right after any change in its thread."""
    question_id = post.question_id or post.pk
    pagecache.thread_changed(post)
    thread = Post.objects.filter(question_id=question_id, status=Post.Status.PUBLISHED)
    counts = thread.aggregate(
        answers=Count("pk", filter=Q(kind=Post.Kind.ANSWER)),
        comments=Count("pk", filter=Q(kind=Post.Kind.COMMENT, parent_id=question_id)),
    )
    changes: dict[str, Any] = {"answer_count": counts["answers"], "comment_count": counts["comments"]}
    if post.kind != Post.Kind.QUESTION and post.status == Post.Status.PUBLISHED:
        changes["last_activity_at"] = timezone.now()
    Post.objects.filter(pk=question_id).update(**changes)
    if post.kind == Post.Kind.ANSWER:
        Post.objects.filter(pk=post.pk).update(
            comment_count=Post.objects.filter(parent=post, status=Post.Status.PUBLISHED).count()
        )


def _index(post: Post) -> None:
    """Write the post's search document (questions and answers; comments are not searched)."""
    if post.kind == Post.Kind.COMMENT:
        return
    question = post if post.kind == Post.Kind.QUESTION else post.question
    assert question is not None
    text = textsearch.index_text(
        title=post.title,
        tags=list(post.tags.values_list("name", flat=True)) if post.kind == Post.Kind.QUESTION else [],
        body=post.body,
    )
    visible = post.status == Post.Status.PUBLISHED and question.status == Post.Status.PUBLISHED
    SearchDocument.objects.update_or_create(
        post=post,
        defaults={
            "brand_id": post.brand_id,
            "space_id": post.space_id,
            "question_id": question.pk,
            "visible": visible,
            "head": text.head,
            "body": text.body,
            "exact": text.exact,
        },
    )
    if post.kind == Post.Kind.QUESTION:
        # The thread's answers are found only while their question may be seen.
        answers = SearchDocument.objects.filter(question=post).exclude(post=post)
        answers.filter(post__status=Post.Status.PUBLISHED).exclude(visible=visible).update(visible=visible)


# --- points: given for community activities, taken back when what earned them goes away -----------


@dataclass(frozen=True)
class Grant:
    """What one community activity is: its type, attributes, and its key without the round."""

    key: str
    type: str
    attributes: dict[str, str]


def _accepted_grant(answer: Post) -> Grant:
    return Grant(
        key=f"answer_accepted:{answer.pk}",
        type="answer_accepted",
        attributes={"answer_id": str(answer.pk), "question_id": str(answer.question_id)},
    )


def _post_grants(post: Post, *, accepted: bool) -> list[Grant]:
    """The activities a post earns by being published (and, with `accepted`, by being accepted)."""
    if post.kind == Post.Kind.QUESTION:
        return [
            Grant(
                key=f"question_asked:{post.pk}",
                type="question_asked",
                attributes={"question_id": str(post.pk), "space": post.space.slug},
            )
        ]
    if post.kind != Post.Kind.ANSWER:
        return []
    grants = [
        Grant(
            key=f"answer_posted:{post.pk}",
            type="answer_posted",
            attributes={"answer_id": str(post.pk), "question_id": str(post.question_id)},
        )
    ]
    if accepted and Post.objects.filter(accepted_answer=post).exclude(author_id=post.author_id).exists():
        grants.append(_accepted_grant(post))
    return grants


def _round_key(member: Member, grant: Grant) -> str:
    """The idempotency key of the grant's current round: the base key, then base:2, base:3 after reversals."""
    rounds = PointsReversal.objects.filter(member=member, grant_key=grant.key).count()
    return grant.key if rounds == 0 else f"{grant.key}:{rounds + 1}"


def _points_grant(*, member: Member, grant: Grant) -> Activity:
    from kesher.activity.services import activity_record

    activity, _ = activity_record(
        brand=member.brand,
        member=member,
        type=grant.type,
        attributes=grant.attributes,
        source=ACTIVITY_SOURCE,
        idempotency_key=_round_key(member, grant),
    )
    return activity


def points_take_back(
    *, member: Member, grant: Grant, post: Post | None, reason: str, actor: Actor = SYSTEM
) -> PointsReversal | None:
    """Take back what the grant's current round gave (once), lot by lot through the loyalty ledger's
    `points_reverse_for_activity`; `lifetime_earned` falls with it.

    Points already spent are not driven below zero (unless the brand allows debt): what can be taken is
    taken and recorded exactly, and a restore gives back exactly that.
    """
    from kesher.activity.models import Activity
    from kesher.loyalty.services import points_reverse_for_activity

    activity = Activity.objects.filter(
        brand_id=member.brand_id,
        member=member,
        source=ACTIVITY_SOURCE,
        idempotency_key=_round_key(member, grant),
    ).first()
    if activity is None:
        return None
    entry = points_reverse_for_activity(activity=activity, reason=REVERSAL_REASONS[reason], actor=actor)
    return PointsReversal.objects.create(
        brand_id=member.brand_id,
        member=member,
        activity=activity,
        grant_key=grant.key,
        post=post,
        reason=reason,
        points=-entry.points if entry is not None else 0,
        ledger_entry=entry,
    )


def points_give_back(*, member: Member, grant: Grant, reason: str) -> bool:
    """After a reversal for `reason` is undone (a post restored), the grant is given again as a new round."""
    from kesher.activity.models import Activity

    latest = PointsReversal.objects.filter(member=member, grant_key=grant.key).order_by("-id").first()
    if latest is None or latest.reason != reason:
        return False
    if Activity.objects.filter(
        brand_id=member.brand_id, source=ACTIVITY_SOURCE, idempotency_key=_round_key(member, grant)
    ).exists():
        return False
    _points_grant_again(member=member, grant=grant)
    return True


def _points_grant_again(*, member: Member, grant: Grant) -> None:
    """Give a grant (again): after a reversal the member ends with exactly what the reversal took back.
    Where it took less than the new round earns (the points had been spent, and the member kept them),
    the difference is taken back from the new round's own lots at once, so one acceptance or one post
    never pays twice."""
    from kesher.loyalty.services import points_reverse_for_activity

    latest = PointsReversal.objects.filter(member=member, grant_key=grant.key).order_by("-id").first()
    again = _points_grant(member=member, grant=grant)
    if latest is None or latest.activity_id == again.pk:
        return
    surplus = again.points_awarded - latest.points
    if surplus > 0:
        points_reverse_for_activity(activity=again, reason=SPENT_BEFORE_REASON, points=surplus)


SPENT_BEFORE_REASON = gettext_noop("Points spent before they were taken back are not given twice")

REVERSAL_REASONS: dict[str, str] = {
    PointsReversal.Reason.ACCEPTANCE_MOVED: gettext_noop("An accepted answer is no longer the accepted one"),
    PointsReversal.Reason.SPAM: gettext_noop("A community post removed as spam"),
}


# --- editing -------------------------------------------------------------------------------------


@transaction.atomic
def post_edit(
    *,
    post: Post,
    editor: Author,
    body: str | None = None,
    title: str | None = None,
    tags: list[str] | None = None,
    comment: str = "",
) -> Post:
    """Change a post and keep the earlier version. The author, staff, or members trusted to edit."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.status == Post.Status.DELETED:
        raise NotFound("No such post", code="post_not_found")
    if not editor.by_brand:
        if editor.member is None:
            raise ValidationFailed("an edit needs an editor", field="member_id")
        if editor.member.pk != post.author_id:
            _require_privilege(editor.member, "edit_others")
        if post.locked or (post.question is not None and post.question.locked):
            raise Conflict("This question is locked", code="question_locked")
    new_title = _clean_title(title) if title is not None and post.kind == Post.Kind.QUESTION else post.title
    new_body = _clean_body(body) if body is not None else post.body
    current_tags = list(post.tags.values_list("name", flat=True))
    new_tags = _clean_tags(tags) if tags is not None and post.kind == Post.Kind.QUESTION else current_tags
    if new_title == post.title and new_body == post.body and new_tags == current_tags:
        return post
    number = post.edit_count + 2  # the original is revision 1
    PostRevision.objects.create(
        post=post,
        number=number,
        editor=editor.member,
        editor_user=editor.actor.user,  # type: ignore[misc]
        title=new_title,
        body=new_body,
        tags=new_tags,
        comment=comment[:300],
    )
    if new_tags != current_tags:
        if post.published_at is not None:
            Tag.objects.filter(brand=post.brand, name__in=set(current_tags) - set(new_tags)).update(
                question_count=F("question_count") - 1
            )
        tag_rows = [Tag.objects.get_or_create(brand=post.brand, name=name)[0] for name in new_tags]
        post.tags.set(tag_rows)
        if post.published_at is not None:
            Tag.objects.filter(pk__in=[t.pk for t in tag_rows if t.name not in current_tags]).update(
                question_count=F("question_count") + 1
            )
    now = timezone.now()
    post.title = new_title
    post.slug = slugify(new_title, allow_unicode=True)[:80] if new_title else ""
    post.body = new_body
    post.body_html = render_markdown(new_body)
    post.body_hash = _body_hash(new_body)
    post.edited_at = now
    post.edit_count = F("edit_count") + 1  # type: ignore[assignment]
    post.save(update_fields=["title", "slug", "body", "body_html", "body_hash", "edited_at", "edit_count"])
    post.refresh_from_db()
    _index(post)
    if editor.by_brand:
        audit_record(
            brand=post.brand,
            actor=editor.actor,
            action="community.post.edit",
            target_type="post",
            target_id=post.pk,
            data={"revision": number, "comment": comment[:300]},
        )
    pagecache.thread_changed(post)
    return post


# --- reputation and badges -----------------------------------------------------------------------


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


def _badge_give(member: Member, code: str, awarded_for: str = "") -> bool:
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
    _badge_give(member, "helpful_month", start.strftime("%Y-%m"))
    return member


# --- votes ---------------------------------------------------------------------------------------


@transaction.atomic
def vote_cast(*, post: Post, member: Member, value: int) -> Post:
    """One vote per member per post, never on one's own; +1, -1, or 0 to take it back."""
    if value not in (-1, 0, 1):
        raise ValidationFailed("value must be 1, -1 or 0", field="value")
    if post.brand_id != member.brand_id or not space_visible(post.space, reader_member(member)):
        raise NotFound("No such post", code="post_not_found")
    if post.kind == Post.Kind.COMMENT:
        raise ValidationFailed("comments are not voted on", field="post")
    if post.status != Post.Status.PUBLISHED:
        raise Conflict("This post is not published", code="post_not_published")
    if post.author_id == member.pk:
        raise PermissionDenied("Nobody votes on their own post", code="own_post")
    _check_may_post(Author(member=member), post.brand)
    if value == 1:
        _require_privilege(member, "vote_up")
    elif value == -1:
        _require_privilege(member, "vote_down")
    locked = Post.objects.select_for_update().get(pk=post.pk)
    existing = Vote.objects.filter(post=locked, member=member).first()
    old = existing.value if existing is not None else 0
    if old == value:
        return locked
    source_key = f"vote:{post.pk}:{member.pk}"
    author = locked.author
    if author is not None and old != 0:
        reputation_take_back(member=author, source_key=source_key)
    if value == 0:
        assert existing is not None
        existing.delete()
    elif existing is not None:
        existing.value = value
        existing.save(update_fields=["value", "updated_at"])
    else:
        Vote.objects.create(brand_id=post.brand_id, post=locked, member=member, value=value)
    Post.objects.filter(pk=locked.pk).update(
        score=F("score") + (value - old),
        upvotes=F("upvotes") + int(value == 1) - int(old == 1),
        downvotes=F("downvotes") + int(value == -1) - int(old == -1),
    )
    if author is not None and value != 0:
        event = "post_downvoted" if value == -1 else f"{locked.kind}_upvoted"
        reputation_give(member=author, event=event, post=locked, source_key=source_key)
    locked.refresh_from_db()
    if author is not None and locked.kind == Post.Kind.QUESTION and locked.score >= GOOD_QUESTION_SCORE:
        _badge_give(author, "good_question", str(locked.pk))
    pagecache.thread_changed(locked)
    return locked


# --- accepting an answer -------------------------------------------------------------------------


def _accept_effects_undo(question: Post, answer: Post) -> None:
    if answer.author is not None:
        reputation_take_back(member=answer.author, source_key=f"accepted:{question.pk}")
        points_take_back(
            member=answer.author,
            grant=_accepted_grant(answer),
            post=answer,
            reason=PointsReversal.Reason.ACCEPTANCE_MOVED,
        )
    if question.author is not None:
        reputation_take_back(member=question.author, source_key=f"accepting:{question.pk}")


@transaction.atomic
def answer_accept(*, answer: Post, member: Member | None = None, staff: Actor | None = None) -> Post:
    """The asker (or staff) marks one answer as the accepted one; accepting another moves the mark."""
    if answer.kind != Post.Kind.ANSWER or answer.question is None:
        raise NotFound("No such answer", code="answer_not_found")
    question = _lock_question(answer.question)
    if staff is None:
        if member is None or question.author_id != member.pk:
            raise PermissionDenied("Only the asker or staff accept an answer", code="not_the_asker")
        _check_may_post(Author(member=member), question.brand)
    if answer.status != Post.Status.PUBLISHED or question.status != Post.Status.PUBLISHED:
        raise Conflict("Only a published answer can be accepted", code="post_not_published")
    if question.locked:
        raise Conflict("This question is locked", code="question_locked")
    if question.accepted_answer_id == answer.pk:
        return question
    if question.accepted_answer is not None:
        _accept_effects_undo(question, question.accepted_answer)
    now = timezone.now()
    Post.objects.filter(pk=question.pk).update(accepted_answer=answer, accepted_at=now, last_activity_at=now)
    question.refresh_from_db()
    accepted_id = answer.pk
    transaction.on_commit(lambda: notifications_for_accepted(answer_id=accepted_id))
    self_answer = answer.author_id is not None and answer.author_id == question.author_id
    if answer.author is not None and not self_answer:
        reputation_give(
            member=answer.author, event="answer_accepted", post=answer, source_key=f"accepted:{question.pk}"
        )
        if staff is None and question.author is not None:
            reputation_give(
                member=question.author,
                event="accepting_answer",
                post=question,
                source_key=f"accepting:{question.pk}",
            )
        # Keyed by the answer and the round: points moved away and back are given again, never twice.
        _points_grant_again(member=answer.author, grant=_accepted_grant(answer))
        _badge_give(answer.author, "first_accepted")
        _badge_give(answer.author, "ten_accepted")
    if staff is not None:
        audit_record(
            brand=question.brand,
            actor=staff,
            action="community.answer.accept",
            target_type="post",
            target_id=answer.pk,
            data={"question": str(question.pk)},
        )
    pagecache.thread_changed(question)
    return question


@transaction.atomic
def answer_unaccept(*, question: Post, member: Member | None = None, staff: Actor | None = None) -> Post:
    question = _lock_question(question)
    if staff is None and (member is None or question.author_id != member.pk):
        raise PermissionDenied("Only the asker or staff change the accepted answer", code="not_the_asker")
    if question.accepted_answer is None:
        return question
    _accept_effects_undo(question, question.accepted_answer)
    Post.objects.filter(pk=question.pk).update(accepted_answer=None, accepted_at=None)
    question.refresh_from_db()
    if staff is not None:
        audit_record(
            brand=question.brand,
            actor=staff,
            action="community.answer.unaccept",
            target_type="post",
            target_id=question.pk,
            data={},
        )
    pagecache.thread_changed(question)
    return question


# --- views ---------------------------------------------------------------------------------------


def question_view_register(*, question: Post, viewer: str) -> bool:
    """Count a viewer (a member id, or a hash of an anonymous session) once a day; write in batches."""
    day = timezone.localdate().isoformat()
    if not cache.add(f"cview:{question.pk}:{viewer}:{day}", 1, timeout=26 * 3600):
        return False
    pending_key = f"cview-pending:{question.pk}"
    cache.add(pending_key, 0, timeout=None)
    try:
        pending = cache.incr(pending_key)
    except ValueError:
        cache.set(pending_key, 1, timeout=None)
        pending = 1
    if pending >= VIEW_FLUSH_EVERY:
        question_views_flush(question_id=question.pk)
    return True


def question_views_flush(*, question_id: Any) -> int:
    """Move counted views from the cache to the database row; safe to run any time."""
    pending_key = f"cview-pending:{question_id}"
    pending = int(cache.get(pending_key) or 0)
    if pending <= 0:
        return 0
    try:
        cache.decr(pending_key, pending)
    except ValueError:
        return 0
    Post.objects.filter(pk=question_id).update(view_count=F("view_count") + pending)
    question = Post.objects.filter(pk=question_id).select_related("author").first()
    if question is not None and question.author is not None and question.view_count >= POPULAR_QUESTION_VIEWS:
        _badge_give(question.author, "popular_question", str(question.pk))
    return pending


# --- moderation ----------------------------------------------------------------------------------


@transaction.atomic
def flag_create(*, post: Post, reporter: Member, reason: str, note: str = "") -> Flag:
    if reason not in Flag.Reason.values:
        raise ValidationFailed(f"reason must be one of {', '.join(Flag.Reason.values)}", field="reason")
    if post.brand_id != reporter.brand_id or not space_visible(post.space, reader_member(reporter)):
        raise NotFound("No such post", code="post_not_found")
    if post.author_id == reporter.pk:
        raise PermissionDenied("Nobody flags their own post", code="own_post")
    _check_may_post(Author(member=reporter), post.brand)
    _require_privilege(reporter, "flag")
    if Flag.objects.filter(post=post, reporter=reporter, status=Flag.Status.OPEN).exists():
        raise Conflict("You already flagged this post", code="already_flagged")
    flag = Flag.objects.create(
        brand_id=post.brand_id, post=post, reporter=reporter, reason=reason, note=note[:500]
    )
    open_flags = Flag.objects.filter(post=post, status=Flag.Status.OPEN).count()
    if open_flags >= FLAGS_TO_HOLD and post.status == Post.Status.PUBLISHED:
        Post.objects.filter(pk=post.pk).update(status=Post.Status.HELD, hold_reasons=["flagged"])
        post.refresh_from_db()
        _after_status_change(post)
        audit_record(
            brand=post.brand,
            actor=SYSTEM,
            action="community.post.hold",
            target_type="post",
            target_id=post.pk,
            data={"reason": "flagged", "open_flags": open_flags},
        )
    pagecache.thread_changed(post)
    return flag


def _after_status_change(post: Post) -> None:
    _index(post)
    _recount(post)


def _moderate(post: Post, *, status: str, actor: Actor, action: str, data: dict[str, Any]) -> Post:
    locked = Post.objects.select_for_update().get(pk=post.pk)
    before = locked.status
    Post.objects.filter(pk=locked.pk).update(
        status=status, hold_reasons=[] if status != "held" else locked.hold_reasons
    )
    locked.refresh_from_db()
    audit_record(
        brand=locked.brand,
        actor=actor,
        action=action,
        target_type="post",
        target_id=locked.pk,
        data={"before": before, "after": status, **data},
    )
    pagecache.thread_changed(locked)
    return locked


@transaction.atomic
def post_hide(*, post: Post, actor: Actor, reason: str = "", spam: bool = False) -> Post:
    """A moderator hides a post; as spam it also costs the author reputation and upholds spam flags."""
    hidden = _moderate(
        post,
        status=Post.Status.HIDDEN,
        actor=actor,
        action="community.post.hide",
        data={"reason": reason, "spam": spam},
    )
    Flag.objects.filter(post=hidden, status=Flag.Status.OPEN).update(
        status=Flag.Status.UPHELD, resolved_at=timezone.now()
    )
    if spam and hidden.author is not None:
        reputation_give(
            member=hidden.author, event="spam_removed", post=hidden, source_key=f"spam:{hidden.pk}"
        )
        for grant in _post_grants(hidden, accepted=True):
            points_take_back(
                member=hidden.author, grant=grant, post=hidden, reason=PointsReversal.Reason.SPAM, actor=actor
            )
    _after_status_change(hidden)
    return hidden


@transaction.atomic
def post_restore(*, post: Post, actor: Actor, reason: str = "") -> Post:
    """Publish a held post or bring back a hidden one; a spam penalty is given back."""
    restored = _moderate(
        post,
        status=Post.Status.PUBLISHED,
        actor=actor,
        action="community.post.restore",
        data={"reason": reason},
    )
    Flag.objects.filter(post=restored, status=Flag.Status.OPEN).update(
        status=Flag.Status.DISMISSED, resolved_at=timezone.now()
    )
    if restored.author is not None:
        reputation_take_back(member=restored.author, source_key=f"spam:{restored.pk}")
        for grant in _post_grants(restored, accepted=True):
            points_give_back(member=restored.author, grant=grant, reason=PointsReversal.Reason.SPAM)
    _after_status_change(restored)
    _on_publish(restored)
    return restored


@transaction.atomic
def post_delete(*, post: Post, actor: Actor, reason: str = "") -> Post:
    deleted = _moderate(
        post, status=Post.Status.DELETED, actor=actor, action="community.post.delete", data={"reason": reason}
    )
    _after_status_change(deleted)
    return deleted


@transaction.atomic
def flag_dismiss(*, flag: Flag, actor: Actor) -> Flag:
    Flag.objects.filter(pk=flag.pk, status=Flag.Status.OPEN).update(
        status=Flag.Status.DISMISSED, resolved_at=timezone.now()
    )
    audit_record(
        brand=flag.post.brand,
        actor=actor,
        action="community.flag.dismiss",
        target_type="flag",
        target_id=flag.pk,
        data={"post": str(flag.post_id)},
    )
    flag.refresh_from_db()
    return flag


@transaction.atomic
def member_suspend(
    *, member: Member, until: datetime | None, actor: Actor, reason: str = ""
) -> CommunityProfile:
    """Suspend a member from posting, voting and flagging until a time (None lifts a suspension)."""
    profile = profile_of(member)
    CommunityProfile.objects.filter(pk=profile.pk).update(suspended_until=until)
    audit_record(
        brand=member.brand,
        actor=actor,
        action="community.member.suspend" if until else "community.member.unsuspend",
        target_type="member",
        target_id=member.pk,
        data={"until": until.isoformat() if until else None, "reason": reason},
    )
    profile.refresh_from_db()
    return profile


QUESTION_STATES = ("close", "reopen", "lock", "unlock", "pin", "unpin")


@transaction.atomic
def question_state_set(
    *, question: Post, action: str, actor: Actor, reason: str = "", duplicate_of: Post | None = None
) -> Post:
    """Close (or close as a duplicate), reopen, lock, unlock, pin or unpin a question."""
    if question.kind != Post.Kind.QUESTION:
        raise NotFound("No such question", code="question_not_found")
    if action not in QUESTION_STATES:
        raise ValidationFailed(f"action must be one of {', '.join(QUESTION_STATES)}", field="action")
    changes: dict[str, Any] = {}
    if action == "close":
        if duplicate_of is not None and (
            duplicate_of.pk == question.pk or duplicate_of.brand_id != question.brand_id
        ):
            raise ValidationFailed(
                "a question duplicates another question of the brand", field="duplicate_of"
            )
        changes = {"closed_at": timezone.now(), "close_reason": reason[:200], "duplicate_of": duplicate_of}
    elif action == "reopen":
        changes = {"closed_at": None, "close_reason": "", "duplicate_of": None}
    else:
        changes = (
            {"locked": action == "lock"} if action in ("lock", "unlock") else {"pinned": action == "pin"}
        )
    Post.objects.filter(pk=question.pk).update(**changes)
    audit_record(
        brand=question.brand,
        actor=actor,
        action=f"community.question.{action}",
        target_type="post",
        target_id=question.pk,
        data={"reason": reason, "duplicate_of": str(duplicate_of.pk) if duplicate_of else None},
    )
    question.refresh_from_db()
    pagecache.thread_changed(question)
    return question


def reader_may_moderate(reader: Reader) -> bool:
    return reader.is_staff


@dataclass(frozen=True)
class MergeOutcome:
    question: Post  # the duplicate, now merged
    into: Post
    answers: int
    comments: int
    follows: int


@transaction.atomic
def question_merge(*, question: Post, into: Post, actor: Actor, reason: str = "") -> MergeOutcome:
    """Merge a duplicate question into another of the brand: its answers and comments (with their votes)
    move to the target, its followers follow the target, and the duplicate leaves lists and search; its
    page redirects to the target. Votes, reputation and points already given stay as they are, except an
    acceptance on the duplicate: it moves to the target when the target has none, else it is undone."""
    if question.kind != Post.Kind.QUESTION or into.kind != Post.Kind.QUESTION:
        raise NotFound("No such question", code="question_not_found")
    if question.brand_id != into.brand_id:
        raise NotFound("No such question", code="question_not_found", field="into")
    if question.pk == into.pk:
        raise ValidationFailed("a question cannot be merged into itself", field="into")
    # Both rows locked in key order, so two merges of the same pair never deadlock.
    locked = {
        post.pk: post
        for post in Post.objects.select_for_update().filter(pk__in=[question.pk, into.pk]).order_by("pk")
    }
    duplicate, target = locked[question.pk], locked[into.pk]
    if duplicate.status == Post.Status.MERGED:
        raise Conflict("This question is already merged", code="question_merged")
    if target.status != Post.Status.PUBLISHED:
        raise Conflict("Merge into a published question", code="question_not_published", field="into")
    now = timezone.now()
    thread = Post.objects.filter(question=duplicate)
    answer_ids = list(thread.filter(kind=Post.Kind.ANSWER).values_list("pk", flat=True))
    comments = thread.filter(kind=Post.Kind.COMMENT).count()
    # Comments on the duplicate itself now comment on the target; every post of the thread moves along.
    thread.filter(parent=duplicate).update(parent=target)
    thread.update(question=target, space=target.space)
    follows = 0
    for follow in Follow.objects.filter(kind=Follow.Kind.QUESTION, question=duplicate):
        if Follow.objects.filter(
            member_id=follow.member_id, kind=Follow.Kind.QUESTION, question=target
        ).exists():
            follow.delete()
        else:
            Follow.objects.filter(pk=follow.pk).update(question=target)
            follows += 1
    Notification.objects.filter(question=duplicate).update(question=target)
    accepted = duplicate.accepted_answer
    if accepted is not None:
        Post.objects.filter(pk=duplicate.pk).update(accepted_answer=None, accepted_at=None)
        if target.accepted_answer_id is None:
            # The acceptance travels with its answer; what it gave stays, keyed to the target from now on.
            Post.objects.filter(pk=target.pk).update(
                accepted_answer=accepted, accepted_at=duplicate.accepted_at
            )
            for source in ("accepted", "accepting"):
                ReputationEvent.objects.filter(
                    brand_id=target.brand_id, source_key=f"{source}:{duplicate.pk}"
                ).update(source_key=f"{source}:{target.pk}")
        else:
            # The target has its own accepted answer: the duplicate's acceptance ends, and what it gave too.
            _accept_effects_undo(duplicate, accepted)
    Post.objects.filter(pk=duplicate.pk).update(
        status=Post.Status.MERGED,
        duplicate_of=target,
        merged_at=now,
        closed_at=duplicate.closed_at or now,
        close_reason=(reason or duplicate.close_reason)[:200],
        pinned=False,
    )
    duplicate.refresh_from_db()
    target.refresh_from_db()
    _index(duplicate)  # out of search: it is no longer published
    for answer in Post.objects.filter(pk__in=answer_ids).select_related("question"):
        _index(answer)  # found under the target now, with the target's visibility
    _recount(duplicate)
    Post.objects.filter(pk=target.pk).update(last_activity_at=now)
    _recount(target)
    audit_record(
        brand=target.brand,
        actor=actor,
        action="community.question.merge",
        target_type="post",
        target_id=duplicate.pk,
        data={
            "into": str(target.pk),
            "reason": reason[:200],
            "answers": len(answer_ids),
            "comments": comments,
            "follows": follows,
        },
    )
    pagecache.thread_changed(duplicate)
    pagecache.thread_changed(target)
    target.refresh_from_db()
    return MergeOutcome(
        question=duplicate, into=target, answers=len(answer_ids), comments=comments, follows=follows
    )


# --- follows and notifications -------------------------------------------------------------------


@transaction.atomic
def follow_set(
    *, member: Member, question: Post | None = None, tag: Tag | None = None, space: Space | None = None
) -> Follow:
    """Follow one question, tag or space the member may see; following twice is the same follow."""
    targets = [target for target in (question, tag, space) if target is not None]
    if len(targets) != 1:
        raise ValidationFailed("follow one question, tag or space", field="target")
    reader = reader_member(member)
    if question is not None:
        visible = (
            question.kind == Post.Kind.QUESTION
            and Post.objects.filter(visible_posts_q(reader), pk=question.pk).exists()
        )
        if not visible:
            raise NotFound("No such question", code="question_not_found")
        follow, _created = Follow.objects.get_or_create(
            member=member,
            kind=Follow.Kind.QUESTION,
            question=question,
            defaults={"brand_id": member.brand_id},
        )
    elif tag is not None:
        if tag.brand_id != member.brand_id:
            raise NotFound("No such tag", code="tag_not_found")
        follow, _created = Follow.objects.get_or_create(
            member=member, kind=Follow.Kind.TAG, tag=tag, defaults={"brand_id": member.brand_id}
        )
    else:
        assert space is not None
        if space.brand_id != member.brand_id or not space_visible(space, reader):
            raise NotFound("No such space", code="space_not_found")
        follow, _created = Follow.objects.get_or_create(
            member=member, kind=Follow.Kind.SPACE, space=space, defaults={"brand_id": member.brand_id}
        )
    return follow


def follow_remove(
    *, member: Member, question: Post | None = None, tag: Tag | None = None, space: Space | None = None
) -> bool:
    follows = Follow.objects.filter(member=member)
    if question is not None:
        follows = follows.filter(kind=Follow.Kind.QUESTION, question=question)
    elif tag is not None:
        follows = follows.filter(kind=Follow.Kind.TAG, tag=tag)
    elif space is not None:
        follows = follows.filter(kind=Follow.Kind.SPACE, space=space)
    else:
        raise ValidationFailed("unfollow one question, tag or space", field="target")
    removed, _ = follows.delete()
    return removed > 0


def _may_see(member: Member, post: Post) -> bool:
    return (
        member.status in (MemberStatus.ACTIVE, MemberStatus.PROSPECT)
        and Post.objects.filter(visible_posts_q(reader_member(member)), pk=post.pk).exists()
    )


def notifications_for_new_answer(*, answer_id: Any) -> int:
    """Tell the asker and whoever follows the question, its tags or its space; only those who may see it."""
    answer = Post.objects.select_related("question", "question__space", "brand").filter(pk=answer_id).first()
    if answer is None or answer.question is None or answer.status != Post.Status.PUBLISHED:
        return 0
    question = answer.question
    follows = Follow.objects.filter(
        Q(kind=Follow.Kind.QUESTION, question=question)
        | Q(kind=Follow.Kind.TAG, tag__in=question.tags.all())
        | Q(kind=Follow.Kind.SPACE, space_id=question.space_id),
        brand_id=answer.brand_id,
    )
    member_ids = set(follows.values_list("member_id", flat=True))
    if question.author_id is not None:
        member_ids.add(question.author_id)
    if answer.author_id is not None:
        member_ids.discard(answer.author_id)
    members = Member.objects.filter(pk__in=member_ids, brand_id=answer.brand_id).select_related("brand")
    rows = [
        Notification(
            brand_id=answer.brand_id,
            member=member,
            kind=Notification.Kind.NEW_ANSWER,
            question=question,
            post=answer,
        )
        for member in members
        if _may_see(member, answer) and _may_see(member, question)
    ]
    return len(Notification.objects.bulk_create(rows, ignore_conflicts=True))


def notifications_for_accepted(*, answer_id: Any) -> int:
    """Tell the answer's author their answer was accepted (not when they accepted their own)."""
    answer = Post.objects.select_related("question", "author", "author__brand").filter(pk=answer_id).first()
    if answer is None or answer.question is None or answer.author is None:
        return 0
    if answer.question.accepted_answer_id != answer.pk or answer.question.author_id == answer.author_id:
        return 0
    if not (_may_see(answer.author, answer) and _may_see(answer.author, answer.question)):
        return 0
    created = Notification.objects.bulk_create(
        [
            Notification(
                brand_id=answer.brand_id,
                member=answer.author,
                kind=Notification.Kind.ANSWER_ACCEPTED,
                question=answer.question,
                post=answer,
            )
        ],
        ignore_conflicts=True,
    )
    return len(created)


def notifications_mark_read(*, member: Member, notification_ids: list[Any] | None = None) -> int:
    """Mark the member's own notifications read: the listed ones, or all of them."""
    unread = Notification.objects.filter(member=member, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())
