"""Commenting on a question or an answer."""

from __future__ import annotations

from django.db import transaction

from kesher.community.access import reader_member, space_visible
from kesher.community.models import Post
from kesher.community.services._posts import lock_question, new_post
from kesher.community.services.authors import Author
from kesher.core.errors import Conflict, NotFound, ValidationFailed


@transaction.atomic
def comment_post(*, parent: Post, author: Author, body: str) -> Post:
    if parent.kind == Post.Kind.COMMENT:
        raise ValidationFailed("comment on a question or an answer", field="parent")
    question = parent if parent.kind == Post.Kind.QUESTION else parent.question
    assert question is not None
    question = lock_question(question)
    if author.member is not None and not space_visible(question.space, reader_member(author.member)):
        raise NotFound("No such post", code="post_not_found")
    if question.locked:
        raise Conflict("This question is locked", code="question_locked")
    if len(body) > 1000:
        raise ValidationFailed("a comment is at most 1000 characters", field="body")
    return new_post(
        space=question.space,
        kind=Post.Kind.COMMENT,
        author=author,
        body=body,
        question=question,
        parent=parent,
    )
