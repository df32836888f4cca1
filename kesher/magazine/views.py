"""The magazine's pages: the public index and articles of a brand, and the staff console that writes,
previews and publishes articles and composes an issue into a campaign."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kesher.brands.access import require_role, staff_membership
from kesher.brands.models import Brand, StaffMembership, StaffRole
from kesher.core.audit import Actor
from kesher.core.errors import KesherError, NotFound
from kesher.core.markup import render_markdown
from kesher.magazine import selectors, services
from kesher.magazine.forms import ArticleForm, IssueForm
from kesher.magazine.models import Article, ArticleStatus
from kesher.magazine.reading import reading_record
from kesher.members.models import Member, MemberStatus

# Who may do what. Every staff role may read the console.
WRITE_ARTICLES = {StaffRole.OWNER, StaffRole.MARKETER, StaffRole.MODERATOR}
PUBLISH_ARTICLES = {StaffRole.OWNER, StaffRole.MARKETER}
OG_LOCALES = {"he": "he_IL", "en": "en_US"}
PAGE_SIZE = 12


def _actor(request: HttpRequest) -> Actor:
    return Actor(user=request.user)  # type: ignore[arg-type]


def _brand(slug: str) -> Brand:
    return get_object_or_404(Brand, slug=slug)


def _direction(locale: str) -> str:
    return "rtl" if locale == "he" else "ltr"


def reader_member(request: HttpRequest, brand: Brand) -> Member | None:
    """The signed-in reader's club card in this brand, if they have one they may use."""
    if not request.user.is_authenticated:
        return None
    return (
        Member.objects.filter(user_id=request.user.pk, brand=brand)
        .exclude(status__in=[MemberStatus.ERASED, MemberStatus.BLOCKED])
        .first()
    )


# --- public pages ------------------------------------------------------------------------------------


def index(request: HttpRequest, brand_slug: str) -> HttpResponse:
    """The magazine's home: a member of the brand reads it in their own order (unread first, then their
    interests and freshness); everyone else in the editorial order, newest first."""
    brand = _brand(brand_slug)
    member = reader_member(request, brand)
    ordered = selectors.articles_for_reader(brand=brand, member=member)
    page = Paginator(ordered, PAGE_SIZE).get_page(request.GET.get("page"))
    canonical = request.build_absolute_uri(selectors.magazine_path(brand))
    if page.number > 1:
        canonical += f"?page={page.number}"
    return render(
        request,
        "magazine/index.html",
        {
            "brand": brand,
            "page": page,
            "articles": [(article, _direction(article.locale)) for article in page.object_list],
            "personal": member is not None,
            "canonical": canonical,
            "og": {
                "type": "website",
                "title": _("%(brand)s magazine") % {"brand": brand.name},
                "url": canonical,
                "locale": OG_LOCALES.get(brand.default_locale, "he_IL"),
            },
        },
    )


def _article_context(request: HttpRequest, article: Article, *, preview: bool = False) -> dict[str, Any]:
    url = request.build_absolute_uri(selectors.article_path(article))
    og = {
        "type": "article",
        "title": article.title,
        "description": article.summary,
        "url": url,
        "locale": OG_LOCALES[article.locale],
        "image": request.build_absolute_uri(article.cover.url) if article.cover else "",
        "published_time": article.published_at.isoformat() if article.published_at else "",
    }
    json_ld = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": article.title,
        "description": article.summary,
        "inLanguage": article.locale,
        "datePublished": og["published_time"],
        "publisher": {"@type": "Organization", "name": article.brand.name},
        "mainEntityOfPage": url,
    }
    return {
        "brand": article.brand,
        "article": article,
        "article_dir": _direction(article.locale),
        "canonical": url,
        "noindex": preview,
        "preview": preview,
        "og": og,
        # Escaped so a title can never close the script element.
        "json_ld": json.dumps(json_ld, ensure_ascii=False).replace("<", "\\u003c"),
    }


