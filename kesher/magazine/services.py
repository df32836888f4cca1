"""Every write to the magazine: articles (written, published, withdrawn) and issues made into campaigns."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext

from kesher.brands.models import Brand
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, ValidationFailed
from kesher.core.images import image_store
from kesher.core.markup import render_markdown
from kesher.magazine.models import Article, ArticleLocale, ArticleStatus, Issue
from kesher.magazine.selectors import article_path, issue_articles, magazine_path
from kesher.members.normalize import normalize_interests

if TYPE_CHECKING:
    from kesher.campaigns.models import Segment

MAX_BODY = 50_000
MAX_INTERESTS = 10
MAX_ISSUE_ARTICLES = 12  # short by design: an issue is a handful of pieces, not the archive
# An interest is written into a campaign template as a quoted literal, so only plain words are allowed.
INTEREST = re.compile(r"^[\w\- ]+$")
END_VERBATIM = re.compile(r"{%\s*endverbatim\s*%}")


def _clean_text(value: str, *, field: str, limit: int, required: bool = False) -> str:
    value = " ".join((value or "").split())
    if required and not value:
        raise ValidationFailed(f"{field} is required", field=field)
    if len(value) > limit:
        raise ValidationFailed(f"{field} is longer than {limit} characters", field=field)
    return value


def _clean_interests(raw: list[str] | None) -> list[str]:
    interests = normalize_interests(raw)
    for tag in interests:
        if not INTEREST.match(tag):
            raise ValidationFailed(
                f"interest {tag!r} may hold only letters, digits, spaces and dashes", field="interests"
            )
    if len(interests) > MAX_INTERESTS:
        raise ValidationFailed(f"at most {MAX_INTERESTS} interests", field="interests")
    return interests


def _clean_body(body: str) -> str:
    if not (body or "").strip():
        raise ValidationFailed("body is required", field="body")
    if len(body) > MAX_BODY:
        raise ValidationFailed(f"body is longer than {MAX_BODY} characters", field="body")
    return body.strip()


def _free_slug(brand: Brand, wanted: str, *, exclude: Article | None = None) -> str:
    """The slug from the title, with -2, -3 ... when another article of the brand has it."""
    taken = Article.objects.filter(brand=brand, slug__startswith=wanted)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    names = set(taken.values_list("slug", flat=True))
    candidate, number = wanted, 1
    while candidate in names:
        number += 1
        candidate = f"{wanted[:110]}-{number}"
    return candidate


def _clean_slug(brand: Brand, raw: str, title: str, *, exclude: Article | None = None) -> str:
    if raw.strip():
        slug = slugify(raw, allow_unicode=True)[:120]
        if not slug:
            raise ValidationFailed("slug must have letters or digits", field="slug")
        others = Article.objects.filter(brand=brand, slug=slug)
        if exclude is not None:
            others = others.exclude(pk=exclude.pk)
        if others.exists():
            raise Conflict(f"Another article has the slug {slug!r}", field="slug", code="duplicate_slug")
        return slug
    slug = slugify(title, allow_unicode=True)[:100] or "article"
    return _free_slug(brand, slug, exclude=exclude)


def _audit_data(article: Article) -> dict[str, Any]:
    return {"title": article.title, "slug": article.slug, "status": article.status, "locale": article.locale}


def _cover_store(brand: Brand, cover: File[Any]) -> str:
    """The cover as a member will get it: upright, at most 2048 px, with no EXIF or GPS (core/images.py)."""
    cover.seek(0)
    return image_store(cover.read(), folder=f"magazine/{brand.slug}", field="cover").name


def article_create(
    *,
    brand: Brand,
    title: str,
    body: str,
    summary: str = "",
    slug: str = "",
    locale: str | None = None,
    interests: list[str] | None = None,
    cover: File[Any] | None = None,
    publish: bool = False,
    actor: Actor = SYSTEM,
) -> Article:
    title = _clean_text(title, field="title", limit=200, required=True)
    summary = _clean_text(summary, field="summary", limit=300)
    body = _clean_body(body)
    locale = locale or brand.default_locale
    if locale not in ArticleLocale.values:
        raise ValidationFailed("locale must be he or en", field="locale")
    clean_interests = _clean_interests(interests)
    now = timezone.now()
    with transaction.atomic():
        article = Article(
            brand=brand,
            locale=locale,
            title=title,
            slug=_clean_slug(brand, slug, title),
            summary=summary,
            body=body,
            body_html=render_markdown(body),
            interests=clean_interests,
            status=ArticleStatus.PUBLISHED if publish else ArticleStatus.DRAFT,
            published_at=now if publish else None,
            author=actor.user,  # type: ignore[misc]
        )
        if cover is not None:
            article.cover.name = _cover_store(brand, cover)
        try:
            with transaction.atomic():
                article.save()
        except IntegrityError:  # a concurrent article took the slug
            raise Conflict("Another article has this slug", field="slug", code="duplicate_slug") from None
        audit_record(
            brand=brand,
            actor=actor,
            action="article.publish" if publish else "article.create",
            target_type="article",
            target_id=article.pk,
            data=_audit_data(article),
        )
    return article


EDITABLE = {"title", "summary", "body", "slug", "locale", "interests", "cover"}


@transaction.atomic
def article_update(*, article: Article, changes: dict[str, Any], actor: Actor = SYSTEM) -> Article:
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationFailed(f"{sorted(unknown)[0]} cannot be changed here", field=sorted(unknown)[0])
    article = Article.objects.select_for_update().get(pk=article.pk)
    before = _audit_data(article)
    fields: list[str] = []
    if "title" in changes:
        article.title = _clean_text(changes["title"], field="title", limit=200, required=True)
        fields.append("title")
    if "summary" in changes:
        article.summary = _clean_text(changes["summary"], field="summary", limit=300)
        fields.append("summary")
    if "body" in changes:
        article.body = _clean_body(changes["body"])
        article.body_html = render_markdown(article.body)
        fields += ["body", "body_html"]
    if "slug" in changes and changes["slug"] is not None and changes["slug"].strip() != article.slug:
        article.slug = _clean_slug(article.brand, changes["slug"], article.title, exclude=article)
        fields.append("slug")
    if "locale" in changes:
        if changes["locale"] not in ArticleLocale.values:
            raise ValidationFailed("locale must be he or en", field="locale")
        article.locale = changes["locale"]
        fields.append("locale")
    if "interests" in changes:
        article.interests = _clean_interests(changes["interests"])
        fields.append("interests")
    if changes.get("cover") is not None:
        article.cover.name = _cover_store(article.brand, changes["cover"])
        fields.append("cover")
    if fields:
        article.save(update_fields=[*fields, "updated_at"])
        audit_record(
            brand=article.brand,
            actor=actor,
            action="article.update",
            target_type="article",
            target_id=article.pk,
            data={"before": before, "after": _audit_data(article), "fields": sorted(set(fields))},
        )
    return article


@transaction.atomic
def article_publish(*, article: Article, actor: Actor = SYSTEM, at: datetime | None = None) -> Article:
    """Make an article public; a republished article keeps the date it first came out."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status == ArticleStatus.PUBLISHED:
        return article
    article.status = ArticleStatus.PUBLISHED
    article.published_at = article.published_at or at or timezone.now()
    article.save(update_fields=["status", "published_at", "updated_at"])
    audit_record(
        brand=article.brand,
        actor=actor,
        action="article.publish",
        target_type="article",
        target_id=article.pk,
        data=_audit_data(article),
    )
    return article


