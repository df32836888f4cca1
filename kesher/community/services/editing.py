"""Editing a post, keeping each earlier version."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from kesher.community import pagecache
from kesher.community.models import Post, PostRevision, Tag
from kesher.community.services._posts import (
    body_hash_of,
    clean_body,
    clean_tags,
    clean_title,
    post_index,
    require_privilege,
)
from kesher.community.services.authors import Author
from kesher.core.audit import audit_record
from kesher.core.errors import Conflict, NotFound, ValidationFailed
from kesher.core.markup import render_markdown


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
            require_privilege(editor.member, "edit_others")
        if post.locked or (post.question is not None and post.question.locked):
            raise Conflict("This question is locked", code="question_locked")
    new_title = clean_title(title) if title is not None and post.kind == Post.Kind.QUESTION else post.title
    new_body = clean_body(body) if body is not None else post.body
    current_tags = list(post.tags.values_list("name", flat=True))
    new_tags = clean_tags(tags) if tags is not None and post.kind == Post.Kind.QUESTION else current_tags
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
    post.body_hash = body_hash_of(new_body)
    post.edited_at = now
    post.edit_count = F("edit_count") + 1  # type: ignore[assignment]
    post.save(update_fields=["title", "slug", "body", "body_html", "body_hash", "edited_at", "edit_count"])
    post.refresh_from_db()
    post_index(post)
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
