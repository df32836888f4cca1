"""Pages and endpoints the outside world reaches from a message (open pixel, tracked links, one-click
unsubscribe, SMS receipts and replies), and the staff page of a campaign with its funnel."""

from __future__ import annotations

import base64
import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from kesher.brands.models import Brand, StaffRole
from kesher.brands.selectors import staff_brands
from kesher.campaigns import selectors, services, tracking
from kesher.campaigns.models import Campaign, CampaignStatus, EventKind, Message

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = "no-store, no-cache, must-revalidate, private"
CAMPAIGN_ROLES = {StaffRole.OWNER, StaffRole.MARKETER, StaffRole.ANALYST}


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


def _staff_brand_ids(request: HttpRequest) -> set[Any] | None:
    """The brands whose campaigns this user may see; None means every brand (an installation admin)."""
    user = request.user
    if getattr(user, "is_superuser", False):
        return None
    return {m.brand_id for m in staff_brands(user=user) if m.role in CAMPAIGN_ROLES}  # type: ignore[arg-type]


@login_required
def staff_campaigns(request: HttpRequest) -> HttpResponse:
    allowed = _staff_brand_ids(request)
    if allowed is not None and not allowed:
        raise PermissionDenied
    campaigns = Campaign.objects.select_related("brand").order_by("-created_at")
    if allowed is not None:
        campaigns = campaigns.filter(brand_id__in=allowed)
    return render(request, "campaigns/staff/list.html", {"campaigns": list(campaigns[:200])})


@login_required
def staff_campaign(request: HttpRequest, campaign_id: str) -> HttpResponse:
    campaign = Campaign.objects.select_related("brand", "segment").filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404("no such campaign")
    allowed = _staff_brand_ids(request)
    if allowed is not None and campaign.brand_id not in allowed:
        raise PermissionDenied
    stats = selectors.campaign_stats(campaign=campaign)
    counts = [(kind, str(label), stats.funnel.get(kind, 0)) for kind, label in EventKind.choices]
    top = max([count for _, _, count in counts] + [1])
    funnel = [
        {"kind": kind, "label": label, "count": count, "share": round(100 * count / top)}
        for kind, label, count in counts
    ]
    timeline = selectors.campaign_timeline(campaign=campaign)
    peak = max([max(hour["sent"], hour["opened"], hour["clicked"]) for hour in timeline] + [1])
    context = {
        "campaign": campaign,
        "stats": stats,
        "funnel": funnel,
        "progress_percent": round(stats.progress * 100),
        "sending": campaign.status in (CampaignStatus.QUEUING, CampaignStatus.SENDING),
        "timeline": [
            {
                **hour,
                "opened_pct": round(100 * hour["opened"] / peak),
                "clicked_pct": round(100 * hour["clicked"] / peak),
            }
            for hour in timeline
        ],
        "excluded": sorted((stats.excluded or {}).items()),
    }
    template = (
        "campaigns/staff/partials/funnel.html"
        if request.headers.get("HX-Request")
        else "campaigns/staff/detail.html"
    )
    return render(request, template, context)
