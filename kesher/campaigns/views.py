"""Pages and endpoints the outside world reaches from a message (open pixel, tracked links, one-click
unsubscribe, forward to a friend, SMS receipts and replies, bounce notices), the member's portal notices,
and the staff pages of campaigns (with their funnel and A/B variants) and journeys."""

from __future__ import annotations

import base64
import json
from functools import partial
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from kesher.brands.access import support_brand
from kesher.brands.models import Brand, StaffRole
from kesher.brands.selectors import staff_brands
from kesher.campaigns import bounces as bounce_notices
from kesher.campaigns import journeys, rendering, selectors, services, tracking
from kesher.campaigns.journey_library import LIBRARY
from kesher.campaigns.models import (
    Journey,
    JourneyStatus,
    Message,
    MessageForward,
)
from kesher.core.audit import Actor
from kesher.core.errors import KesherError

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = "no-store, no-cache, must-revalidate, private"
CAMPAIGN_ROLES = {StaffRole.OWNER, StaffRole.MARKETER, StaffRole.ANALYST}
JOURNEY_EDITORS = {StaffRole.OWNER, StaffRole.MARKETER}  # analysts read, these switch on and pause
FORWARDS_PER_HOUR_PER_CLIENT = 20


def _message(purpose: str, token: str) -> tuple[Message, int | None]:
    facts = tracking.token_read(purpose, token)
    message = selectors.message_for_token(facts.subject_id) if facts else None
    if facts is None or message is None:
        raise Http404("unknown link")
    return message, facts.index


