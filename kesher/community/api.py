"""The community part's API router, mounted under /api/v1/community.

Reads take an optional `member_id`: the answer is then what that member may see. Without it a key with
the `manage` scope reads as staff and any other key as an anonymous visitor. A key of another brand
finds nothing of this brand (404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import StringConstraints

from kesher.api.auth import actor_of, brand_of, key_of, require_scope
from kesher.api.common import ERRORS, idempotent
from kesher.api.common import StrictInput as Strict
from kesher.community import search, selectors, services
from kesher.community.access import Reader, reader_anonymous, reader_member, reader_staff
from kesher.community.models import Follow, Post, ReputationRule, Space, Tag
from kesher.core.errors import NotFound
from kesher.members.selectors import member_get

router = Router()

Slug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Text = Annotated[str, StringConstraints(max_length=30_000)]


class SpaceIn(Strict):
    slug: Slug
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    kind: str = Field("qa", description="qa, discussion or announcements")
    visibility: str = Field("public", description="public, members, tiers or staff")
    tiers: list[Annotated[str, StringConstraints(max_length=50)]] = Field(default_factory=list, max_length=20)
    description: Annotated[str, StringConstraints(max_length=2000)] = ""


class SpaceOut(Schema):
    id: UUID
    slug: str
    name: str
    description: str
    kind: str
    visibility: str
    tiers: list[str]


class AuthorOut(Schema):
    member_id: UUID | None
    name: str
    by_brand: bool
    reputation: int | None


class PostOut(Schema):
    id: UUID
    kind: str
    question_id: UUID | None
    parent_id: UUID | None
    space: str
    author: AuthorOut
    title: str
    slug: str
    body: str
    body_html: str
    tags: list[str]
    status: str
    hold_reasons: list[str]
    score: int
    upvotes: int
    downvotes: int
    answer_count: int
    comment_count: int
    view_count: int
    accepted_answer_id: UUID | None
    is_accepted: bool
    closed: bool
    locked: bool
    pinned: bool
    duplicate_of: UUID | None
    created_at: datetime
    edited_at: datetime | None


class AnswerOut(PostOut):
    comments: list[PostOut]


class ThreadOut(PostOut):
    comments: list[PostOut]
    answers: list[AnswerOut]


class QuestionPageOut(Schema):
    items: list[PostOut]
    page: int
    has_next: bool


class QuestionIn(Strict):
    member_id: UUID | None = Field(None, description="The member asking; leave out with as_brand")
    as_brand: bool = Field(False, description="Post as the brand itself (manage scope)")
    space: Slug = "general"
    title: Annotated[str, StringConstraints(min_length=5, max_length=200)]
    body: Text
    tags: list[Annotated[str, StringConstraints(max_length=60)]] = Field(default_factory=list, max_length=10)


class ReplyIn(Strict):
    member_id: UUID | None = None
    as_brand: bool = False
    body: Text


class EditIn(Strict):
    member_id: UUID | None = None
    as_brand: bool = False
    title: Annotated[str, StringConstraints(max_length=200)] | None = None
    body: Text | None = None
    tags: list[Annotated[str, StringConstraints(max_length=60)]] | None = Field(None, max_length=10)
    comment: Annotated[str, StringConstraints(max_length=300)] = ""


class AcceptIn(Strict):
    member_id: UUID | None = Field(None, description="The asker; leave out to accept as staff (manage)")


class VoteIn(Strict):
    member_id: UUID
    value: Literal[-1, 0, 1] = Field(description="+1, -1, or 0 to take a vote back")


class FlagIn(Strict):
    member_id: UUID
    reason: Literal["spam", "offensive", "off_topic", "duplicate", "other"]
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class FlagOut(Schema):
    id: UUID
    post_id: UUID
    reason: str
    note: str
    status: str
    created_at: datetime


class ModerationIn(Strict):
    action: Literal["hide", "restore", "delete"]
    reason: Annotated[str, StringConstraints(max_length=300)] = ""
    spam: bool = False


class QuestionStateIn(Strict):
    action: Literal["close", "reopen", "lock", "unlock", "pin", "unpin"]
    reason: Annotated[str, StringConstraints(max_length=200)] = ""
    duplicate_of: UUID | None = None


class MergeIn(Strict):
    into: UUID = Field(description="The question the duplicate is merged into")
    reason: Annotated[str, StringConstraints(max_length=200)] = ""


class MergeOut(Schema):
    question: PostOut
    into: PostOut
    answers_moved: int
    comments_moved: int
    follows_moved: int


class QueueItemOut(Schema):
    post: PostOut
    flags: list[FlagOut]


class SearchHitOut(Schema):
    question: PostOut
    matched_post_id: UUID
    title_html: str
    snippet_html: str
    score: float


class SuggestionOut(Schema):
    id: UUID
    title: str
    answer_count: int
    accepted: bool


class TagOut(Schema):
    name: str
    count: int


class BadgeOut(Schema):
    code: str
    name: str
    awarded_for: str
    awarded_at: datetime


class MemberCommunityOut(Schema):
    member_id: UUID
    reputation: int
    badges: list[BadgeOut]
    questions: list[PostOut]
    answers: list[PostOut]


class ReputationRuleIn(Strict):
    points: int = Field(ge=-1000, le=1000)


class ReputationRuleOut(Schema):
    event: str
    points: int


class SuspensionIn(Strict):
    until: datetime | None = Field(description="Lift the suspension with null")
    reason: Annotated[str, StringConstraints(max_length=300)] = ""


# --- shaping -------------------------------------------------------------------------------------


def display_name(post: Post) -> str:
    if post.by_brand:
        return post.brand.name
    if post.author is None:
        return ""
    member = post.author
    initial = f" {member.last_name[:1]}." if member.last_name else ""
    return f"{member.first_name}{initial}".strip()


def _reputation(post: Post) -> int | None:
    profile = getattr(post.author, "community_profile", None) if post.author is not None else None
    return profile.reputation if profile is not None else None


def post_out(post: Post, accepted_id: UUID | None = None) -> dict[str, Any]:
    """The API shape of a post; `accepted_id` is the thread's accepted answer, to mark it."""
    return {
        "id": post.pk,
        "kind": post.kind,
        "question_id": post.question_id,
        "parent_id": post.parent_id,
        "space": post.space.slug,
        "author": {
            "member_id": post.author_id,
            "name": display_name(post),
            "by_brand": post.by_brand,
            "reputation": _reputation(post),
        },
        "title": post.title,
        "slug": post.slug,
        "body": post.body,
        "body_html": post.body_html,
        "tags": [tag.name for tag in post.tags.all()] if post.kind == Post.Kind.QUESTION else [],
        "status": post.status,
        "hold_reasons": post.hold_reasons,
        "score": post.score,
        "upvotes": post.upvotes,
        "downvotes": post.downvotes,
        "answer_count": post.answer_count,
        "comment_count": post.comment_count,
        "view_count": post.view_count,
        "accepted_answer_id": post.accepted_answer_id,
        "is_accepted": accepted_id is not None and post.pk == accepted_id,
        "closed": post.closed_at is not None,
        "locked": post.locked,
        "pinned": post.pinned,
        "duplicate_of": post.duplicate_of_id,
        "created_at": post.created_at,
        "edited_at": post.edited_at,
    }


