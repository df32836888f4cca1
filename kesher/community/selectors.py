"""Reads of the community, always through a Reader so visibility holds everywhere."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from kesher.brands.models import Brand
from kesher.community.access import Reader, reader_member, space_visible, visible_posts_q, visible_spaces_q
from kesher.community.models import (
    Badge,
    CommunityProfile,
    Flag,
    Follow,
    Notification,
    Post,
    ReputationEvent,
    Space,
    Tag,
    Vote,
)
from kesher.core.errors import NotFound, ValidationFailed
from kesher.core.limits import MAX_PAGE
from kesher.members.models import Member

SORTS = ("active", "newest", "votes", "unanswered")
PAGE_SIZE = 30


def space_list(*, reader: Reader) -> list[Space]:
    published = Q(posts__kind=Post.Kind.QUESTION, posts__status=Post.Status.PUBLISHED)
    return list(
        Space.objects.filter(visible_spaces_q(reader)).annotate(
            question_total=Count("posts", filter=published)
        )
    )


def space_get(*, reader: Reader, slug: str) -> Space:
    """A space the reader may open; one they may not is answered exactly like one that does not exist."""
    space = Space.objects.filter(brand=reader.brand, slug=slug).first()
    if space is None or not space_visible(space, reader):
        raise NotFound(f"No space {slug!r}", code="space_not_found", field="space")
    return space


def _questions(reader: Reader) -> QuerySet[Post]:
    return Post.objects.filter(visible_posts_q(reader), kind=Post.Kind.QUESTION)


@dataclass(frozen=True)
class QuestionPage:
    questions: list[Post]
    page: int
    has_next: bool


def question_list(
    *,
    reader: Reader,
    space: Space | None = None,
    tag: str | None = None,
    sort: str = "active",
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> QuestionPage:
    if sort not in SORTS:
        raise ValidationFailed(f"sort must be one of {', '.join(SORTS)}", field="sort")
    if not 1 <= page <= MAX_PAGE:
        raise ValidationFailed(f"page is from 1 to {MAX_PAGE:,}", field="page")
    questions = _questions(reader).exclude(status=Post.Status.MERGED)  # staff too: merged ones redirect
    if space is not None:
        questions = questions.filter(space=space)
    if tag:
        questions = questions.filter(tags__brand=reader.brand, tags__name=tag)
    order = {
        "active": ["-pinned", "-last_activity_at"],
        "newest": ["-created_at"],
        "votes": ["-score", "-created_at"],
        "unanswered": ["-created_at"],
    }[sort]
    if sort == "unanswered":
        questions = questions.filter(answer_count=0)
    start = (page - 1) * per_page
    rows = list(
        questions.select_related("author", "space", "brand")
        .prefetch_related("tags")
        .order_by(*order, "-pk")[start : start + per_page + 1]
    )
    return QuestionPage(questions=rows[:per_page], page=page, has_next=len(rows) > per_page)


@dataclass
class Thread:
    question: Post
    answers: list[Post]
    comments: dict[uuid.UUID, list[Post]] = field(default_factory=dict)
    my_votes: dict[uuid.UUID, int] = field(default_factory=dict)


def question_get(*, reader: Reader, question_id: str | uuid.UUID, with_tags: bool = True) -> Post:
    try:
        pk = uuid.UUID(str(question_id))
    except ValueError:
        raise NotFound("No such question", code="question_not_found") from None
    found = _questions(reader).select_related("author", "author__community_profile", "space", "brand")
    if with_tags:
        found = found.prefetch_related("tags")
    question = found.filter(pk=pk).first()
    if question is None:
        raise NotFound("No such question", code="question_not_found")
    return question


def merged_into(*, reader: Reader, question_id: str | uuid.UUID) -> Post | None:
    """Where a merged question now lives, if the reader may see it there (following merges of merges)."""
    try:
        pk = uuid.UUID(str(question_id))
    except ValueError:
        return None
    for _hop in range(5):
        found: uuid.UUID | None = (
            Post.objects.filter(brand=reader.brand, pk=pk, status=Post.Status.MERGED)
            .values_list("duplicate_of_id", flat=True)
            .first()
        )
        if found is None:
            return None
        pk = found
        target = _questions(reader).select_related("brand").filter(pk=pk).first()
        if target is not None and target.status != Post.Status.MERGED:
            return target
    return None


def post_get(*, reader: Reader, post_id: str | uuid.UUID, kind: str | None = None) -> Post:
    """Any post the reader may see (an answer only while its question may be seen too)."""
    try:
        pk = uuid.UUID(str(post_id))
    except ValueError:
        raise NotFound("No such post", code="post_not_found") from None
    posts = Post.objects.filter(visible_posts_q(reader)).select_related(
        "space", "author", "question", "brand"
    )
    if kind is not None:
        posts = posts.filter(kind=kind)
    post = posts.filter(pk=pk).first()
    if post is None or (
        post.question_id is not None and not _questions(reader).filter(pk=post.question_id).exists()
    ):
        raise NotFound(f"No such {kind or 'post'}", code=f"{kind or 'post'}_not_found")
    return post


# What a rendered page never reads of an answer or a comment: the Markdown source and bookkeeping.
PAGE_DEFERRED = ("body", "body_hash", "hold_reasons", "author__interests")


def thread_get(*, reader: Reader, question_id: str | uuid.UUID) -> Thread:
    """A question with its answers (accepted first, then by votes) and comments, in a fixed few queries.

    The question page reads its posts through `thread_posts_all` (kept rendered, see fragments.py).
    """
    question = question_get(reader=reader, question_id=question_id)
    visible = visible_posts_q(reader)
    # A thread's posts share the question's space and brand: set here rather than joined for each row.
    answers = list(
        Post.objects.filter(visible, question=question, kind=Post.Kind.ANSWER)
        .select_related("author", "author__community_profile")
        .order_by("-score", "created_at", "pk")
    )
    answers.sort(key=lambda answer: answer.pk != question.accepted_answer_id)
    comments: dict[uuid.UUID, list[Post]] = {}
    for comment in (
        Post.objects.filter(visible, question=question, kind=Post.Kind.COMMENT)
        .select_related("author")
        .order_by("created_at", "pk")
    ):
        comments.setdefault(comment.parent_id, []).append(comment)  # type: ignore[arg-type]
    for post in [*answers, *(comment for thread in comments.values() for comment in thread)]:
        post.space, post.brand = question.space, question.brand
    my_votes: dict[uuid.UUID, int] = {}
    if reader.member is not None:
        thread_ids = [question.pk, *(answer.pk for answer in answers)]
        my_votes = dict(
            Vote.objects.filter(member=reader.member, post_id__in=thread_ids).values_list("post_id", "value")
        )
    return Thread(question=question, answers=answers, comments=comments, my_votes=my_votes)


def thread_posts_all(*, question: Post) -> tuple[list[Post], dict[uuid.UUID, list[Post]]]:
    """Every answer and comment of a question whatever its status, in page order, without Markdown source.

    For the question page's kept fragments, which each reader's view then filters (`access.post_shown`).
    """
    answers = list(
        Post.objects.filter(question=question, kind=Post.Kind.ANSWER)
        .select_related("author")
        .defer(*PAGE_DEFERRED)
        .order_by("-score", "created_at", "pk")
    )
    answers.sort(key=lambda answer: answer.pk != question.accepted_answer_id)
    comments: dict[uuid.UUID, list[Post]] = {}
    for comment in (
        Post.objects.filter(question=question, kind=Post.Kind.COMMENT)
        .select_related("author")
        .defer(*PAGE_DEFERRED)
        .order_by("created_at", "pk")
    ):
        comments.setdefault(comment.parent_id, []).append(comment)  # type: ignore[arg-type]
    for post in [*answers, *(comment for thread in comments.values() for comment in thread)]:
        post.space, post.brand = question.space, question.brand
    return answers, comments


def votes_of(*, member: Member, post_ids: list[Any]) -> dict[uuid.UUID, int]:
    """The member's vote (+1 or -1) on each of these posts they voted on."""
    return dict(Vote.objects.filter(member=member, post_id__in=post_ids).values_list("post_id", "value"))


