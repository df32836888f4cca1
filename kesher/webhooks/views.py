"""The owners' webhooks console: endpoints with their health, create (the secret shown once), edit events,
enable or disable, rotate, delete; an endpoint's delivery log with its attempts, and replay."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kesher.brands.access import require_role, staff_membership
from kesher.brands.models import Brand, StaffMembership, StaffRole
from kesher.core.audit import Actor
from kesher.core.errors import KesherError
from kesher.core.events import event_types
from kesher.webhooks import selectors, services
from kesher.webhooks.forms import EndpointForm, EventsForm
from kesher.webhooks.models import Endpoint

OWNERS = {StaffRole.OWNER}
PAGE_SIZE = 25


def _owner(request: HttpRequest, slug: str) -> tuple[StaffMembership, Brand, Actor]:
    membership = staff_membership(user=request.user, slug=slug)
    brand = require_role(membership, OWNERS)
    return membership, brand, Actor(user=request.user)  # type: ignore[arg-type]


def _back(slug: str, webhook_id: Any = None) -> HttpResponseRedirect:
    if webhook_id is None:
        return HttpResponseRedirect(reverse("webhooks:console", args=[slug]), status=303)
    return HttpResponseRedirect(reverse("webhooks:endpoint", args=[slug, webhook_id]), status=303)


def _secret_page(
    request: HttpRequest, membership: StaffMembership, endpoint: Endpoint, secret: str, rotated: bool
) -> HttpResponse:
    """The one page that ever shows the secret: it is not stored in the clear, and not shown again."""
    response = render(
        request,
        "webhooks/secret.html",
        {
            "brand": membership.brand,
            "membership": membership,
            "endpoint": endpoint,
            "secret": secret,
            "rotated": rotated,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def console(request: HttpRequest, slug: str) -> HttpResponse:
    membership, brand, _actor = _owner(request, slug)
    endpoints = selectors.endpoint_list(brand=brand)
    health = selectors.endpoints_health(brand=brand, endpoints=endpoints)
    return render(
        request,
        "webhooks/console.html",
        {
            "brand": brand,
            "membership": membership,
            "rows": [(endpoint, health[endpoint.pk]) for endpoint in endpoints],
            "event_types": event_types(),
        },
    )


@login_required
@require_POST
def create(request: HttpRequest, slug: str) -> HttpResponse:
    membership, brand, actor = _owner(request, slug)
    form = EndpointForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write the endpoint's URL and choose at least one event."))
        return _back(slug)
    try:
        registered = services.endpoint_create(
            brand=brand,
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            description=form.cleaned_data["description"],
            actor=actor,
        )
    except KesherError as refusal:
        messages.error(request, refusal.message)
        return _back(slug)
    return _secret_page(request, membership, registered.endpoint, registered.secret, rotated=False)


@login_required
@require_GET
def endpoint(request: HttpRequest, slug: str, webhook_id: Any) -> HttpResponse:
    membership, brand, _actor = _owner(request, slug)
    found = selectors.endpoint_get(brand=brand, endpoint_id=webhook_id)
    health = selectors.endpoints_health(brand=brand, endpoints=[found])[found.pk]
    cursor = request.GET.get("cursor") or None
    try:
        page = selectors.delivery_page(brand=brand, endpoint=found, cursor=cursor, limit=PAGE_SIZE)
    except KesherError:
        page, cursor = selectors.delivery_page(brand=brand, endpoint=found, limit=PAGE_SIZE), None
    return render(
        request,
        "webhooks/endpoint.html",
        {
            "brand": brand,
            "membership": membership,
            "endpoint": found,
            "health": health,
            "event_types": event_types(),
            "deliveries": [(d, page.attempts[d.pk]) for d in page.deliveries],
            "next_cursor": page.next_cursor,
            "first_page": cursor is None,
        },
    )


@login_required
@require_POST
def events(request: HttpRequest, slug: str, webhook_id: Any) -> HttpResponse:
    _membership, brand, actor = _owner(request, slug)
    selectors.endpoint_get(brand=brand, endpoint_id=webhook_id)  # 404 when not the brand's
    form = EventsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose at least one event."))
        return _back(slug, webhook_id)
    try:
        services.endpoint_update(
            brand=brand, endpoint_id=webhook_id, actor=actor, events=form.cleaned_data["events"]
        )
    except KesherError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("The endpoint's events were saved."))
    return _back(slug, webhook_id)


@login_required
@require_POST
def status(request: HttpRequest, slug: str, webhook_id: Any) -> HttpResponse:
    _membership, brand, actor = _owner(request, slug)
    selectors.endpoint_get(brand=brand, endpoint_id=webhook_id)  # 404 when not the brand's
    wanted = request.POST.get("active")
    if wanted not in ("0", "1"):
        messages.error(request, _("Choose to enable or disable the endpoint."))
        return _back(slug, webhook_id)
    services.endpoint_update(brand=brand, endpoint_id=webhook_id, actor=actor, active=wanted == "1")
    messages.success(
        request, _("The endpoint was enabled.") if wanted == "1" else _("The endpoint was disabled.")
    )
    return _back(slug, webhook_id)


@login_required
@require_POST
def rotate(request: HttpRequest, slug: str, webhook_id: Any) -> HttpResponse:
    membership, brand, actor = _owner(request, slug)
    selectors.endpoint_get(brand=brand, endpoint_id=webhook_id)  # 404 when not the brand's
    registered = services.endpoint_rotate(brand=brand, endpoint_id=webhook_id, actor=actor)
    return _secret_page(request, membership, registered.endpoint, registered.secret, rotated=True)


@login_required
@require_POST
def delete(request: HttpRequest, slug: str, webhook_id: Any) -> HttpResponse:
    _membership, brand, actor = _owner(request, slug)
    selectors.endpoint_get(brand=brand, endpoint_id=webhook_id)  # 404 when not the brand's
    services.endpoint_delete(brand=brand, endpoint_id=webhook_id, actor=actor)
    messages.success(request, _("The endpoint was deleted with its delivery log."))
    return _back(slug)


@login_required
@require_POST
def replay(request: HttpRequest, slug: str, webhook_id: Any, delivery_id: Any) -> HttpResponse:
    _membership, brand, actor = _owner(request, slug)
    found = selectors.endpoint_get(brand=brand, endpoint_id=webhook_id)
    selectors.delivery_get(brand=brand, delivery_id=delivery_id, endpoint=found)  # 404 if not this endpoint's
    try:
        services.delivery_replay(brand=brand, delivery_id=delivery_id, actor=actor)
    except KesherError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("The delivery will be sent again."))
    return _back(slug, webhook_id)