@transaction.atomic
def article_unpublish(*, article: Article, actor: Actor = SYSTEM) -> Article:
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status == ArticleStatus.DRAFT:
        return article
    article.status = ArticleStatus.DRAFT
    article.save(update_fields=["status", "updated_at"])
    audit_record(
        brand=article.brand,
        actor=actor,
        action="article.unpublish",
        target_type="article",
        target_id=article.pk,
        data=_audit_data(article),
    )
    return article


# --- issues ------------------------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return f"{settings.KESHER_BASE_URL.rstrip('/')}{path}"


def _literal(text: str) -> str:
    """Article text inside a campaign template: shown as written, never read as template code."""
    return "{% verbatim %}" + END_VERBATIM.sub("", text) + "{% endverbatim %}"


def _entry(article: Article) -> str:
    lines = [article.title, article.summary, _absolute(article_path(article))]
    return _literal("\n".join(line for line in lines if line)) + "\n\n"


def _shown_if(condition: str, text: str) -> str:
    return f"{{% if {condition} %}}{text}{{% endif %}}"


def _any_of(article: Article) -> str:
    return " or ".join(f'"{tag}" in interests' for tag in article.interests)


def _none_of(article: Article) -> str:
    return " and ".join(f'"{tag}" not in interests' for tag in article.interests)


