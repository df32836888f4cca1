"""The staff console's campaign authoring: the new-campaign page with its live audience count and live
preview, and the actions on a campaign (test send to oneself, send now, schedule, pause, resume, cancel).
Owners and marketers author and send; an analyst reads (the pages show no buttons, a POST is 403)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from kesher.brands.access import support_brand
from kesher.brands.models import Brand, StaffRole
from kesher.brands.selectors import staff_brands
from kesher.campaigns import selectors, services
from kesher.campaigns.models import (
    AbMetric,
    AbState,
    Campaign,
    CampaignChannel,
    CampaignStatus,
    CampaignVariant,
    EventKind,
    Segment,
)
from kesher.campaigns.rules import rules_parse
from kesher.campaigns.starters import STARTERS
from kesher.core.audit import Actor
from kesher.core.errors import Conflict, KesherError, ValidationFailed
from kesher.members.models import Member

CAMPAIGN_ROLES = {StaffRole.OWNER, StaffRole.MARKETER, StaffRole.ANALYST}  # analysts read
AUTHORS = {StaffRole.OWNER, StaffRole.MARKETER}
SAMPLE_MEMBERS = 20


def staff_campaign_brand_ids(request: HttpRequest) -> set[Any] | None:
    """The brands whose campaigns this user may see; None means every brand (an installation admin)."""
    user = request.user
    if getattr(user, "is_superuser", False):
        return None
    return {m.brand_id for m in staff_brands(user=user) if m.role in CAMPAIGN_ROLES}  # type: ignore[arg-type]


@login_required
def staff_campaigns(request: HttpRequest) -> HttpResponse:
    allowed = staff_campaign_brand_ids(request)
    if allowed is not None and not allowed:
        raise PermissionDenied
    campaigns = Campaign.objects.select_related("brand").order_by("-created_at")
    if allowed is not None:
        campaigns = campaigns.filter(brand_id__in=allowed)
    return render(
        request,
        "campaigns/staff/list.html",
        {"campaigns": list(campaigns[:200]), "can_author": bool(author_brands(request))},
    )


@login_required
def staff_campaign(request: HttpRequest, campaign_id: str) -> HttpResponse:
    campaign = Campaign.objects.select_related("brand", "segment").filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404("no such campaign")
    allowed = staff_campaign_brand_ids(request)
    if allowed is not None and campaign.brand_id not in allowed:
        raise PermissionDenied
    support_brand(user=request.user, brand=campaign.brand)
    if request.headers.get("HX-Request"):
        return render(request, "campaigns/staff/partials/funnel.html", _campaign_context(campaign))
    return campaign_page(request, campaign)


def campaign_page(
    request: HttpRequest, campaign: Campaign, *, error: str | None = None, status: int = 200
) -> HttpResponse:
    """The campaign's page: its results, and for an author the actions its status allows."""
    context = {**_campaign_context(campaign), **_actions_context(request, campaign), "error": error}
    return render(request, "campaigns/staff/detail.html", context, status=status)


def _campaign_context(campaign: Campaign) -> dict[str, Any]:
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
        # While an A/B test waits for its winner there is nothing to watch live.
        "sending": campaign.status in (CampaignStatus.QUEUING, CampaignStatus.SENDING)
        and campaign.ab_state != AbState.TESTING,
        "timeline": [
            {
                **hour,
                "opened_pct": round(100 * hour["opened"] / peak),
                "clicked_pct": round(100 * hour["clicked"] / peak),
            }
            for hour in timeline
        ],
        "excluded": sorted((stats.excluded or {}).items()),
        "variants": selectors.campaign_variant_stats(campaign=campaign),
        "started": campaign.queued_at is not None or stats.messages > 0,
    }
    return context


def author_brands(request: HttpRequest) -> list[Brand]:
    """The brands this user may author and send campaigns for (every brand for an installation admin)."""
    user = request.user
    if getattr(user, "is_superuser", False):
        return list(Brand.objects.order_by("name"))
    return [m.brand for m in staff_brands(user=user) if m.role in AUTHORS]  # type: ignore[arg-type]