def article(request: HttpRequest, brand_slug: str, slug: str) -> HttpResponse:
    brand = _brand(brand_slug)
    try:
        found = selectors.article_public_get(brand=brand, slug=slug)
    except NotFound:
        raise Http404 from None
    context = _article_context(request, found)
    if reader_member(request, brand) is not None:
        # A fresh id per page view: every beacon of this view is one reading (kesher/magazine/reading.py).
        context["reading_id"] = uuid.uuid4()
    return render(request, "magazine/article.html", context)


def _beacon_refusal(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "field": field}}, status=status)


def _whole_number(raw: str | None) -> int | None:
    try:
        return int(str(raw if raw is not None else "0").strip())
    except ValueError:
        return None


@require_POST
def reading(request: HttpRequest, brand_slug: str) -> HttpResponse:
    """The reading beacon (kesher/magazine/static/magazine/reading.js): a form post, CSRF-checked like any
    other, of the article, the page view's reading id, the seconds the page was visible and how far down
    the article was read. 204 when kept; a refusal is JSON with a code, and nothing is kept."""
    brand = _brand(brand_slug)
    member = reader_member(request, brand)
    if member is None:
        return _beacon_refusal(403, "not_a_member", "Only the club's members' readings are kept")
    try:
        reading_id = uuid.UUID(request.POST.get("reading", ""))
    except ValueError:
        return _beacon_refusal(400, "invalid_reading", "reading must be the page's reading id", "reading")
    seconds = _whole_number(request.POST.get("seconds"))
    scroll = _whole_number(request.POST.get("scroll"))
    if seconds is None:
        return _beacon_refusal(400, "invalid_seconds", "seconds must be a whole number", "seconds")
    if scroll is None:
        return _beacon_refusal(400, "invalid_scroll", "scroll must be a whole number", "scroll")
    try:
        article = selectors.article_get(brand=brand, article_id=request.POST.get("article", ""))
        reading_record(member=member, article=article, reading_id=reading_id, seconds=seconds, scroll=scroll)
    except KesherError as refusal:
        return _beacon_refusal(refusal.status, refusal.code, refusal.message, refusal.field)
    return HttpResponse(status=204)


# --- the console -------------------------------------------------------------------------------------


def _console_context(membership: StaffMembership, **extra: Any) -> dict[str, Any]:
    return {
        "brand": membership.brand,
        "membership": membership,
        "may_write": membership.role in WRITE_ARTICLES or membership.user.is_superuser,
        "may_publish": membership.role in PUBLISH_ARTICLES or membership.user.is_superuser,
        **extra,
    }


@login_required
def console(request: HttpRequest, brand_slug: str) -> HttpResponse:
    membership = staff_membership(user=request.user, slug=brand_slug)
    brand = membership.brand
    published = list(selectors.articles_published(brand=brand)[:50])
    issue_form = IssueForm(articles=published, initial={"locale": brand.default_locale})
    return render(
        request,
        "magazine/console.html",
        _console_context(
            membership,
            articles=selectors.article_list(brand=brand),
            issue_form=issue_form,
            published=published,
        ),
    )


def _form_save(
    request: HttpRequest, membership: StaffMembership, form: ArticleForm, article: Article | None
) -> Article | None:
    """Create or change the article from a valid form; a refusal goes onto the form's field."""
    data = form.cleaned_data
    publish = request.POST.get("action") == "publish"
    if publish or (article is not None and article.status == ArticleStatus.PUBLISHED):
        require_role(membership, PUBLISH_ARTICLES)
    try:
        if article is None:
            return services.article_create(
                brand=membership.brand,
                title=data["title"],
                body=data["body"],
                summary=data["summary"],
                slug=data["slug"],
                locale=data["locale"],
                interests=data["interests"],
                cover=data.get("cover"),
                publish=publish,
                actor=_actor(request),
            )
        changes = {name: data[name] for name in ("title", "summary", "body", "slug", "locale", "interests")}
        if data.get("cover"):
            changes["cover"] = data["cover"]
        article = services.article_update(article=article, changes=changes, actor=_actor(request))
        if publish:
            article = services.article_publish(article=article, actor=_actor(request))
        return article
    except KesherError as refusal:
        form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
        return None


