"""The listening console: the stream of mentions with its filters, the top voices, the connectors with
their cursors ("run now", add a feed or a signed webhook, the brand's own parts on or off), CSV upload with
its column mapping; and the address a signed webhook posts to."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.request import RawPostDataException
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kesher.brands import access
from kesher.brands.access import may, require_role, staff_membership
from kesher.brands.models import Brand, StaffMembership, StaffRole
from kesher.core.audit import Actor
from kesher.core.errors import KesherError
from kesher.core.tasks import enqueue
from kesher.listening import selectors, services
from kesher.listening.models import INTERNAL_KINDS, Connector, ConnectorKind, Priority, Sentiment
from kesher.listening.services.uploads import FIELDS

SEE = access.HEAR_CUSTOMERS
RUN = {StaffRole.OWNER, StaffRole.MARKETER}


def _staff(request: HttpRequest, slug: str, roles: set[StaffRole]) -> tuple[StaffMembership, Brand, Actor]:
    membership = staff_membership(user=request.user, slug=slug)
    brand = require_role(membership, roles)
    return membership, brand, Actor(user=request.user)  # type: ignore[arg-type]


def _to(name: str, slug: str, *args: Any) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse(f"listening:{name}", args=[slug, *args]), status=303)


def _field_labels() -> dict[str, str]:
    return {
        "text": _("Text"),
        "external_id": _("Id in the source"),
        "posted_at": _("Posted at"),
        "source": _("Source"),
        "url": _("Link"),
        "author_handle": _("Author's handle"),
        "author_name": _("Author's name"),
        "author_followers": _("Followers"),
        "shares": _("Shares"),
        "engagement": _("Engagement (likes, comments)"),
        "language": _("Language"),
        "in_reply_to": _("Replies to (id)"),
        "author_email": _("Author's email"),
        "author_phone": _("Author's phone"),
    }


@login_required
@require_GET
def stream(request: HttpRequest, slug: str) -> HttpResponse:
    membership, brand, _actor = _staff(request, slug, SEE)
    chosen = {
        name: request.GET.get(name, "").strip() for name in ("sentiment", "topic", "source", "priority")
    }
    if chosen["sentiment"] not in Sentiment.values:
        chosen["sentiment"] = ""
    if chosen["priority"] not in Priority.values:
        chosen["priority"] = ""
    cursor = request.GET.get("cursor") or None
    sentiment, topic, source, priority = (chosen[k] for k in ("sentiment", "topic", "source", "priority"))
    try:
        page = selectors.mention_page(
            brand=brand, cursor=cursor, sentiment=sentiment, topic=topic, source=source, priority=priority
        )
    except KesherError:
        page = selectors.mention_page(
            brand=brand, sentiment=sentiment, topic=topic, source=source, priority=priority
        )
        cursor = None
    query = "&".join(f"{name}={value}" for name, value in chosen.items() if value)
    return render(
        request,
        "listening/stream.html",
        {
            "brand": brand,
            "membership": membership,
            "page": page,
            "chosen": chosen,
            "query": query,
            "first_page": cursor is None,
            "sources": selectors.mention_sources(brand=brand),
            "sentiments": Sentiment.choices,
            "priorities": Priority.choices,
            "counts": selectors.sentiment_counts(brand=brand),
            "may_run": may(membership, RUN),
        },
    )


@login_required
@require_GET
def voices(request: HttpRequest, slug: str) -> HttpResponse:
    membership, brand, _actor = _staff(request, slug, SEE)
    return render(
        request,
        "listening/voices.html",
        {
            "brand": brand,
            "membership": membership,
            "voices": selectors.top_voices(brand=brand),
            "days": 90,
            "may_run": may(membership, RUN),
        },
    )


@login_required
@require_GET
def connectors(request: HttpRequest, slug: str) -> HttpResponse:
    membership, brand, _actor = _staff(request, slug, SEE)
    rows = selectors.connector_list(brand=brand)
    own = {connector.kind: connector for connector in rows if connector.kind in INTERNAL_KINDS}
    return render(
        request,
        "listening/connectors.html",
        {
            "brand": brand,
            "membership": membership,
            "rows": [c for c in rows if c.kind not in INTERNAL_KINDS],
            "own": [(kind, ConnectorKind(kind).label, own.get(kind)) for kind in INTERNAL_KINDS],
            "may_run": may(membership, RUN),
            "hook_base": request.build_absolute_uri("/")[:-1],
        },
    )


@login_required
@require_POST
def connector_feed(request: HttpRequest, slug: str) -> HttpResponse:
    _membership, brand, actor = _staff(request, slug, RUN)
    try:
        services.connector_feed_add(
            brand=brand,
            name=request.POST.get("name", ""),
            url=request.POST.get("url", ""),
            source=request.POST.get("source", ""),
            actor=actor,
        )
    except KesherError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("The feed was added; it is read every few minutes."))
    return _to("connectors", slug)


def _secret_page(
    request: HttpRequest, membership: StaffMembership, made: services.ConnectorMade
) -> HttpResponse:
    hook = request.build_absolute_uri(reverse("listening:hook", args=[made.connector.pk]))
    response = render(
        request,
        "listening/secret.html",
        {
            "brand": membership.brand,
            "membership": membership,
            "connector": made.connector,
            "secret": made.secret,
            "hook": hook,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def connector_webhook(request: HttpRequest, slug: str) -> HttpResponse:
    membership, brand, actor = _staff(request, slug, RUN)
    try:
        made = services.connector_webhook_add(
            brand=brand, name=request.POST.get("name", ""), source=request.POST.get("source", ""), actor=actor
        )
    except KesherError as refusal:
        messages.error(request, refusal.message)
        return _to("connectors", slug)
    return _secret_page(request, membership, made)


@login_required
@require_POST
def connector_own(request: HttpRequest, slug: str) -> HttpResponse:
    _membership, brand, actor = _staff(request, slug, RUN)
    kind = request.POST.get("kind", "")
    if kind not in INTERNAL_KINDS or request.POST.get("active") not in ("0", "1"):
        messages.error(request, _("Choose one of the brand's own parts to switch on or off."))
        return _to("connectors", slug)
    services.connector_switch(brand=brand, kind=kind, active=request.POST["active"] == "1", actor=actor)
    messages.success(request, _("Saved."))
    return _to("connectors", slug)


def _connector(brand: Brand, connector_id: Any) -> Connector:
    return selectors.connector_get(brand=brand, connector_id=connector_id)  # 404 when not the brand's


@login_required
@require_POST
def connector_run(request: HttpRequest, slug: str, connector_id: Any) -> HttpResponse:
    _membership, brand, _actor = _staff(request, slug, RUN)
    connector = _connector(brand, connector_id)
    if connector.kind in (ConnectorKind.WEBHOOK, ConnectorKind.CSV):
        messages.error(request, _("Mentions are sent to this connector; there is nothing to read."))
        return _to("connectors", slug)
    enqueue("kesher.listening.tasks.connector_run", str(brand.pk), str(connector.pk))
    messages.success(request, _("The connector is being read now."))
    return _to("connectors", slug)


@login_required
@require_POST
def connector_switch(request: HttpRequest, slug: str, connector_id: Any) -> HttpResponse:
    _membership, brand, actor = _staff(request, slug, RUN)
    _connector(brand, connector_id)
    if request.POST.get("active") not in ("0", "1"):
        messages.error(request, _("Choose to pause or resume the connector."))
        return _to("connectors", slug)
    services.connector_switch(
        brand=brand, connector_id=connector_id, active=request.POST["active"] == "1", actor=actor
    )
    messages.success(request, _("Saved."))
    return _to("connectors", slug)


@login_required
@require_POST
def connector_rotate(request: HttpRequest, slug: str, connector_id: Any) -> HttpResponse:
    membership, brand, actor = _staff(request, slug, RUN)
    _connector(brand, connector_id)
    try:
        made = services.connector_rotate(brand=brand, connector_id=connector_id, actor=actor)
    except KesherError as refusal:
        messages.error(request, refusal.message)
        return _to("connectors", slug)
    return _secret_page(request, membership, made)


@login_required
@require_POST
def connector_delete(request: HttpRequest, slug: str, connector_id: Any) -> HttpResponse:
    _membership, brand, actor = _staff(request, slug, RUN)
    _connector(brand, connector_id)
    services.connector_delete(brand=brand, connector_id=connector_id, actor=actor)
    messages.success(request, _("The connector was removed; its mentions stay."))
    return _to("connectors", slug)


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest, slug: str) -> HttpResponse:
    membership, brand, actor = _staff(request, slug, RUN)
    if request.method == "POST":
        sent = request.FILES.get("file")
        if sent is None:
            messages.error(request, _("Choose a CSV file to upload."))
            return _to("upload", slug)
        try:
            made = services.csv_upload(
                brand=brand, file_name=sent.name or "", content=sent.read(), actor=actor
            )
        except KesherError as refusal:
            messages.error(request, refusal.message)
            return _to("upload", slug)
        return _to("upload_map", slug, made.pk)
    return render(
        request, "listening/upload.html", {"brand": brand, "membership": membership, "may_run": True}
    )


@login_required
@require_http_methods(["GET", "POST"])
def upload_map(request: HttpRequest, slug: str, upload_id: Any) -> HttpResponse:
    membership, brand, actor = _staff(request, slug, RUN)
    found = services.upload_get(brand=brand, upload_id=upload_id)
    if request.method == "POST" and found.imported_at is None:
        mapping = {name: request.POST.get(f"map_{name}", "") for name in FIELDS}
        try:
            found = services.csv_import(
                brand=brand,
                upload_id=found.pk,
                mapping=mapping,
                source=request.POST.get("source", "csv"),
                actor=actor,
            )
        except KesherError as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(request, _("The file was imported."))
        return _to("upload_map", slug, found.pk)
    labels = _field_labels()
    return render(
        request,
        "listening/upload_map.html",
        {
            "brand": brand,
            "membership": membership,
            "upload": found,
            "may_run": True,
            "fields": [(name, labels[name], found.mapping.get(name, "")) for name in FIELDS],
        },
    )


# --- the signed webhook ---------------------------------------------------------------------------------


@csrf_exempt  # a tool posts without a session; the Standard Webhooks signature is the credential
@require_POST
def hook(request: HttpRequest, connector_id: Any) -> HttpResponse:
    headers = {
        name: request.headers.get(name, "")
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
    }
    try:
        body = request.body
    except RawPostDataException:  # a form post, already read as a form: no JSON, so nothing to verify
        body = b""
    try:
        _connector, result = services.webhook_receive(connector_id=connector_id, headers=headers, body=body)
    except KesherError as refusal:
        return JsonResponse(
            {"error": {"code": refusal.code, "message": refusal.message, "field": refusal.field}},
            status=409 if refusal.code == "connector_paused" else refusal.status,
        )
    return JsonResponse(
        {
            "added": result.added,
            "mentions": [
                {
                    "id": str(m.pk),
                    "external_id": m.external_id,
                    "new": result.is_new(m),
                    "sentiment": m.sentiment,
                    "topics": m.topics,
                    "priority": m.priority,
                    "case_id": str(m.case_id) if m.case_id else None,
                }
                for m in result.mentions
            ],
        },
        status=200,
    )