def tag_list(*, reader: Reader, limit: int = 100) -> list[Tag]:
    """Tags of the questions the reader may see, counted over those questions only."""
    seen = Q(posts__in=_questions(reader))
    return list(
        Tag.objects.filter(brand=reader.brand)
        .annotate(visible_count=Count("posts", filter=seen))
        .filter(visible_count__gt=0)
        .order_by("-visible_count", "name")[:limit]
    )


@dataclass(frozen=True)
class MemberCommunity:
    member: Member
    reputation: int
    badges: list[Badge]
    questions: list[Post]
    answers: list[Post]
    reputation_events: list[ReputationEvent]


def member_community(*, reader: Reader, member: Member, limit: int = 20) -> MemberCommunity:
    """A member's profile in the community: only what the reader may see of their posts."""
    if member.brand_id != reader.brand.pk:
        raise NotFound("No such member", code="member_not_found")
    profile = CommunityProfile.objects.filter(member=member).first()
    posts = Post.objects.filter(visible_posts_q(reader), author=member).select_related(
        "space", "question", "brand"
    )
    return MemberCommunity(
        member=member,
        reputation=profile.reputation if profile else 1,
        badges=list(Badge.objects.filter(member=member)),
        questions=list(posts.filter(kind=Post.Kind.QUESTION).order_by("-created_at")[:limit]),
        answers=list(posts.filter(kind=Post.Kind.ANSWER).order_by("-created_at")[:limit]),
        reputation_events=list(ReputationEvent.objects.filter(member=member)[:limit]),
    )