def _json(schema: type[Schema], data: dict[str, Any]) -> Any:
    return schema.model_validate(data).model_dump(mode="json")


def _reader(request: HttpRequest, member_id: UUID | None) -> Reader:
    brand = brand_of(request)
    if member_id is not None:
        return reader_member(member_get(brand=brand, member_id=member_id))
    if key_of(request).allows("manage"):
        return reader_staff(brand)
    return reader_anonymous(brand)


def _author(request: HttpRequest, member_id: UUID | None, as_brand: bool) -> services.Author:
    if as_brand:
        require_scope(request, "manage")
        return services.Author(by_brand=True, actor=actor_of(request))
    if member_id is None:
        from kesher.core.errors import ValidationFailed

        raise ValidationFailed("member_id is required (or as_brand with the manage scope)", field="member_id")
    return services.Author(member=member_get(brand=brand_of(request), member_id=member_id))


def _post_for_writer(request: HttpRequest, author: services.Author, post_id: str, kind: str | None) -> Post:
    reader = reader_member(author.member) if author.member is not None else reader_staff(brand_of(request))
    return selectors.post_get(reader=reader, post_id=post_id, kind=kind)


# --- spaces --------------------------------------------------------------------------------------


@router.get("/spaces", response={200: list[SpaceOut], **ERRORS}, summary="Spaces the reader may open")
def list_spaces(request: HttpRequest, member_id: UUID | None = None) -> list[Space]:
    return selectors.space_list(reader=_reader(request, member_id))


