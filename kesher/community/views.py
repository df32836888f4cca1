"""The community's pages: spaces, questions, a question with its answers, asking, search, the sitemap.

Thin: find the brand and the reader, call one selector or service, render. Refusals become a message
on the page they came from; anything the reader may not see is a plain 404.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kesher.brands.access import support_brand
from kesher.brands.models import Brand, StaffMembership, StaffRole
from kesher.community import digests, fragments, pagecache, search, selectors, services
from kesher.community.access import Reader, reader_anonymous, reader_for_user, reader_staff
from kesher.community.models import DigestSettings, Post, Space, Tag
from kesher.core.audit import Actor
from kesher.core.errors import KesherError, NotFound
from kesher.core.markup import plain_text
from kesher.members.models import Member
from kesher.members.selectors import member_get

HOLD_REASONS = {
    "banned_words": gettext_lazy("words this community does not allow"),
    "too_many_links": gettext_lazy("many links from a new member"),
    "repeated_text": gettext_lazy("the same text was posted before"),
    "too_fast": gettext_lazy("posting too fast"),
    "flagged": gettext_lazy("members flagged it"),
}

# The services' refusals are in English for the API; pages show them in the reader's language.
REFUSALS = {
    "own_post": gettext_lazy("You cannot do that on your own post."),
    "reputation_too_low": gettext_lazy("You need more reputation for that."),
    "not_the_asker": gettext_lazy("Only the person who asked can accept an answer."),
    "question_locked": gettext_lazy("This question is locked."),
    "question_closed": gettext_lazy("This question is closed."),
    "member_suspended": gettext_lazy("Your participation in the community is suspended for now."),
    "member_inactive": gettext_lazy("Your club membership is not active."),
    "post_limit_reached": gettext_lazy("New members can post a few times a day. Please try again tomorrow."),
    "already_flagged": gettext_lazy("You already flagged this."),
    "not_a_member": gettext_lazy("Join the club to take part"),
    "announcements_only": gettext_lazy("Only the brand posts in announcements."),
}


def _refused(request: HttpRequest, exc: KesherError) -> None:
    known = REFUSALS.get(exc.code)
    if known is not None:
        messages.error(request, str(known))
    else:
        messages.error(request, _("That did not work: %(reason)s") % {"reason": exc.message})


def _brand(slug: str) -> Brand:
    return get_object_or_404(Brand, slug=slug)


def _reader(request: HttpRequest, brand: Brand) -> Reader:
    return reader_for_user(brand, request.user)


# Staff who speak for the brand in its community (an analyst reads the figures and does not post), and
# those who may accept an answer for the asker (it grants points and reputation).
SPEAKING_ROLES = (StaffRole.OWNER, StaffRole.MODERATOR, StaffRole.MARKETER, StaffRole.SERVICE_AGENT)
MODERATING_ROLES = (StaffRole.OWNER, StaffRole.MODERATOR)


def _staff_in(request: HttpRequest, brand: Brand, roles: tuple[StaffRole, ...]) -> bool:
    user_id = int(getattr(request.user, "pk", 0) or 0)
    return StaffMembership.objects.filter(brand=brand, user_id=user_id, role__in=roles).exists()


def _author(request: HttpRequest, reader: Reader) -> services.Author:
    """The signed-in person writes as their own member; staff with no member card write as the brand."""
    if reader.member is not None:
        return services.Author(member=reader.member)
    if reader.is_staff and _staff_in(request, reader.brand, SPEAKING_ROLES):
        return services.Author(by_brand=True, actor=Actor(user=request.user))  # type: ignore[arg-type]
    raise NotFound(_("Join the club to take part"), code="not_a_member")


def question_url(question: Post) -> str:
    brand_slug = question.brand.slug
    if question.slug:
        return reverse("community:question", args=[brand_slug, question.pk, question.slug])
    return reverse("community:question_short", args=[brand_slug, question.pk])


def _json_ld(data: dict[str, Any]) -> SafeString:
    text = json.dumps(data, ensure_ascii=False)
    # Nothing inside may close the script element.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return mark_safe(text)


def _person(post: Post) -> dict[str, Any]:
    from kesher.community.api import display_name

    return {"@type": "Organization" if post.by_brand else "Person", "name": display_name(post)}


def qa_page_ld(request: HttpRequest, thread: selectors.Thread) -> SafeString:
    """schema.org QAPage: the accepted answer as acceptedAnswer, the others as suggestedAnswer."""
    question = thread.question
    page = request.build_absolute_uri(question_url(question))

    def answer_ld(answer: Post) -> dict[str, Any]:
        return {
            "@type": "Answer",
            "text": plain_text(answer.body_html),
            "upvoteCount": answer.score,
            "dateCreated": answer.created_at.isoformat(),
            "url": f"{page}#answer-{answer.pk}",
            "author": _person(answer),
        }

    main: dict[str, Any] = {
        "@type": "Question",
        "name": question.title,
        "text": plain_text(question.body_html),
        "answerCount": len(thread.answers),
        "upvoteCount": question.score,
        "dateCreated": question.created_at.isoformat(),
        "author": _person(question),
    }
    accepted = [a for a in thread.answers if a.pk == question.accepted_answer_id]
    if accepted:
        main["acceptedAnswer"] = answer_ld(accepted[0])
    suggested = [answer_ld(a) for a in thread.answers if a.pk != question.accepted_answer_id]
    if suggested:
        main["suggestedAnswer"] = suggested
    return _json_ld({"@context": "https://schema.org", "@type": "QAPage", "mainEntity": main})


def _viewer_key(request: HttpRequest, reader: Reader) -> str:
    if reader.member is not None:
        return f"m:{reader.member.pk}"
    raw = f"{request.META.get('REMOTE_ADDR', '')}|{request.headers.get('User-Agent', '')}"
    return "a:" + hashlib.sha256(raw.encode()).hexdigest()[:24]


# --- reading -------------------------------------------------------------------------------------


@require_GET
def space_list(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand = _brand(brand_slug)
    if pagecache.may_cache(request):
        return pagecache.cached_page(
            request,
            name="spaces",
            scopes=[("b", brand.pk)],
            render_page=lambda extra: _space_list(request, brand, extra),
        )
    return _space_list(request, brand, {})


def _space_list(request: HttpRequest, brand: Brand, extra: dict[str, Any]) -> HttpResponse:
    reader = _reader(request, brand)
    spaces = selectors.space_list(reader=reader)
    recent = selectors.question_list(reader=reader, per_page=10).questions
    return render(
        request,
        "community/space_list.html",
        {"brand": brand, "spaces": spaces, "recent": recent, "reader": reader, **extra},
    )


@require_GET
def question_list(request: HttpRequest, brand_slug: str, space_slug: str) -> HttpResponse:
    brand = _brand(brand_slug)
    reader = _reader(request, brand)
    try:
        space = selectors.space_get(reader=reader, slug=space_slug)
    except KesherError:
        raise Http404 from None
    if pagecache.may_cache(request):
        return pagecache.cached_page(
            request,
            name="space",
            scopes=[("s", space.pk)],
            render_page=lambda extra: _question_list(request, reader, space, extra),
        )
    return _question_list(request, reader, space, {})


def _question_list(request: HttpRequest, reader: Reader, space: Space, extra: dict[str, Any]) -> HttpResponse:
    try:
        page = int(request.GET.get("page", "1") or 1)
        sort = request.GET.get("sort", "active")
        found = selectors.question_list(
            reader=reader, space=space, tag=request.GET.get("tag") or None, sort=sort, page=page
        )
    except (KesherError, ValueError):
        raise Http404 from None
    return render(
        request,
        "community/question_list.html",
        {
            "brand": reader.brand,
            "space": space,
            "page": found,
            "sort": sort,
            "sorts": _sorts(),
            "reader": reader,
            **extra,
        },
    )


def _sorts() -> list[tuple[str, str]]:
    return [
        ("active", _("Active")),
        ("newest", _("Newest")),
        ("votes", _("Most votes")),
        ("unanswered", _("Unanswered")),
    ]


@require_GET
def question_page(request: HttpRequest, brand_slug: str, question_id: str, slug: str = "") -> HttpResponse:
    brand = _brand(brand_slug)
    if pagecache.may_cache(request):
        response = pagecache.cached_page(
            request,
            name="question",
            scopes=[("q", question_id)],
            render_page=lambda extra: _question_page(request, brand, question_id, slug, extra),
        )
        if response.get("X-Community-Cache") == "hit":
            # The page came from the cache; the reader still counts as a view (once a day).
            services.question_view_register(
                question=Post(pk=question_id), viewer=_viewer_key(request, reader_anonymous(brand))
            )
        return response
    return _question_page(request, brand, question_id, slug, {})


def _question_page(
    request: HttpRequest, brand: Brand, question_id: str, slug: str, extra: dict[str, Any]
) -> HttpResponse:
    reader = _reader(request, brand)
    try:
        # Tags are only read when the thread's posts are rendered (fragments.py); a kept thread has them.
        question: Post | None = selectors.question_get(
            reader=reader, question_id=question_id, with_tags=False
        )
    except KesherError:
        question = None
    if question is None or question.status == Post.Status.MERGED:
        # A merged duplicate lives on as a permanent redirect to the question it was merged into.
        target = selectors.merged_into(reader=reader, question_id=question_id)
        if target is None:
            raise Http404
        return HttpResponseRedirect(question_url(target), status=301)
    if question.slug and slug != question.slug:
        return HttpResponseRedirect(question_url(question), status=301)
    services.question_view_register(question=question, viewer=_viewer_key(request, reader))
    public = question.space.is_public and question.status == Post.Status.PUBLISHED
    pieces = fragments.thread_pieces(
        request,
        question=question,
        hold_reasons=[str(HOLD_REASONS.get(r, r)) for r in question.hold_reasons],
        json_ld=lambda answers: qa_page_ld(request, selectors.Thread(question=question, answers=answers)),
    )
    may_accept = reader.is_staff or (reader.member is not None and reader.member.pk == question.author_id)
    signed_in = reader.member is not None or reader.is_staff
    my_votes: dict[Any, int] = {}
    if reader.member is not None:
        my_votes = selectors.votes_of(
            member=reader.member, post_ids=[pieces.question.pk, *(answer.pk for answer in pieces.answers)]
        )
    view = fragments.reader_view(
        pieces,
        request=request,
        reader=reader,
        question=question,
        # One hidden input for the page's many forms (the cached page swaps the placeholder it holds).
        csrf_input=format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">',
            extra.get("csrf_token") or get_token(request),
        )
        if signed_in
        else "",
        my_votes=my_votes,
        following=reader.member is not None
        and selectors.follows_question(member=reader.member, question=question),
        may_accept=may_accept,
        may_comment=signed_in and not question.locked,
        may_merge=reader.is_staff and question.status == Post.Status.PUBLISHED,
    )
    return render(
        request,
        "community/question.html",
        {
            "brand": brand,
            "reader": reader,
            "question": question,
            "space": question.space,
            "question_html": view.question_html,
            "answers_html": view.answers_html,
            "answer_count": view.answer_count,
            "canonical": request.build_absolute_uri(question_url(question)),
            "noindex": not public,
            "json_ld": mark_safe(pieces.json_ld) if public else "",  # made safe for a script by qa_page_ld
            **extra,
        },
    )


@require_GET
def search_page(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand = _brand(brand_slug)
    if pagecache.may_cache(request):
        # Any change in the brand's community moves the brand's version, so results are never stale.
        return pagecache.cached_page(
            request,
            name="search",
            scopes=[("b", brand.pk)],
            render_page=lambda extra: _search_page(request, brand, extra),
        )
    return _search_page(request, brand, {})


def _search_page(request: HttpRequest, brand: Brand, extra: dict[str, Any]) -> HttpResponse:
    reader = _reader(request, brand)
    q = request.GET.get("q", "").strip()[:200]
    hits = search.search_posts(reader=reader, q=q) if q else []
    return render(
        request, "community/search.html", {"brand": brand, "q": q, "hits": hits, "reader": reader, **extra}
    )


@require_GET
def suggest(request: HttpRequest, brand_slug: str) -> HttpResponse:
    """The "already asked?" list for a title being typed (a partial, fetched as the member types)."""
    brand = _brand(brand_slug)
    title = request.GET.get("title", "")[:200]
    found = search.questions_similar(reader=_reader(request, brand), title=title) if len(title) >= 3 else []
    return render(request, "community/partials/suggestions.html", {"brand": brand, "questions": found})


@require_GET
def member_page(request: HttpRequest, brand_slug: str, member_id: str) -> HttpResponse:
    brand = _brand(brand_slug)
    try:
        member = member_get(brand=brand, member_id=member_id)
    except KesherError:
        raise Http404 from None
    found = selectors.member_community(reader=_reader(request, brand), member=member)
    badges = [(badge, _(services.BADGES.get(badge.code, badge.code))) for badge in found.badges]
    return render(
        request,
        "community/member.html",
        {"brand": brand, "profile": found, "badges": badges, "noindex": True},
    )


@require_GET
def sitemap(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand = _brand(brand_slug)
    questions = selectors.sitemap_questions(brand=brand)
    for question in questions:
        question.brand = brand  # the URL needs the brand's slug; it is the same brand for all
    entries = [(request.build_absolute_uri(question_url(q)), q.last_activity_at) for q in questions]
    return render(request, "community/sitemap.xml", {"entries": entries}, content_type="application/xml")


# --- writing -------------------------------------------------------------------------------------


@login_required
def ask(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand = _brand(brand_slug)
    reader = _reader(request, brand)
    spaces = [
        space
        for space in selectors.space_list(reader=reader)
        if space.kind != Space.Kind.ANNOUNCEMENTS or reader.is_staff
    ]
    form = {"space": request.GET.get("space", "general"), "title": "", "body": "", "tags": ""}
    if request.method == "POST":
        form = {key: request.POST.get(key, "") for key in form}
        try:
            author = _author(request, reader)
            space = selectors.space_get(reader=reader, slug=form["space"])
            question = services.question_ask(
                space=space,
                author=author,
                title=form["title"],
                body=form["body"],
                tags=[tag for tag in form["tags"].replace(",", " ").split() if tag],
            )
        except KesherError as exc:
            _refused(request, exc)
        else:
            if question.status == Post.Status.HELD:
                messages.info(
                    request, _("Thank you. Your question will appear after a moderator reviews it.")
                )
            return redirect(question_url(question))
    return render(
        request,
        "community/ask.html",
        {"brand": brand, "spaces": spaces, "form": form, "reader": reader, "noindex": True},
    )


def _back(request: HttpRequest, post: Post | None = None) -> HttpResponse:
    if post is not None:
        question = post if post.kind == Post.Kind.QUESTION else post.question
        if question is not None:
            return redirect(question_url(question))
    return redirect(request.META.get("HTTP_REFERER") or "/")


def _post_or_404(reader: Reader, post_id: str, kind: str | None = None) -> Post:
    try:
        return selectors.post_get(reader=reader, post_id=post_id, kind=kind)
    except KesherError:
        raise Http404 from None


@login_required
@require_POST
def answer(request: HttpRequest, brand_slug: str, question_id: str) -> HttpResponse:
    reader = _reader(request, _brand(brand_slug))
    question = _post_or_404(reader, question_id, Post.Kind.QUESTION)
    try:
        posted = services.answer_post(
            question=question, author=_author(request, reader), body=request.POST.get("body", "")
        )
    except KesherError as exc:
        _refused(request, exc)
    else:
        if posted.status == Post.Status.HELD:
            messages.info(request, _("Thank you. Your answer will appear after a moderator reviews it."))
    return _back(request, question)


@login_required
@require_POST
def comment(request: HttpRequest, brand_slug: str, post_id: str) -> HttpResponse:
    reader = _reader(request, _brand(brand_slug))
    parent = _post_or_404(reader, post_id)
    try:
        posted = services.comment_post(
            parent=parent, author=_author(request, reader), body=request.POST.get("body", "")
        )
    except KesherError as exc:
        _refused(request, exc)
    else:
        if posted.status == Post.Status.HELD:
            messages.info(request, _("Thank you. Your comment will appear after a moderator reviews it."))
    return _back(request, parent)


@login_required
@require_POST
def vote(request: HttpRequest, brand_slug: str, post_id: str) -> HttpResponse:
    reader = _reader(request, _brand(brand_slug))
    post = _post_or_404(reader, post_id)
    try:
        if reader.member is None:
            raise NotFound(_("Join the club to take part"), code="not_a_member")
        services.vote_cast(post=post, member=reader.member, value=int(request.POST.get("value", "0")))
    except KesherError as exc:
        _refused(request, exc)
    except ValueError:
        messages.error(request, _("That vote is not valid"))
    return _back(request, post)


@login_required
@require_POST
def accept(request: HttpRequest, brand_slug: str, answer_id: str) -> HttpResponse:
    reader = _reader(request, _brand(brand_slug))
    answer_post = _post_or_404(reader, answer_id, Post.Kind.ANSWER)
    try:
        if (
            reader.member is not None
            and answer_post.question
            and answer_post.question.author_id == reader.member.pk
        ):
            services.answer_accept(answer=answer_post, member=reader.member)
        elif reader.is_staff and _staff_in(request, reader.brand, MODERATING_ROLES):
            services.answer_accept(answer=answer_post, staff=Actor(user=request.user))  # type: ignore[arg-type]
        else:
            services.answer_accept(answer=answer_post, member=reader.member)
    except KesherError as exc:
        _refused(request, exc)
    return _back(request, answer_post)


@login_required
@require_POST
def flag(request: HttpRequest, brand_slug: str, post_id: str) -> HttpResponse:
    reader = _reader(request, _brand(brand_slug))
    post = _post_or_404(reader, post_id)
    try:
        if reader.member is None:
            raise NotFound(_("Join the club to take part"), code="not_a_member")
        services.flag_create(
            post=post,
            reporter=reader.member,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
    except KesherError as exc:
        _refused(request, exc)
    else:
        messages.info(request, _("Thank you. A moderator will look at it."))
    return _back(request, post)


# --- moderation ----------------------------------------------------------------------------------


def _moderator_or_404(request: HttpRequest, brand: Brand) -> Actor:
    """Owners and moderators of this brand; for anyone else the queue does not exist."""
    if not (_staff_in(request, brand, MODERATING_ROLES) or support_brand(user=request.user, brand=brand)):
        raise Http404
    return Actor(user=request.user)  # type: ignore[arg-type]


@login_required
@require_GET
def moderation_queue(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand = _brand(brand_slug)
    _moderator_or_404(request, brand)
    items = selectors.moderation_queue(brand=brand)
    rows = [
        (
            item,
            [HOLD_REASONS.get(reason, reason) for reason in item.post.hold_reasons],
            question_url(item.post if item.post.kind == Post.Kind.QUESTION else item.post.question),  # type: ignore[arg-type]
        )
        for item in items
    ]
    return render(
        request,
        "community/moderation.html",
        {"brand": brand, "rows": rows, "reader": reader_staff(brand), "noindex": True},
    )


@login_required
@require_POST
def moderation_act(request: HttpRequest, brand_slug: str, post_id: str) -> HttpResponse:
    """Hide (as spam or not), restore or approve a held post; the services write the audit rows."""
    brand = _brand(brand_slug)
    actor = _moderator_or_404(request, brand)
    post = _post_or_404(reader_staff(brand), post_id)
    action = request.POST.get("action", "")
    reason = request.POST.get("reason", "")[:300]
    try:
        if action == "hide":
            services.post_hide(post=post, actor=actor, reason=reason, spam=request.POST.get("spam") == "1")
            messages.success(request, _("The post is hidden."))
        elif action in ("restore", "approve"):
            services.post_restore(post=post, actor=actor, reason=reason)
            messages.success(request, _("The post is published."))
        else:
            messages.error(request, _("Choose hide, restore or approve."))
    except KesherError as exc:
        _refused(request, exc)
    return redirect("community:moderation", brand.slug)


QUESTION_ID_IN = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)


@login_required
@require_POST
def merge(request: HttpRequest, brand_slug: str, question_id: str) -> HttpResponse:
    """A moderator merges this question into another, named by its id or its address."""
    brand = _brand(brand_slug)
    actor = _moderator_or_404(request, brand)
    staff = reader_staff(brand)
    question = _post_or_404(staff, question_id, Post.Kind.QUESTION)
    found = QUESTION_ID_IN.search(request.POST.get("into", ""))
    try:
        if found is None:
            raise NotFound(_("No such question"), code="question_not_found")
        into = selectors.question_get(reader=staff, question_id=found.group(0))
        done = services.question_merge(
            question=question, into=into, actor=actor, reason=request.POST.get("reason", "")[:200]
        )
    except KesherError as exc:
        _refused(request, exc)
        return redirect(question_url(question))
    messages.success(request, _("The question was merged into this one."))
    return redirect(question_url(done.into))


# --- follows and notifications -------------------------------------------------------------------


def _member_or_404(request: HttpRequest, brand: Brand) -> Member:
    member = _reader(request, brand).member
    if member is None:
        raise Http404
    return member


@login_required
@require_POST
def follow(request: HttpRequest, brand_slug: str) -> HttpResponse:
    """Follow or stop following one question, tag or space (named in the form) the member may see."""
    brand = _brand(brand_slug)
    reader = _reader(request, brand)
    if reader.member is None:
        raise Http404
    question = tag = space = None
    back: HttpResponse | None = None
    try:
        if request.POST.get("question"):
            question = selectors.question_get(reader=reader, question_id=request.POST["question"])
            back = redirect(question_url(question))
        elif request.POST.get("tag"):
            tag = get_object_or_404(Tag, brand=brand, name=request.POST["tag"])
        elif request.POST.get("space"):
            space = selectors.space_get(reader=reader, slug=request.POST["space"])
        if request.POST.get("action") == "unfollow":
            services.follow_remove(member=reader.member, question=question, tag=tag, space=space)
            messages.info(request, _("You no longer follow this."))
        else:
            services.follow_set(member=reader.member, question=question, tag=tag, space=space)
            messages.info(request, _("You will hear of new answers here."))
    except KesherError:
        raise Http404 from None
    return back or _back(request)


@login_required
@require_GET
def notifications(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand = _brand(brand_slug)
    member = _member_or_404(request, brand)
    found = selectors.notification_list(member=member)
    unread = selectors.notification_unread_count(member=member)
    rows = [(note, question_url(note.question)) for note in found]
    response = render(
        request,
        "community/notifications.html",
        {
            "brand": brand,
            "rows": rows,
            "unread": unread,
            "reader": _reader(request, brand),
            "noindex": True,
            "digest_frequency": digests.digest_frequency(member),
            "digest_choices": DigestSettings.Frequency.choices,
        },
    )
    return response


@login_required
@require_POST
def notifications_read(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand = _brand(brand_slug)
    services.notifications_mark_read(member=_member_or_404(request, brand))
    return redirect("community:notifications", brand.slug)


@login_required
@require_POST
def digest_settings(request: HttpRequest, brand_slug: str) -> HttpResponse:
    """The member chooses the email digest of what they follow: off, daily or weekly."""
    brand = _brand(brand_slug)
    member = _member_or_404(request, brand)
    try:
        digests.digest_frequency_set(member=member, frequency=request.POST.get("frequency", ""))
    except KesherError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Your digest setting is saved."))
    return redirect(reverse("community:notifications", args=[brand.slug]) + "#digest")


@csrf_exempt  # RFC 8058: the mail provider POSTs without a session; the signed token is the credential
@require_http_methods(["GET", "POST"])
def digest_unsubscribe(request: HttpRequest, brand_slug: str, token: str) -> HttpResponse:
    """GET shows one button (mail scanners follow links, so a GET changes nothing); POST, from that button
    or the mail provider's one-click, turns the member's digests off at once, without signing in."""
    brand = _brand(brand_slug)
    member = digests.unsubscribe_member(token)
    if member is None or member.brand_id != brand.pk:
        raise Http404
    done = False
    if request.method == "POST":
        digests.digest_frequency_set(member=member, frequency=DigestSettings.Frequency.OFF)
        done = True
    response = render(request, "community/digest_unsubscribe.html", {"brand": brand, "done": done})
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