@dataclass(frozen=True)
class QueueItem:
    post: Post
    open_flags: list[Flag]


def moderation_queue(*, brand: Brand, limit: int = 100) -> list[QueueItem]:
    """Held posts and posts with open flags, oldest first."""
    open_flags = Flag.objects.filter(status=Flag.Status.OPEN).select_related("reporter")
    posts = (
        Post.objects.filter(brand=brand)
        .filter(Q(status=Post.Status.HELD) | Q(flags__status=Flag.Status.OPEN))
        .exclude(status=Post.Status.DELETED)
        .distinct()
        .select_related("author", "space", "question", "brand")
        .prefetch_related(Prefetch("flags", queryset=open_flags, to_attr="open_flag_list"))
        .order_by("created_at", "pk")[:limit]
    )
    return [QueueItem(post=post, open_flags=post.open_flag_list) for post in posts]  # type: ignore[attr-defined]


def sitemap_questions(*, brand: Brand, limit: int = 50_000) -> QuerySet[Post]:
    """Published questions in public spaces: what search engines may list."""
    return (
        Post.objects.filter(
            brand=brand,
            kind=Post.Kind.QUESTION,
            status=Post.Status.PUBLISHED,
            space__visibility=Space.Visibility.PUBLIC,
        )
        .only("pk", "slug", "last_activity_at", "brand_id")
        .order_by("-last_activity_at")[:limit]
    )


def notification_list(*, member: Member, limit: int = 50) -> list[Notification]:
    """The member's notifications, newest first, about posts they may still see (moderation may hide)."""
    reader = reader_member(member)
    return list(
        Notification.objects.filter(member=member)
        .filter(visible_posts_q(reader, prefix="post__"), visible_posts_q(reader, prefix="question__"))
        .select_related("question", "post", "brand")[:limit]
    )


def notification_unread_count(*, member: Member) -> int:
    reader = reader_member(member)
    return (
        Notification.objects.filter(member=member, read_at__isnull=True)
        .filter(visible_posts_q(reader, prefix="post__"), visible_posts_q(reader, prefix="question__"))
        .count()
    )


def follow_list(*, member: Member) -> list[Follow]:
    return list(Follow.objects.filter(member=member).select_related("question", "tag", "space"))


def follows_question(*, member: Member, question: Post) -> bool:
    return Follow.objects.filter(member=member, kind=Follow.Kind.QUESTION, question=question).exists()


def posts_published_after(
    *, brand: Brand, since: datetime | None, after_id: uuid.UUID | None = None, limit: int = 500
) -> list[Post]:
    """The brand's members' published posts in the order they were first published, from a cursor:
    those published after `since` (or at it, with an id after `after_id`). For the listening part."""
    posts = Post.objects.filter(
        brand=brand, status=Post.Status.PUBLISHED, by_brand=False, published_at__isnull=False
    )
    if since is not None:
        later = Q(published_at__gt=since)
        later |= Q(published_at=since, id__gt=after_id) if after_id is not None else Q(published_at=since)
        posts = posts.filter(later)
    return list(posts.select_related("author").order_by("published_at", "id")[:limit])