@router.post("/spaces", response={201: SpaceOut, **ERRORS}, summary="Add a space (manage)")
def create_space(request: HttpRequest, payload: SpaceIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        space = services.space_create(
            brand=brand_of(request), actor=actor_of(request), **payload.model_dump()
        )
        return 201, SpaceOut.from_orm(space).model_dump(mode="json")

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.get("/spaces/{slug}", response={200: SpaceOut, **ERRORS}, summary="One space")
def get_space(request: HttpRequest, slug: str, member_id: UUID | None = None) -> Space:
    return selectors.space_get(reader=_reader(request, member_id), slug=slug)


# --- questions, answers, comments ----------------------------------------------------------------


@router.get(
    "/questions", response={200: QuestionPageOut, **ERRORS}, summary="Questions, newest activity first"
)
def list_questions(
    request: HttpRequest,
    space: str | None = None,
    tag: str | None = None,
    sort: Literal["active", "newest", "votes", "unanswered"] = "active",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,  # type: ignore[type-arg]
    member_id: UUID | None = None,
) -> dict[str, Any]:
    reader = _reader(request, member_id)
    space_row = selectors.space_get(reader=reader, slug=space) if space else None
    found = selectors.question_list(reader=reader, space=space_row, tag=tag, sort=sort, page=page)
    return {"items": [post_out(q) for q in found.questions], "page": found.page, "has_next": found.has_next}


@router.post("/questions", response={201: PostOut, **ERRORS}, summary="A member (or the brand) asks")
def create_question(request: HttpRequest, payload: QuestionIn) -> Status[Any]:
    def perform() -> tuple[int, Any]:
        author = _author(request, payload.member_id, payload.as_brand)
        reader = (
            reader_member(author.member) if author.member is not None else reader_staff(brand_of(request))
        )
        space = selectors.space_get(reader=reader, slug=payload.space)
        question = services.question_ask(
            space=space, author=author, title=payload.title, body=payload.body, tags=payload.tags
        )
        return 201, _json(PostOut, post_out(question))

    return idempotent(request, payload.model_dump(mode="json"), perform)


@router.get(
    "/questions/{question_id}", response={200: ThreadOut, **ERRORS}, summary="A question with answers"
)
def get_question(request: HttpRequest, question_id: str, member_id: UUID | None = None) -> dict[str, Any]:
    thread = selectors.thread_get(reader=_reader(request, member_id), question_id=question_id)
    return {
        **post_out(thread.question),
        "comments": [post_out(c) for c in thread.comments.get(thread.question.pk, [])],
        "answers": [
            {
                **post_out(a, thread.question.accepted_answer_id),
                "comments": [post_out(c) for c in thread.comments.get(a.pk, [])],
            }
            for a in thread.answers
        ],
    }


@router.post(
    "/questions/{question_id}/answers", response={201: PostOut, **ERRORS}, summary="Answer a question"
)
def create_answer(request: HttpRequest, question_id: str, payload: ReplyIn) -> Status[Any]:
    def perform() -> tuple[int, Any]:
        author = _author(request, payload.member_id, payload.as_brand)
        question = _post_for_writer(request, author, question_id, Post.Kind.QUESTION)
        answer = services.answer_post(question=question, author=author, body=payload.body)
        return 201, _json(PostOut, post_out(answer))

    return idempotent(request, {"question": question_id, **payload.model_dump(mode="json")}, perform)


@router.post("/posts/{post_id}/comments", response={201: PostOut, **ERRORS}, summary="Comment on a post")
def create_comment(request: HttpRequest, post_id: str, payload: ReplyIn) -> Status[Any]:
    def perform() -> tuple[int, Any]:
        author = _author(request, payload.member_id, payload.as_brand)
        parent = _post_for_writer(request, author, post_id, None)
        comment = services.comment_post(parent=parent, author=author, body=payload.body)
        return 201, _json(PostOut, post_out(comment))

    return idempotent(request, {"post": post_id, **payload.model_dump(mode="json")}, perform)


@router.patch("/posts/{post_id}", response={200: PostOut, **ERRORS}, summary="Edit a post (history kept)")
def edit_post(request: HttpRequest, post_id: str, payload: EditIn) -> Status[Any]:
    def perform() -> tuple[int, Any]:
        editor = _author(request, payload.member_id, payload.as_brand)
        post = _post_for_writer(request, editor, post_id, None)
        edited = services.post_edit(
            post=post,
            editor=editor,
            title=payload.title,
            body=payload.body,
            tags=payload.tags,
            comment=payload.comment,
        )
        return 200, _json(PostOut, post_out(edited))

    return idempotent(request, {"post": post_id, **payload.model_dump(mode="json")}, perform)


@router.post("/answers/{answer_id}/accept", response={200: PostOut, **ERRORS}, summary="Accept an answer")
def accept_answer(request: HttpRequest, answer_id: str, payload: AcceptIn | None = None) -> Status[Any]:
    member_id = payload.member_id if payload else None

    def perform() -> tuple[int, Any]:
        if member_id is None:
            require_scope(request, "manage")
            answer = selectors.post_get(
                reader=reader_staff(brand_of(request)), post_id=answer_id, kind="answer"
            )
            question = services.answer_accept(answer=answer, staff=actor_of(request))
        else:
            member = member_get(brand=brand_of(request), member_id=member_id)
            answer = selectors.post_get(reader=reader_member(member), post_id=answer_id, kind="answer")
            question = services.answer_accept(answer=answer, member=member)
        return 200, _json(PostOut, post_out(question))

    return idempotent(request, {"answer": answer_id, "member_id": str(member_id or "")}, perform)


@router.post("/posts/{post_id}/votes", response={200: PostOut, **ERRORS}, summary="Vote on a post")
def vote(request: HttpRequest, post_id: str, payload: VoteIn) -> Status[Any]:
    def perform() -> tuple[int, Any]:
        member = member_get(brand=brand_of(request), member_id=payload.member_id)
        post = selectors.post_get(reader=reader_member(member), post_id=post_id)
        voted = services.vote_cast(post=post, member=member, value=payload.value)
        return 200, _json(PostOut, post_out(voted))

    return idempotent(request, {"post": post_id, **payload.model_dump(mode="json")}, perform)


@router.post(
    "/posts/{post_id}/flags", response={201: FlagOut, **ERRORS}, summary="Flag a post for moderators"
)
def flag(request: HttpRequest, post_id: str, payload: FlagIn) -> Status[Any]:
    def perform() -> tuple[int, Any]:
        member = member_get(brand=brand_of(request), member_id=payload.member_id)
        post = selectors.post_get(reader=reader_member(member), post_id=post_id)
        created = services.flag_create(post=post, reporter=member, reason=payload.reason, note=payload.note)
        return 201, FlagOut.from_orm(created).model_dump(mode="json")

    return idempotent(request, {"post": post_id, **payload.model_dump(mode="json")}, perform)


# --- search, tags, members -----------------------------------------------------------------------


@router.get("/search", response={200: list[SearchHitOut], **ERRORS}, summary="Ranked search")
def search_community(
    request: HttpRequest,
    q: Annotated[str, Query(max_length=200)],  # type: ignore[type-arg]
    space: str | None = None,
    member_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,  # type: ignore[type-arg]
) -> list[dict[str, Any]]:
    reader = _reader(request, member_id)
    space_row = selectors.space_get(reader=reader, slug=space) if space else None
    hits = search.search_posts(reader=reader, q=q, space=space_row, limit=limit)
    return [
        {
            "question": post_out(hit.question),
            "matched_post_id": hit.matched.pk,
            "title_html": str(hit.title_html),
            "snippet_html": str(hit.snippet_html),
            "score": round(hit.score, 6),
        }
        for hit in hits
    ]


@router.get("/suggestions", response={200: list[SuggestionOut], **ERRORS}, summary="Already asked?")
def suggestions(
    request: HttpRequest,
    title: Annotated[str, Query(max_length=200)],  # type: ignore[type-arg]
    member_id: UUID | None = None,
) -> list[dict[str, Any]]:
    found = search.questions_similar(reader=_reader(request, member_id), title=title)
    return [
        {
            "id": q.pk,
            "title": q.title,
            "answer_count": q.answer_count,
            "accepted": q.accepted_answer_id is not None,
        }
        for q in found
    ]


@router.get("/tags", response={200: list[TagOut], **ERRORS}, summary="Tags of visible questions")
def list_tags(request: HttpRequest, member_id: UUID | None = None) -> list[dict[str, Any]]:
    tags = selectors.tag_list(reader=_reader(request, member_id))
    return [{"name": tag.name, "count": tag.visible_count} for tag in tags]  # type: ignore[attr-defined]


@router.get(
    "/members/{member_id}", response={200: MemberCommunityOut, **ERRORS}, summary="A member's activity"
)
def member_activity(request: HttpRequest, member_id: str, viewer_id: UUID | None = None) -> dict[str, Any]:
    from django.utils.translation import gettext

    member = member_get(brand=brand_of(request), member_id=member_id)
    found = selectors.member_community(reader=_reader(request, viewer_id), member=member)
    return {
        "member_id": member.pk,
        "reputation": found.reputation,
        "badges": [
            {
                "code": b.code,
                "name": gettext(services.BADGES.get(b.code, b.code)),
                "awarded_for": b.awarded_for,
                "awarded_at": b.awarded_at,
            }
            for b in found.badges
        ],
        "questions": [post_out(p) for p in found.questions],
        "answers": [post_out(p) for p in found.answers],
    }


# --- moderation (manage) -------------------------------------------------------------------------


@router.get("/moderation/queue", response={200: list[QueueItemOut], **ERRORS}, summary="Moderation queue")
def moderation_queue(request: HttpRequest) -> list[dict[str, Any]]:
    require_scope(request, "manage")
    items = selectors.moderation_queue(brand=brand_of(request))
    return [
        {"post": post_out(item.post), "flags": [FlagOut.from_orm(f) for f in item.open_flags]}
        for item in items
    ]


@router.post(
    "/posts/{post_id}/moderation", response={200: PostOut, **ERRORS}, summary="Hide, restore, delete"
)
def moderate(request: HttpRequest, post_id: str, payload: ModerationIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        post = selectors.post_get(reader=reader_staff(brand_of(request)), post_id=post_id)
        actor = actor_of(request)
        if payload.action == "hide":
            done = services.post_hide(post=post, actor=actor, reason=payload.reason, spam=payload.spam)
        elif payload.action == "restore":
            done = services.post_restore(post=post, actor=actor, reason=payload.reason)
        else:
            done = services.post_delete(post=post, actor=actor, reason=payload.reason)
        return 200, _json(PostOut, post_out(done))

    return idempotent(request, {"post": post_id, **payload.model_dump(mode="json")}, perform)


@router.post("/questions/{question_id}/state", response={200: PostOut, **ERRORS}, summary="Close, lock, pin")
def question_state(request: HttpRequest, question_id: str, payload: QuestionStateIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        staff = reader_staff(brand_of(request))
        question = selectors.question_get(reader=staff, question_id=question_id)
        duplicate = (
            selectors.question_get(reader=staff, question_id=payload.duplicate_of)
            if payload.duplicate_of
            else None
        )
        done = services.question_state_set(
            question=question,
            action=payload.action,
            actor=actor_of(request),
            reason=payload.reason,
            duplicate_of=duplicate,
        )
        return 200, _json(PostOut, post_out(done))

    return idempotent(request, {"question": question_id, **payload.model_dump(mode="json")}, perform)


@router.post(
    "/questions/{question_id}/merge",
    response={200: MergeOut, **ERRORS},
    summary="Merge a duplicate question into another (manage)",
)
def merge_question(request: HttpRequest, question_id: str, payload: MergeIn) -> Status[Any]:
    require_scope(request, "manage")

    def perform() -> tuple[int, Any]:
        staff = reader_staff(brand_of(request))
        question = selectors.question_get(reader=staff, question_id=question_id)
        try:
            into = selectors.question_get(reader=staff, question_id=payload.into)
        except NotFound:
            raise NotFound("No such question", code="question_not_found", field="into") from None
        done = services.question_merge(
            question=question, into=into, actor=actor_of(request), reason=payload.reason
        )
        return 200, _json(
            MergeOut,
            {
                "question": post_out(done.question),
                "into": post_out(done.into),
                "answers_moved": done.answers,
                "comments_moved": done.comments,
                "follows_moved": done.follows,
            },
        )

    return idempotent(request, {"question": question_id, **payload.model_dump(mode="json")}, perform)


@router.post("/members/{member_id}/suspension", response={200: dict, **ERRORS}, summary="Suspend a member")
def suspend(request: HttpRequest, member_id: str, payload: SuspensionIn) -> dict[str, Any]:
    require_scope(request, "manage")
    member = member_get(brand=brand_of(request), member_id=member_id)
    profile = services.member_suspend(
        member=member, until=payload.until, actor=actor_of(request), reason=payload.reason
    )
    return {"member_id": str(member.pk), "suspended_until": profile.suspended_until}


@router.get(
    "/reputation-rules", response={200: list[ReputationRuleOut], **ERRORS}, summary="Reputation table"
)
def reputation_rules(request: HttpRequest) -> Any:
    require_scope(request, "manage")
    return ReputationRule.objects.filter(brand=brand_of(request))


@router.put("/reputation-rules/{event}", response={200: ReputationRuleOut, **ERRORS}, summary="Change a rule")
def set_reputation_rule(request: HttpRequest, event: str, payload: ReputationRuleIn) -> ReputationRule:
    require_scope(request, "manage")
    return services.reputation_rule_set(
        brand=brand_of(request), event=event, points=payload.points, actor=actor_of(request)
    )


# --- follows and notifications -------------------------------------------------------------------


class FollowIn(Strict):
    member_id: UUID
    question_id: UUID | None = None
    tag: str | None = None
    space: str | None = None


class FollowOut(Schema):
    kind: str
    question_id: UUID | None
    tag: str | None
    space: str | None


class NotificationOut(Schema):
    id: int
    kind: str
    question_id: UUID
    question_title: str
    post_id: UUID
    created_at: datetime
    read: bool


class NotificationsOut(Schema):
    unread: int
    notifications: list[NotificationOut]


def _follow_targets(payload: FollowIn, member: Any) -> dict[str, Any]:
    reader = reader_member(member)
    if payload.question_id is not None:
        return {"question": selectors.question_get(reader=reader, question_id=payload.question_id)}
    if payload.tag:
        tag = Tag.objects.filter(brand=member.brand, name=payload.tag).first()
        if tag is None:
            raise NotFound("No such tag", code="tag_not_found", field="tag")
        return {"tag": tag}
    if payload.space:
        return {"space": selectors.space_get(reader=reader, slug=payload.space)}
    return {}


def _follow_out(follow: Follow) -> dict[str, Any]:
    return {
        "kind": follow.kind,
        "question_id": follow.question_id,
        "tag": follow.tag.name if follow.tag else None,
        "space": follow.space.slug if follow.space else None,
    }


@router.post("/follows", response={200: FollowOut, **ERRORS}, summary="Follow a question, tag or space")
def follow(request: HttpRequest, payload: FollowIn) -> Status[Any]:
    def perform() -> tuple[int, Any]:
        member = member_get(brand=brand_of(request), member_id=payload.member_id)
        done = services.follow_set(member=member, **_follow_targets(payload, member))
        return 200, _json(FollowOut, _follow_out(done))

    return idempotent(request, {"follow": payload.model_dump(mode="json")}, perform)


@router.post("/follows/remove", response={200: dict[str, bool], **ERRORS}, summary="Stop following")
def unfollow(request: HttpRequest, payload: FollowIn) -> Status[Any]:
    def perform() -> tuple[int, Any]:
        member = member_get(brand=brand_of(request), member_id=payload.member_id)
        removed = services.follow_remove(member=member, **_follow_targets(payload, member))
        return 200, {"removed": removed}

    return idempotent(request, {"unfollow": payload.model_dump(mode="json")}, perform)


@router.get(
    "/members/{member_id}/notifications", response={200: NotificationsOut, **ERRORS}, summary="Notifications"
)
def notifications(request: HttpRequest, member_id: UUID) -> dict[str, Any]:
    member = member_get(brand=brand_of(request), member_id=member_id)
    found = selectors.notification_list(member=member)
    return {
        "unread": selectors.notification_unread_count(member=member),
        "notifications": [
            {
                "id": note.pk,
                "kind": note.kind,
                "question_id": note.question_id,
                "question_title": note.question.title,
                "post_id": note.post_id,
                "created_at": note.created_at,
                "read": note.read_at is not None,
            }
            for note in found
        ],
    }