def _editor(request: HttpRequest, brand_slug: str, article: Article | None) -> HttpResponse:
    membership = staff_membership(user=request.user, slug=brand_slug)
    if article is not None and article.brand_id != membership.brand_id:
        raise Http404
    initial = ArticleForm.initial_for(article) if article else {"locale": membership.brand.default_locale}
    form = ArticleForm(request.POST or None, request.FILES or None, initial=initial)
    preview_html = ""
    status = 200
    if request.method == "POST":
        require_role(membership, WRITE_ARTICLES)
        action = request.POST.get("action", "save")
        if action == "unpublish" and article is not None:
            require_role(membership, PUBLISH_ARTICLES)
            services.article_unpublish(article=article, actor=_actor(request))
            messages.success(request, _("The article is a draft again; the public no longer sees it."))
            return HttpResponseRedirect(
                reverse("magazine:console_edit", args=[brand_slug, article.pk]), status=303
            )
        if form.is_valid():
            if action == "preview":
                preview_html = render_markdown(form.cleaned_data["body"])
            else:
                saved = _form_save(request, membership, form, article)
                if saved is not None:
                    messages.success(
                        request,
                        _("The article is published.")
                        if saved.status == ArticleStatus.PUBLISHED
                        else _("The draft is saved."),
                    )
                    return HttpResponseRedirect(
                        reverse("magazine:console_edit", args=[brand_slug, saved.pk]), status=303
                    )
        if form.errors:
            status = 422
    preview_locale = form.data.get("locale") if form.is_bound else (article.locale if article else "")
    return render(
        request,
        "magazine/console_edit.html",
        _console_context(
            membership,
            form=form,
            article=article,
            preview_html=preview_html,
            preview_dir=_direction(preview_locale or membership.brand.default_locale),
        ),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def console_new(request: HttpRequest, brand_slug: str) -> HttpResponse:
    return _editor(request, brand_slug, None)


@login_required
@require_http_methods(["GET", "POST"])
def console_edit(request: HttpRequest, brand_slug: str, article_id: str) -> HttpResponse:
    membership = staff_membership(user=request.user, slug=brand_slug)
    try:
        found = selectors.article_get(brand=membership.brand, article_id=article_id)
    except NotFound:
        raise Http404 from None
    return _editor(request, brand_slug, found)


@login_required
def console_preview(request: HttpRequest, brand_slug: str, article_id: str) -> HttpResponse:
    """The article as the public will see it, drafts included, for the brand's staff only."""
    membership = staff_membership(user=request.user, slug=brand_slug)
    try:
        found = selectors.article_get(brand=membership.brand, article_id=article_id)
    except NotFound:
        raise Http404 from None
    return render(request, "magazine/article.html", _article_context(request, found, preview=True))


@login_required
@require_POST
def console_issue(request: HttpRequest, brand_slug: str) -> HttpResponse:
    membership = staff_membership(user=request.user, slug=brand_slug)
    require_role(membership, PUBLISH_ARTICLES)
    brand = membership.brand
    published = list(selectors.articles_published(brand=brand)[:50])
    form = IssueForm(request.POST, articles=published)
    if form.is_valid():
        data = form.cleaned_data
        try:
            issue = services.magazine_issue_compose(
                brand=brand,
                article_ids=data["articles"],
                subject=data["subject"],
                intro=data["intro"],
                locale=data["locale"],
                advertising=data["advertising"],
                actor=_actor(request),
            )
        except KesherError as refusal:
            form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
        else:
            messages.success(request, _("The issue is ready as a campaign. Check it and send it from there."))
            try:
                target = reverse("campaigns:staff_detail", args=[issue.campaign_id])
            except NoReverseMatch:
                target = reverse("magazine:console", args=[brand_slug])
            return HttpResponseRedirect(target, status=303)
    return render(
        request,
        "magazine/console.html",
        _console_context(
            membership, articles=selectors.article_list(brand=brand), issue_form=form, published=published
        ),
        status=422,
    )