def _client_origin(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")[:200]


def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    """The 1x1 image at the foot of an email: loading it records an open. Always answers the image."""
    facts = tracking.token_read("open", token.removesuffix(".gif"))
    message = selectors.message_for_token(facts.subject_id) if facts else None
    if message is not None:
        services.message_open(message=message)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = NO_STORE
    return response


def click(request: HttpRequest, token: str) -> HttpResponse:
    """A tracked link: record the click, then go where the message's link went (and nowhere else)."""
    message, index = _message("click", token)
    url = services.message_click(message=message, index=index or 0)
    if url is None:
        raise Http404("unknown link")
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = NO_STORE
    response["Referrer-Policy"] = "no-referrer"
    return response


@csrf_exempt  # RFC 8058: the mail provider POSTs without a session; the signed token is the credential
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a one-button page (mail scanners follow links, so a GET changes nothing); POST, from that
    button or from the mail provider's one-click (List-Unsubscribe-Post), withdraws consent at once."""
    message, _ = _message("unsubscribe", token)
    context: dict[str, Any] = {
        "brand_name": message.brand.name,
        "channel": message.get_channel_display(),
        "address": message.to,
        "done": False,
    }
    if request.method == "POST":
        services.message_unsubscribe(message=message, origin=_client_origin(request))
        context["done"] = True
    response = render(request, "campaigns/unsubscribe.html", context)
    response["Cache-Control"] = NO_STORE
    response["X-Robots-Tag"] = "noindex"
    return response


def _payload(request: HttpRequest) -> dict[str, str]:
    """A provider's callback: JSON or a form (Twilio); either way a flat dict of strings."""
    if request.content_type == "application/json":
        try:
            raw = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    form: QueryDict = request.POST
    return {key: form.get(key, "") for key in form}


@csrf_exempt
@require_POST
def sms_receipt(request: HttpRequest, token: str) -> HttpResponse:
    """A delivery receipt for one SMS; its URL (signed per message) was given to the provider."""
    message, _ = _message("receipt", token)
    data = _payload(request)
    status = data.get("status") or data.get("MessageStatus") or data.get("SmsStatus") or ""
    error = data.get("error") or data.get("ErrorCode") or ""
    services.sms_receipt_record(message=message, status=status, error=error)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def sms_inbound(request: HttpRequest, token: str) -> HttpResponse:
    """A member's reply to the brand's SMS (the opt-out word withdraws SMS consent)."""
    facts = tracking.token_read("inbound", token)
    brand = Brand.objects.filter(pk=facts.subject_id).first() if facts else None
    if brand is None:
        raise Http404("unknown link")
    data = _payload(request)
    phone = data.get("from") or data.get("From") or ""
    text = data.get("text") or data.get("Body") or ""
    services.sms_reply_receive(brand=brand, phone=phone, text=text)
    if "Body" in data:  # Twilio waits for TwiML; an empty answer sends nothing back
        return HttpResponse("<Response></Response>", content_type="text/xml")
    return HttpResponse(status=204)


# --- staff -------------------------------------------------------------------------------------------


# --- forward to a friend -----------------------------------------------------------------------------


def _forward_rate_ok(request: HttpRequest) -> bool:
    """A few forwards an hour from one client: the page must not become a way to mail strangers."""
    key = f"campaigns:forward-rate:{_client_origin(request)}"
    cache.add(key, 0, timeout=3600)
    try:
        return int(cache.incr(key)) <= FORWARDS_PER_HOUR_PER_CLIENT
    except ValueError:
        return True


@require_http_methods(["GET", "POST"])
def forward(request: HttpRequest, token: str) -> HttpResponse:
    """The member's forward-to-a-friend page (the link in their message is the credential): one friend's
    address at a time; the friend gets the message without the member's details or tracking."""
    message, _ = _message("forward", token)
    context: dict[str, Any] = {
        "brand_name": message.brand.name,
        "subject": message.subject,
        "done": False,
        "error": "",
        "to": "",
    }
    status = 200
    if request.method == "POST":
        if not _forward_rate_ok(request):
            context["error"] = gettext("Too many forwards from here; try again in an hour.")
            status = 429
        else:
            try:
                done = services.message_forward(message=message, to=request.POST.get("to", ""))
                context.update(done=True, to=done.to)
            except KesherError as exc:
                context["error"] = _forward_refusal(exc)
                status = 409 if exc.status == 409 else 400
    sent = MessageForward.objects.filter(message=message).count()
    context["remaining"] = max(services.FORWARDS_PER_MESSAGE - sent, 0)
    response = render(request, "campaigns/forward.html", context, status=status)
    response["Cache-Control"] = NO_STORE
    response["X-Robots-Tag"] = "noindex"
    return response


def _forward_refusal(exc: KesherError) -> str:
    return {
        "forwarded": gettext("This message was already sent to that address."),
        "forward_limit": gettext("This message was forwarded as many times as it can be."),
        "not_sent": gettext("This message cannot be forwarded."),
        "undeliverable": gettext("Mail cannot reach that address."),
    }.get(exc.code, gettext("Please enter your friend's email address."))


# --- bounce notices ----------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def bounces(request: HttpRequest, token: str) -> HttpResponse:
    """A brand's mail provider posts bounce and complaint notices here (to the brand's signed URL, and with
    X-Kesher-Signature when the brand requires it): JSON, or a bounce email itself (message/rfc822 or
    text/plain holding a DSN)."""
    facts = tracking.token_read("bounce", token)
    brand = Brand.objects.filter(pk=facts.subject_id).first() if facts else None
    if brand is None:
        raise Http404("unknown link")
    # With signatures on (or whenever one is sent), the URL alone is not enough: the body must be signed
    # with the brand's secret within the last five minutes. A refusal reads nothing and changes nothing.
    header = request.headers.get(tracking.SIGNATURE_HEADER, "")
    if header or selectors.messaging_settings(brand=brand).bounce_signature_required:
        problem = tracking.bounce_signature_problem(
            tracking.bounce_signing_secret(brand.pk), header, request.body
        )
        if problem is not None:
            return JsonResponse(
                {
                    "error": {
                        "code": problem,
                        "message": f"A valid {tracking.SIGNATURE_HEADER} header is required",
                        "field": tracking.SIGNATURE_HEADER,
                    }
                },
                status=401,
            )
    if request.content_type == "application/json":
        try:
            notices = bounce_notices.notices_from_json(json.loads(request.body or b"{}"))
        except ValueError:
            return JsonResponse(
                {"error": {"code": "invalid_json", "message": "The body is not JSON"}}, status=400
            )
    else:
        notices = bounce_notices.notices_from_dsn(request.body)
    outcomes: dict[str, int] = {}
    for notice in notices:
        outcome = services.bounce_notice_record(brand=brand, notice=notice, origin=_client_origin(request))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return JsonResponse({"received": len(notices), "outcomes": outcomes})


# --- portal notices ----------------------------------------------------------------------------------


def _tracked(message_id: Any, index: int, _url: str) -> str:
    return tracking.click_url(message_id, index)


@login_required
def portal_notices(request: HttpRequest) -> HttpResponse:
    notices = selectors.portal_notices(user_id=request.user.pk)
    for notice in notices:
        # Escaped paragraphs; links go through the tracked redirect so a click counts as for email.
        notice.html = mark_safe(rendering.body_html(notice.body, partial(_tracked, notice.pk)))  # type: ignore[attr-defined]
    unread = sum(1 for notice in notices if not getattr(notice, "read", True))
    return render(request, "campaigns/portal/notices.html", {"notices": notices, "unread": unread})


def portal_notices_unread(request: HttpRequest) -> HttpResponse:
    """The header badge's number, fetched after the page so that no page pays a query for it."""
    user = request.user
    count = selectors.portal_unread_count(user_id=user.pk) if user.is_authenticated else 0
    response = JsonResponse({"unread": count})
    response["Cache-Control"] = NO_STORE
    return response


@login_required
@require_POST
def portal_notices_read(request: HttpRequest) -> HttpResponse:
    """Mark one notice (`id`) or all of them read."""
    notice_id = request.POST.get("id", "")
    if notice_id:
        try:
            services.portal_notice_read(user_id=request.user.pk, message_id=notice_id)
        except (KesherError, ValueError) as exc:
            raise Http404("no such notice") from exc
    else:
        services.portal_notices_read_all(user_id=request.user.pk)
    return redirect("campaigns:notices")


# --- staff: journeys ---------------------------------------------------------------------------------


def _journey_brands(request: HttpRequest, roles: set[StaffRole]) -> list[Brand]:
    user = request.user
    if getattr(user, "is_superuser", False):
        return list(Brand.objects.order_by("name"))
    return [m.brand for m in staff_brands(user=user) if m.role in roles]  # type: ignore[arg-type]


@login_required
def staff_journeys(request: HttpRequest) -> HttpResponse:
    """Every journey of the brands this user works for, with its runs, and the ready-made journeys each
    brand can still switch on."""
    brands = _journey_brands(request, CAMPAIGN_ROLES)
    if not brands:
        raise PermissionDenied
    editable = {brand.pk for brand in _journey_brands(request, JOURNEY_EDITORS)}
    found = list(
        Journey.objects.filter(brand__in=brands).select_related("brand").order_by("brand__name", "name")
    )
    counts = selectors.journey_run_counts(journeys=found)
    installed = {(journey.brand_id, journey.kind) for journey in found}
    library = [
        {
            "brand": brand,
            "recipes": [
                {"kind": kind, "name": gettext(recipe.name)}
                for kind, recipe in LIBRARY.items()
                if (brand.pk, kind) not in installed
            ],
        }
        for brand in brands
        if brand.pk in editable
    ]
    rows = [{"journey": journey, "runs": counts[journey.pk]} for journey in found]
    return render(request, "campaigns/staff/journeys.html", {"rows": rows, "library": library})


@login_required
@require_POST
def staff_journey_install(request: HttpRequest) -> HttpResponse:
    brand = next(
        (b for b in _journey_brands(request, JOURNEY_EDITORS) if str(b.pk) == request.POST.get("brand", "")),
        None,
    )
    if brand is None:
        raise PermissionDenied
    support_brand(user=request.user, brand=brand)
    try:
        journey = journeys.journey_install(
            brand=brand,
            kind=request.POST.get("kind", ""),
            actor=Actor(user=request.user),  # type: ignore[arg-type]
        )
    except KesherError as exc:
        flash.error(request, exc.message)
        return redirect("campaigns:staff_journeys")
    return redirect("campaigns:staff_journey", journey_id=journey.pk)


def _staff_journey(request: HttpRequest, journey_id: Any, roles: set[StaffRole]) -> Journey:
    journey = Journey.objects.select_related("brand").filter(pk=journey_id).first()
    if journey is None:
        raise Http404("no such journey")
    if journey.brand_id not in {brand.pk for brand in _journey_brands(request, roles)}:
        raise PermissionDenied
    support_brand(user=request.user, brand=journey.brand)
    return journey


@login_required
def staff_journey(request: HttpRequest, journey_id: Any) -> HttpResponse:
    journey = _staff_journey(request, journey_id, CAMPAIGN_ROLES)
    runs = selectors.journey_run_counts(journeys=[journey])[journey.pk]
    step_campaigns = {c.journey_step: c for c in journey.step_campaigns.all()}
    rewards = selectors.journey_coupon_rewards(journey=journey)
    steps = [
        {
            "index": index,
            "number": index + 1,
            "step": step,
            "campaign": step_campaigns.get(index),
            "coupon_reward": rewards.get(str(step.get("coupon_reward") or "")),
        }
        for index, step in enumerate(journey.steps)
    ]
    can_edit = journey.brand_id in {brand.pk for brand in _journey_brands(request, JOURNEY_EDITORS)}
    return render(
        request,
        "campaigns/staff/journey.html",
        {
            "journey": journey,
            "runs": runs,
            "steps": steps,
            "can_edit": can_edit,
            "paused": journey.status == JourneyStatus.PAUSED,
        },
    )


@login_required
@require_POST
def staff_journey_status(request: HttpRequest, journey_id: Any) -> HttpResponse:
    """Pause or resume (audited, as the staff user)."""
    journey = _staff_journey(request, journey_id, JOURNEY_EDITORS)
    status = request.POST.get("status", "")
    if status not in JourneyStatus.values:
        raise Http404("no such status")
    journeys.journey_status_set(journey=journey, status=status, actor=Actor(user=request.user))  # type: ignore[arg-type]
    return HttpResponseRedirect(reverse("campaigns:staff_journey", args=[journey.pk]))