def issue_blocks(articles: Sequence[Article]) -> list[dict[str, Any]]:
    """The campaign's content blocks: one per interest the articles are for, in the order staff picked.

    Campaigns choose the first block about one of the member's interests, so a member gets the block of
    the first picked interest they have: its articles lead, then (by template conditions on the member's
    interests) the other articles for them, then the rest, each group in the order staff picked. A member
    with none of these interests gets the last block, every article in the staff's order.
    """
    tags: list[str] = []
    for article in articles:
        tags += [tag for tag in article.interests if tag not in tags]
    blocks = []
    for tag in tags:
        lead = [article for article in articles if tag in article.interests]
        others = [article for article in articles if tag not in article.interests]
        text = "".join(_entry(article) for article in lead)
        text += "".join(_shown_if(_any_of(a), _entry(a)) for a in others if a.interests)
        text += "".join(_shown_if(_none_of(a), _entry(a)) if a.interests else _entry(a) for a in others)
        blocks.append({"interests": [tag], "text": text})
    blocks.append({"interests": [], "text": "".join(_entry(article) for article in articles)})
    return blocks


def issue_body(*, brand: Brand, locale: str, intro: str) -> str:
    with translation.override(locale):
        greeting = gettext("Hello %(name)s,") % {"name": "{{ first_name }}"}
        lead = gettext("The new issue of our magazine is here. What we picked for you comes first:")
        everything = gettext("Every article: %(url)s") % {"url": _absolute(magazine_path(brand))}
    parts = [greeting, intro.strip(), lead, "{{ block }}", everything]
    return "\n\n".join(part for part in parts if part)


@transaction.atomic
def magazine_issue_compose(
    *,
    brand: Brand,
    article_ids: Sequence[uuid.UUID | str],
    subject: str,
    intro: str = "",
    locale: str | None = None,
    channel: str = "email",
    advertising: bool = True,
    segment: Segment | None = None,
    actor: Actor = SYSTEM,
) -> Issue:
    """Turn the picked published articles into a campaign (not sent: staff send it from the campaign)."""
    from kesher.campaigns.services import campaign_create

    subject = _clean_text(subject, field="subject", limit=300, required=True)
    if not article_ids:
        raise ValidationFailed("pick at least one article", field="articles")
    if len(article_ids) > MAX_ISSUE_ARTICLES:
        raise ValidationFailed(f"an issue has at most {MAX_ISSUE_ARTICLES} articles", field="articles")
    articles = issue_articles(brand=brand, article_ids=article_ids)
    locale = locale or brand.default_locale
    if locale not in ArticleLocale.values:
        raise ValidationFailed("locale must be he or en", field="locale")
    with translation.override(locale):
        name = gettext("Magazine: %(subject)s") % {"subject": subject}
    campaign = campaign_create(
        brand=brand,
        name=name[:200],
        channel=channel,
        subject=subject,
        body=issue_body(brand=brand, locale=locale, intro=intro),
        advertising=advertising,
        segment=segment,
        locale=locale,
        blocks=issue_blocks(articles),
        actor=actor,
    )
    issue = Issue.objects.create(
        brand=brand,
        subject=subject,
        articles=[str(article.pk) for article in articles],
        campaign=campaign,
        created_by=actor.label,
    )
    audit_record(
        brand=brand,
        actor=actor,
        action="magazine.issue_compose",
        target_type="magazine_issue",
        target_id=issue.pk,
        data={"campaign": str(campaign.pk), "articles": issue.articles, "subject": subject},
    )
    return issue
