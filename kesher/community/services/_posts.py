"""What every way of writing a post shares: cleaning, the checks before publishing, and keeping a
thread's counters and search document right. Private to this package."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.text import slugify

from kesher.brands.models import Brand
from kesher.community import pagecache, textsearch
from kesher.community.models import CommunityProfile, Post, PostRevision, SearchDocument, Space, Tag
from kesher.community.services.authors import Author
from kesher.community.services.defaults import community_settings, privilege_threshold, profile_of
from kesher.community.services.follows import notifications_for_new_answer
from kesher.community.services.points import points_grant, post_grants
from kesher.community.services.reputation import badge_give
from kesher.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kesher.core.markup import MAX_BODY, count_links, render_markdown
from kesher.members.models import Member, MemberStatus

TAG_PATTERN = re.compile(r"^[^\W_][\w-]{0,29}$")

MAX_TAGS = 5


def require_privilege(member: Member, privilege: str) -> None:
    """Refuse unless the member's reputation reaches the brand's threshold for `privilege`."""
    needed = privilege_threshold(member.brand, privilege)
    if profile_of(member).reputation < needed:
        raise PermissionDenied(
            f"This needs {needed} reputation ({privilege})", code="reputation_too_low", field="member_id"
        )


def body_hash_of(body: str) -> str:
    return hashlib.sha256(" ".join(textsearch.words(body)).encode()).hexdigest()


def clean_title(title: str) -> str:
    title = " ".join(title.split())
    if not 5 <= len(title) <= 200:
        raise ValidationFailed("title must be 5 to 200 characters", field="title")
    return title


def clean_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise ValidationFailed("body must not be empty", field="body")
    if len(body) > MAX_BODY:
        raise ValidationFailed(f"body must be at most {MAX_BODY} characters", field="body")
    return body


def clean_tags(tags: list[str]) -> list[str]:
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


def check_may_post(author: Author, brand: Brand) -> CommunityProfile | None:
    """Refuse a member of another brand, an inactive or a suspended one; the brand itself always may."""
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


def new_post(
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
    profile = check_may_post(author, space.brand)
    body = clean_body(body)
    body_hash = body_hash_of(body)
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
    post_index(post)
    if post.status == Post.Status.PUBLISHED:
        on_publish(post)
    pagecache.thread_changed(post)
    return post


def lock_question(question: Post) -> Post:
    """The question's row, locked until the transaction ends: changes to one thread go one at a time."""
    return Post.objects.select_for_update().get(pk=question.pk)


def check_open(question: Post) -> None:
    """Refuse unless the question takes answers: published, not closed, not locked."""
    if question.kind != Post.Kind.QUESTION:
        raise NotFound("No such question", code="question_not_found")
    if question.locked:
        raise Conflict("This question is locked", code="question_locked")
    if question.closed_at is not None:
        raise Conflict("This question is closed", code="question_closed")
    if question.status != Post.Status.PUBLISHED:
        raise Conflict("This question is not published", code="question_not_published")


def on_publish(post: Post) -> None:
    """Runs once, when a post first becomes public: counters, tag counts, points, badges."""
    if post.published_at is not None:
        thread_recount(post)
        return
    now = timezone.now()
    Post.objects.filter(pk=post.pk).update(published_at=now)
    post.published_at = now
    thread_recount(post)
    if post.kind == Post.Kind.QUESTION:
        post.tags.update(question_count=F("question_count") + 1)
    if post.kind == Post.Kind.ANSWER:
        answer_id = post.pk  # after commit: followers must not hear of an answer that is rolled back
        transaction.on_commit(lambda: notifications_for_new_answer(answer_id=answer_id))
    if post.author is None:
        return
    for grant in post_grants(post, accepted=False):
        points_grant(member=post.author, grant=grant)
    if post.kind == Post.Kind.ANSWER:
        badge_give(post.author, "first_answer")


def thread_recount(post: Post) -> None:
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


def post_index(post: Post) -> None:
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
