"""The topics editor of the listening console: the brand's topics with their Hebrew and English keywords,
add one, change its keywords, delete it. Everyone who sees the mentions sees the topics; the owner and
the marketer change them (each change audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kesher.brands import access
from kesher.brands.access import may, require_role, staff_membership
from kesher.brands.models import Brand, StaffMembership, StaffRole
from kesher.core.audit import Actor
from kesher.core.errors import KesherError
from kesher.listening.topics import selectors, services

SEE = access.HEAR_CUSTOMERS
CHANGE = {StaffRole.OWNER, StaffRole.MARKETER}


def _staff(request: HttpRequest, slug: str, roles: set[StaffRole]) -> tuple[StaffMembership, Brand, Actor]:
    membership = staff_membership(user=request.user, slug=slug)
    brand = require_role(membership, roles)
    return membership, brand, Actor(user=request.user)  # type: ignore[arg-type]


def _back(slug: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("listening:topics", args=[slug]), status=303)


def _refused(request: HttpRequest, refusal: KesherError) -> None:
    messages.error(request, _refusal_text(refusal))


def _refusal_text(refusal: KesherError) -> str:
    texts = {
        "invalid_name": _("A topic's name is one word of letters, digits, - or _ (at most 40 characters)."),
        "topic_exists": _("The brand already has a topic by this name."),
        "no_keywords": _("Give the topic at least one keyword."),
        "too_many_keywords": _("A topic has at most 100 keywords."),
        "keyword_too_long": _("A keyword is at most 60 characters."),
        "too_many_topics": _("A brand has at most 50 topics."),
        "topic_not_found": _("There is no such topic."),
    }
    return texts.get(refusal.code or "", _("The topic could not be saved."))


@login_required
@require_GET
def topics(request: HttpRequest, slug: str) -> HttpResponse:
    membership, brand, _actor = _staff(request, slug, SEE)
    return render(
        request,
        "listening/topics.html",
        {
            "brand": brand,
            "membership": membership,
            "topics": selectors.topic_list(brand=brand),
            "may_change": may(membership, CHANGE),
            "may_run": may(membership, CHANGE),
        },
    )


@login_required
@require_POST
def topic_create(request: HttpRequest, slug: str) -> HttpResponse:
    _membership, brand, actor = _staff(request, slug, CHANGE)
    try:
        topic = services.topic_create(
            brand=brand,
            name=request.POST.get("name", ""),
            keywords_he=request.POST.get("keywords_he", ""),
            keywords_en=request.POST.get("keywords_en", ""),
            actor=actor,
        )
    except KesherError as refusal:
        _refused(request, refusal)
        return _back(slug)
    messages.success(request, _("Topic “%(name)s” added.") % {"name": topic.name})
    return _back(slug)


@login_required
@require_POST
def topic_update(request: HttpRequest, slug: str, topic_id: Any) -> HttpResponse:
    _membership, brand, actor = _staff(request, slug, CHANGE)
    try:
        topic = selectors.topic_get(brand=brand, topic_id=topic_id)
        services.topic_update(
            topic=topic,
            keywords_he=request.POST.get("keywords_he", ""),
            keywords_en=request.POST.get("keywords_en", ""),
            actor=actor,
        )
    except KesherError as refusal:
        if refusal.code == "topic_not_found":
            raise
        _refused(request, refusal)
        return _back(slug)
    messages.success(request, _("Keywords of “%(name)s” saved.") % {"name": topic.name})
    return _back(slug)


@login_required
@require_POST
def topic_delete(request: HttpRequest, slug: str, topic_id: Any) -> HttpResponse:
    _membership, brand, actor = _staff(request, slug, CHANGE)
    topic = selectors.topic_get(brand=brand, topic_id=topic_id)
    services.topic_delete(topic=topic, actor=actor)
    messages.success(request, _("Topic “%(name)s” deleted.") % {"name": topic.name})
    return _back(slug)
