"""The question page's posts rendered once and kept; each reader's own controls are laid over them.

A thread's posts (every status, each in the page's language) are rendered by one template into pieces
with named slots and kept under the question's version (pagecache.py), so any change to the thread
(an edit, a vote, an acceptance, a moderation action, a comment) is seen on the next request. Per
request only what belongs to the reader is worked out: which posts they may see (`access.post_shown`),
their vote buttons with their own vote pressed, accept, flag, comment, follow and merge forms, and the
view count. These are small strings built here, so a page costs the same few queries and a fraction of
the rendering whether a thread has 3 answers or 50.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import caches
from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from kesher.brands.models import Brand
from kesher.community import pagecache, selectors
from kesher.community.access import Reader, post_shown
from kesher.community.models import Flag, Post

# A kept post shows its absolute time; the page's script says it as "5 minutes ago" in the reader's
# language, so a kept post never shows a stale relative time. Kept a minute all the same.
FRAGMENT_TIMEOUT = 60
POST_MARK = "<!--kesher-post-->"
COMMENTS_MARK = "<!--kesher-comments-->"
COMMENT_MARK = "<!--kesher-comment-->"
SLOT = re.compile(r"<!--kesher-slot:(\w+)-->")
CONTROL = re.compile(r"<!--kesher-control:(\w+)-->")
POST_ID = "00000000-0000-4000-8000-00000000c0de"  # stands for each post's id in the controls' links


def author_label(post: Post) -> str:
    """A member as others see them: first name and the initial of the last."""
    member = post.author
    if member is None:
        return ""
    return f"{member.first_name} {member.last_name[:1]}." if member.last_name else member.first_name


@dataclass(frozen=True)
class PostPiece:
    """One kept post: what deciding the reader's controls needs, and its HTML split around the slots."""

    pk: uuid.UUID
    kind: str
    status: str
    author_id: uuid.UUID | None
    accepted: bool
    parts: tuple[str, ...]  # text, slot name, text, slot name, ..., text


@dataclass(frozen=True)
class CommentPiece:
    status: str
    author_id: uuid.UUID | None
    html: str


@dataclass(frozen=True)
class ThreadPieces:
    question: PostPiece
    answers: tuple[PostPiece, ...]  # page order: the accepted answer, then by votes
    comments: dict[uuid.UUID, tuple[CommentPiece, ...]]
    json_ld: str  # built from the published answers; shown only on public pages


def thread_pieces(
    request: HttpRequest,
    *,
    question: Post,
    hold_reasons: list[str],
    json_ld: Callable[[list[Post]], str],
) -> ThreadPieces:
    """The thread's kept pieces under the question's current version, rendered now when missing."""
    if not pagecache.may_cache_fragments():
        return _render(question=question, hold_reasons=hold_reasons, json_ld=json_ld)
    where = f"{request.get_host()}|{request.is_secure()}|{get_language()}"  # JSON-LD has absolute URLs
    key = f"community:thread:{question.pk}:{pagecache.versioned_digest(where, [('q', question.pk)])}"
    kept: ThreadPieces | None = caches["pages"].get(key)
    if kept is None:
        kept = _render(question=question, hold_reasons=hold_reasons, json_ld=json_ld)
        caches["pages"].set(key, kept, timeout=FRAGMENT_TIMEOUT)
    return kept


def _member_url_maker(brand_slug: str) -> Callable[[object], str]:
    """reverse() once, then fill in each author's id: a thread has many authors."""
    pattern = reverse("community:member", args=[brand_slug, POST_ID])
    return lambda ident: pattern.replace(POST_ID, str(ident))