def may_author(request: HttpRequest, brand_id: Any) -> bool:
    return any(brand.pk == brand_id for brand in author_brands(request))


def _author_brand(request: HttpRequest, brand_id: str) -> Brand:
    brands = author_brands(request)
    if not brands:
        raise PermissionDenied
    brand = next((b for b in brands if str(b.pk) == brand_id), None) if brand_id else brands[0]
    if brand is None:
        raise PermissionDenied
    support_brand(user=request.user, brand=brand)
    return brand


def _int(value: str, field: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed(f"{field} must be a whole number", field=field) from None


def _built_rules(data: Any) -> dict[str, Any]:
    """The rules of the segment built on the page: language, an interest, bought lately, points."""
    conditions: list[dict[str, Any]] = []
    if data.get("seg_locale") in Brand.Locale.values:
        conditions.append({"kind": "locale", "locale": data["seg_locale"]})
    interest = data.get("seg_interest", "").strip()
    if interest:
        conditions.append({"kind": "interests", "any": [interest]})
    days = _int(data.get("seg_purchased_days", ""), "seg_purchased_days")
    if days is not None:
        conditions.append({"kind": "purchased", "within_days": days})
    points = _int(data.get("seg_points_above", ""), "seg_points_above")
    if points is not None:
        conditions.append({"kind": "points", "above": points})
    return rules_parse({"match": "all", "conditions": conditions}).model_dump(mode="json")


def _segment(brand: Brand, data: Any) -> Segment | None:
    """The chosen saved segment, the one built on the page (not saved), or None for every member."""
    choice = data.get("segment", "")
    if not choice:
        return None
    if choice == "new":
        return Segment(
            brand=brand, name=" ".join(data.get("new_segment_name", "").split()), rules=_built_rules(data)
        )
    try:
        return selectors.segment_get(brand=brand, segment_id=choice)
    except (KesherError, ValueError):
        raise ValidationFailed("No such segment", field="segment") from None


def _texts(data: Any, prefix: str, locale: str) -> tuple[str, str, dict[str, Any]]:
    """Subject and body in the main language, and the other language's if written."""
    other = "en" if locale == "he" else "he"
    translations = {}
    other_subject = data.get(f"{prefix}other_subject", "").strip()
    other_body = data.get(f"{prefix}other_body", "")
    if other_subject or other_body.strip():
        translations[other] = {"subject": other_subject, "body": other_body}
    return data.get(f"{prefix}subject", ""), data.get(f"{prefix}body", ""), translations


def _draft(brand: Brand, data: Any) -> dict[str, Any]:
    """campaign_create's arguments from the page's form."""
    locale = data.get("locale") or brand.default_locale
    subject, body, translations = _texts(data, "", locale)
    fields: dict[str, Any] = {
        "name": data.get("name", ""),
        "channel": data.get("channel", ""),
        "locale": locale,
        "subject": subject,
        "body": body,
        "translations": translations,
        "advertising": data.get("advertising") == "on",
        "segment": _segment(brand, data),
    }
    if data.get("ab") == "on":
        b_subject, b_body, b_translations = _texts(data, "b_", locale)
        fields["variants"] = [
            {"name": "A", "subject": subject, "body": body, "translations": translations},
            {"name": "B", "subject": b_subject, "body": b_body, "translations": b_translations},
        ]
        fields["ab_test_percent"] = _int(data.get("ab_percent", ""), "ab_test_percent")
        fields["ab_wait_hours"] = _int(data.get("ab_hours", ""), "ab_wait_hours")
        fields["ab_metric"] = data.get("ab_metric") or (
            AbMetric.CLICKED if fields["channel"] == CampaignChannel.SMS else AbMetric.OPENED
        )
    return fields


def _unsaved(brand: Brand, fields: dict[str, Any]) -> Campaign:
    if fields["channel"] not in CampaignChannel.values:
        raise ValidationFailed("Choose the channel", field="channel")
    return Campaign(
        brand=brand,
        name=fields["name"],
        channel=fields["channel"],
        locale=fields["locale"],
        subject=" ".join(fields["subject"].split()),
        body=fields["body"],
        translations=fields["translations"],
        advertising=fields["advertising"],
        segment=fields["segment"],
    )


@login_required
@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest) -> HttpResponse:
    brand = _author_brand(request, request.POST.get("brand") or request.GET.get("brand", ""))
    error = None
    status = 200
    if request.method == "POST":
        try:
            fields = _draft(brand, request.POST)
            segment = fields["segment"]
            if segment is not None and segment._state.adding:
                if not segment.name:
                    raise ValidationFailed("Name the new segment", field="new_segment_name")
                fields["segment"] = services.segment_create(
                    brand=brand,
                    name=segment.name,
                    rules=segment.rules,
                    actor=Actor(user=request.user),  # type: ignore[arg-type]
                )
            campaign = services.campaign_create(brand=brand, actor=Actor(user=request.user), **fields)  # type: ignore[arg-type]
        except KesherError as exc:
            error, status = exc.message, exc.status
        else:
            flash.success(request, gettext("The campaign is saved as a draft."))
            return redirect("campaigns:staff_detail", campaign_id=campaign.pk)
    context = {
        "brand": brand,
        "brands": author_brands(request),
        "segments": selectors.segment_list(brand=brand),
        "channels": CampaignChannel.choices,
        "metrics": AbMetric.choices,
        "starters": [{"key": s.key, "label": s.label} for s in STARTERS],
        "starter_texts": json.dumps(
            {s.key: {"advertising": s.advertising, "texts": s.texts} for s in STARTERS}, ensure_ascii=False
        ),
        "form": request.POST if request.method == "POST" else {},
        "error": error,
    }
    return render(request, "campaigns/staff/new.html", context, status=status)