def _render(*, question: Post, hold_reasons: list[str], json_ld: Callable[[list[Post]], str]) -> ThreadPieces:
    """Every post and comment of the thread, whatever its status; readers' views filter them."""
    answers, comments = selectors.thread_posts_all(question=question)
    prefetch_related_objects([question], "tags")  # no query when the tags are there already
    brand: Brand = question.brand
    member_url = _member_url_maker(brand.slug)
    posts = [question, *answers]
    for post in posts:
        post.is_accepted = post.pk == question.accepted_answer_id  # type: ignore[attr-defined]
        post.author_label = author_label(post)  # type: ignore[attr-defined]
        post.member_url = member_url(post.author_id) if post.author_id else ""  # type: ignore[attr-defined]
    # Comments in page order of their posts, so the rendered ones can be dealt back out in turn.
    ordered = [(post.pk, comment) for post in posts for comment in comments.get(post.pk, [])]
    for _parent, comment in ordered:
        comment.author_label = author_label(comment)  # type: ignore[attr-defined]
    html = render_to_string(
        "community/partials/thread_posts.html",
        {
            "brand": brand,
            "question": question,
            "space": question.space,
            "posts": posts,
            "comments": [comment for _parent, comment in ordered],
            "hold_reasons": hold_reasons,
        },
    )
    post_html, comment_html = html.split(COMMENTS_MARK)
    rendered_posts = post_html.split(POST_MARK)[1:]
    rendered_comments = comment_html.split(COMMENT_MARK)[1:]
    if len(rendered_posts) != len(posts) or len(rendered_comments) != len(ordered):
        raise RuntimeError(f"question {question.pk}: the rendered posts do not match their markers")
    pieces = [
        PostPiece(
            pk=post.pk,
            kind=post.kind,
            status=post.status,
            author_id=post.author_id,
            accepted=post.is_accepted,  # type: ignore[attr-defined]
            parts=tuple(SLOT.split(text)),
        )
        for post, text in zip(posts, rendered_posts, strict=True)
    ]
    kept_comments: dict[uuid.UUID, list[CommentPiece]] = {}
    for (parent, comment), text in zip(ordered, rendered_comments, strict=True):
        kept_comments.setdefault(parent, []).append(
            CommentPiece(status=comment.status, author_id=comment.author_id, html=text)
        )
    published = [answer for answer in answers if answer.status == Post.Status.PUBLISHED]
    return ThreadPieces(
        question=pieces[0],
        answers=tuple(pieces[1:]),
        comments={parent: tuple(found) for parent, found in kept_comments.items()},
        json_ld=json_ld(published),
    )


@dataclass(frozen=True)
class ThreadView:
    """What one reader sees of the kept thread."""

    question_html: SafeString
    answers_html: SafeString
    answer_count: int


def reader_view(
    pieces: ThreadPieces,
    *,
    request: HttpRequest,
    reader: Reader,
    question: Post,
    csrf_input: str,
    my_votes: dict[uuid.UUID, int],
    following: bool,
    may_accept: bool,
    may_comment: bool,
    may_merge: bool,
) -> ThreadView:
    """Lay the reader's own controls over the kept posts they may see."""
    kit = _control_kit(
        request,
        {
            "brand": reader.brand,
            "reader": reader,
            "question": question,
            "post_id": POST_ID,
            "csrf_input": csrf_input,
            "flag_reasons": Flag.Reason.choices,
            "following": following,
            "may_merge": may_merge,
        },
    )
    reader_id = reader.member.pk if reader.member is not None else None

    def lay(piece: PostPiece, slots: dict[str, str]) -> str:
        pk = str(piece.pk)
        if reader_id is not None and reader_id != piece.author_id:  # members vote and flag, not on their own
            mine = my_votes.get(piece.pk, 0)
            slots["vote_up"] = kit["vote_up_on" if mine == 1 else "vote_up"].replace(POST_ID, pk)
            slots["vote_down"] = kit["vote_down_on" if mine == -1 else "vote_down"].replace(POST_ID, pk)
            slots["flag"] = kit["flag"].replace(POST_ID, pk)
        if (
            may_accept
            and piece.kind == Post.Kind.ANSWER
            and not piece.accepted
            and piece.status == Post.Status.PUBLISHED
        ):
            slots["accept"] = kit["accept"].replace(POST_ID, pk)
        shown = [
            comment.html
            for comment in pieces.comments.get(piece.pk, ())
            if post_shown(reader, status=comment.status, author_id=comment.author_id)
        ]
        if shown:
            slots["comments"] = '\n      <ul class="comments small">' + "".join(shown) + "</ul>"
        if may_comment:
            slots["comment_form"] = kit["comment_form"].replace(POST_ID, pk)
        parts = piece.parts
        out = [parts[0]]
        for index in range(1, len(parts), 2):
            out.append(slots.get(parts[index], ""))
            out.append(parts[index + 1])
        return "".join(out)

    answers = [a for a in pieces.answers if post_shown(reader, status=a.status, author_id=a.author_id)]
    question_slots = {"follow": kit["follow"], "merge": kit["merge"], "views": kit["views"]}
    # Safe: the kept parts and the kit are rendered templates (autoescaped); ids are UUIDs.
    return ThreadView(
        question_html=mark_safe(lay(pieces.question, question_slots)),
        answers_html=mark_safe("".join(lay(answer, {}) for answer in answers)),
        answer_count=len(answers),
    )


def _control_kit(request: HttpRequest, context: dict[str, object]) -> dict[str, str]:
    """Each control's HTML for this reader, from one small template, with POST_ID where a post's id goes."""
    html = render_to_string("community/partials/post_controls.html", context, request=request)
    found = CONTROL.split(html)
    return {found[index]: found[index + 1].rstrip() for index in range(1, len(found), 2)}