def _json_error(exc: KesherError) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": exc.code, "message": exc.message, "field": exc.field}}, status=exc.status
    )


def _member_label(member: Member) -> str:
    name = f"{member.first_name} {member.last_name}".strip()
    return name or member.card_number or str(member.pk)


@login_required
@require_POST
def campaign_audience(request: HttpRequest) -> JsonResponse:
    """The live count of the chosen or built segment for the channel, and members to preview as."""
    brand = _author_brand(request, request.POST.get("brand", ""))
    try:
        segment = _segment(brand, request.POST)
        channel = request.POST.get("channel") or CampaignChannel.EMAIL
        if channel not in CampaignChannel.values:
            raise ValidationFailed("Choose the channel", field="channel")
        probe = Campaign(
            brand=brand, channel=channel, advertising=request.POST.get("advertising") == "on", segment=segment
        )
        breakdown = selectors.campaign_audience_breakdown(campaign=probe)
    except KesherError as exc:
        return _json_error(exc)
    sample = selectors.campaign_segment_members(campaign=probe).order_by("pk")[:SAMPLE_MEMBERS]
    return JsonResponse(
        {
            "in_segment": breakdown.in_segment,
            "reachable": breakdown.reachable,
            "no_address": breakdown.no_address,
            "no_consent": breakdown.no_consent,
            "members": [{"id": str(m.pk), "name": _member_label(m)} for m in sample],
        }
    )


def _page_document(preview: Any, locale: str) -> str:
    """A portal notice (or an email whose HTML is a fragment) as a page of its own for the iframe."""
    if preview.html.lstrip().startswith("<!"):
        return str(preview.html)
    direction = "rtl" if locale == "he" else "ltr"
    return (
        f'<!doctype html><html lang="{locale}" dir="{direction}"><meta charset="utf-8">'
        '<body style="font-family: sans-serif">'
        f"<h1>{escape(preview.subject)}</h1>{preview.html}</body></html>"
    )


def _sms_document(text: str, parts: int, locale: str) -> str:
    direction = "rtl" if locale == "he" else "ltr"
    label = escape(gettext("SMS parts: %d") % parts)
    return (
        f'<!doctype html><html lang="{locale}" dir="{direction}"><meta charset="utf-8">'
        '<body style="font-family: sans-serif; background: #eee; margin: 1rem">'
        '<p style="background: #fff; border-radius: 1rem; padding: .75rem; white-space: pre-wrap; '
        f'max-width: 20rem">{escape(text)}</p><p style="color: #555">{label}</p></body></html>'
    )


@login_required
@require_POST
def campaign_preview(request: HttpRequest) -> JsonResponse:
    """The message being written, rendered for a real member of its audience (nothing is saved): the
    page's iframe shows `document` at desktop and phone width as the author types."""
    brand = _author_brand(request, request.POST.get("brand", ""))
    try:
        fields = _draft(brand, request.POST)
        campaign = _unsaved(brand, fields)
        variant = None
        if request.POST.get("variant") == "b" and fields.get("variants"):
            b = fields["variants"][1]
            variant = CampaignVariant(
                campaign=campaign,
                name="B",
                subject=" ".join(b["subject"].split()),
                body=b["body"],
                translations=b["translations"],
            )
        source = variant or campaign
        if not source.body.strip():
            raise ValidationFailed("Write the message", field="body")
        members = selectors.campaign_segment_members(campaign=campaign)
        wanted = request.POST.get("member", "")
        member = members.filter(pk=wanted).first() if _is_uuid(wanted) else None
        member = member or members.order_by("pk").first()
        if member is None:
            raise ValidationFailed("The audience has no member to show the message as", field="segment")
        preview = services.campaign_preview(campaign=campaign, member=member, variant=variant)
    except KesherError as exc:
        return _json_error(exc)
    if campaign.channel == CampaignChannel.SMS:
        document = _sms_document(preview.text, preview.sms_parts, member.locale)
    else:
        document = _page_document(preview, member.locale)
    return JsonResponse(
        {
            "member": {"id": str(member.pk), "name": _member_label(member)},
            "subject": preview.subject,
            "text": preview.text,
            "document": document,
            "sms_parts": preview.sms_parts,
            "warnings": preview.warnings,
        }
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _authored(request: HttpRequest, campaign_id: Any) -> Campaign:
    """The campaign, if this user may act on it: 404 if not of a brand they see, 403 if only read."""
    campaign = Campaign.objects.select_related("brand", "segment").filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404("no such campaign")
    seen = staff_campaign_brand_ids(request)
    if seen is not None and campaign.brand_id not in seen:
        raise Http404("no such campaign")
    if not may_author(request, campaign.brand_id):
        raise PermissionDenied
    support_brand(user=request.user, brand=campaign.brand)
    return campaign


def _done(request: HttpRequest, campaign: Campaign, action: Any) -> HttpResponse:
    """Do it; a refused change is said on the page (409 or 422) and changes nothing."""
    try:
        action()
    except KesherError as exc:
        campaign.refresh_from_db()
        return campaign_page(request, campaign, error=_refusal(exc), status=exc.status)
    return redirect("campaigns:staff_detail", campaign_id=campaign.pk)


def _refusal(exc: KesherError) -> str:
    if exc.code == "campaign_status":
        return gettext("That cannot be done to a campaign in its present state; nothing was changed.")
    if exc.field == "scheduled_for":
        return gettext("Choose a time in the future, within a year.")
    if exc.field == "to":
        return gettext("A test send needs your own address for this channel.")
    return exc.message


@login_required
@require_POST
def campaign_act(request: HttpRequest, campaign_id: Any, action: str) -> HttpResponse:
    campaign = _authored(request, campaign_id)
    actor = Actor(user=request.user)  # type: ignore[arg-type]
    if action == "send":
        return _done(request, campaign, lambda: _send_now(campaign, actor))
    if action == "pause":
        return _done(request, campaign, lambda: services.campaign_pause(campaign=campaign, actor=actor))
    if action == "resume":
        return _done(request, campaign, lambda: services.campaign_resume(campaign=campaign, actor=actor))
    if action == "cancel":
        return _done(request, campaign, lambda: services.campaign_cancel(campaign=campaign, actor=actor))
    if action == "schedule":
        return _done(request, campaign, lambda: _schedule(request, campaign, actor))
    if action == "test":
        return _done(request, campaign, lambda: _test_send(request, campaign, actor))
    raise Http404("no such action")


def _send_now(campaign: Campaign, actor: Actor) -> None:
    if campaign.journey_id is not None:
        raise ValidationFailed("A journey's step is sent by its journey", field="status")
    outcome = services.campaign_send(campaign=campaign, actor=actor)
    if not outcome.started:
        raise Conflict("already sent", field="status", code="campaign_status")


def _schedule(request: HttpRequest, campaign: Campaign, actor: Actor) -> None:
    raw = request.POST.get("scheduled_for", "")
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed("scheduled_for is not a time", field="scheduled_for") from None
    if at.tzinfo is None:  # the browser's datetime-local: the brand's own clock
        at = at.replace(tzinfo=ZoneInfo(campaign.brand.time_zone))
    services.campaign_schedule(campaign=campaign, at=at, actor=actor)


def _test_send(request: HttpRequest, campaign: Campaign, actor: Actor) -> None:
    """To the staff user's own address (email) or the phone they give (SMS), as the chosen member."""
    if campaign.channel == CampaignChannel.EMAIL:
        to = getattr(request.user, "email", "") or ""
    else:
        to = request.POST.get("phone", "").strip()
    if not to:
        raise ValidationFailed("no address", field="to")
    members = selectors.campaign_segment_members(campaign=campaign)
    wanted = request.POST.get("member", "")
    member = (members.filter(pk=wanted).first() if _is_uuid(wanted) else None) or members.order_by(
        "pk"
    ).first()
    if member is None:
        raise ValidationFailed("The audience has no member to show the message as", field="segment")
    services.campaign_test_send(campaign=campaign, member=member, to=to, actor=actor)
    flash.success(request, gettext("A test was sent to %(to)s.") % {"to": to})


# What an author may do to a campaign in each status (the services refuse anything else as well).
ACTIONS: dict[str, tuple[str, ...]] = {
    CampaignStatus.DRAFT: ("test", "send", "schedule"),
    CampaignStatus.SCHEDULED: ("test", "send", "schedule", "pause", "cancel"),
    CampaignStatus.QUEUING: ("pause", "cancel"),
    CampaignStatus.SENDING: ("pause", "cancel"),
    CampaignStatus.PAUSED: ("resume", "cancel"),
}


def _actions_context(request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    results = selectors.campaign_results(campaign=campaign)
    labels = dict(EventKind.choices)
    kinds = [str(kind) for kind in selectors.RESULT_KINDS]
    chart = {
        "labels": [str(labels[kind]) for kind in kinds],
        "series": [{"label": gettext("All messages"), "data": [results["counts"][k] for k in kinds]}]
        + [
            {"label": gettext("Variant %s") % v["name"], "data": [v["counts"][k] for k in kinds]}
            for v in results["variants"]
        ],
        "rtl": translation.get_language_bidi(),
    }
    can_author = may_author(request, campaign.brand_id) and campaign.journey_id is None
    sample = selectors.campaign_segment_members(campaign=campaign).order_by("pk")[:SAMPLE_MEMBERS]
    return {
        "results": results,
        "result_rows": [(kind, labels[kind], results["counts"][kind]) for kind in kinds],
        "chart": chart,
        "can_author": can_author,
        "actions": ACTIONS.get(campaign.status, ()) if can_author else (),
        "sample_members": [{"id": str(m.pk), "name": _member_label(m)} for m in sample],
        "own_email": getattr(request.user, "email", ""),
    }
