"""Review requests: N days after a purchase, each buyer is asked once per product to review it, whatever
they might think of it (no satisfaction gate: asking only the happy ones is review gating). A daily task
records who is due and sends each a short email in their language through the campaigns part's email
channel, From the brand's own sender."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kesher.activity.models import Activity
from kesher.brands.models import Brand
from kesher.campaigns.channels import EmailChannel, NotSent, Refused
from kesher.campaigns.models import EmailSuppression
from kesher.campaigns.selectors import messaging_settings
from kesher.campaigns.services import sender_address
from kesher.members.models import Member, MemberStatus
from kesher.reviews.models import Review, ReviewRequest
from kesher.reviews.services._common import settings_of

log = logging.getLogger(__name__)

LOOKBACK_DAYS = 14  # purchases older than N days plus this are not asked about any more


@dataclass
class RequestRun:
    due: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def review_requests_collect(*, brand: Brand, now: datetime | None = None) -> int:
    """Record a request for every product of every purchase that is now N days old (once per member and
    product, ever). Returns how many new ones were recorded."""
    days = settings_of(brand).request_after_days
    if not days:
        return 0
    now = now or timezone.now()
    until = now - timedelta(days=days)
    purchases = Activity.objects.filter(
        brand=brand,
        type="purchase",
        occurred_at__gt=until - timedelta(days=LOOKBACK_DAYS),
        occurred_at__lte=until,
    ).values_list("pk", "member_id", "occurred_at", "attributes")
    rows: dict[tuple[object, str], ReviewRequest] = {}
    for purchase_id, member_id, occurred_at, attributes in purchases.iterator():
        for line in (attributes or {}).get("items") or []:
            sku = str(line.get("sku") or "").strip() if isinstance(line, dict) else ""
            if sku and (member_id, sku) not in rows:
                rows[(member_id, sku)] = ReviewRequest(
                    brand=brand,
                    member_id=member_id,
                    sku=sku,
                    purchase_id=purchase_id,
                    purchased_at=occurred_at,
                )
    before = ReviewRequest.objects.filter(brand=brand).count()
    ReviewRequest.objects.bulk_create(list(rows.values()), ignore_conflicts=True, batch_size=500)
    return ReviewRequest.objects.filter(brand=brand).count() - before


def _skip_reason(member: Member, sku: str) -> str:
    if member.status != MemberStatus.ACTIVE:
        return "inactive"
    if not member.email or not member.consent_email:
        return "no_email_consent"
    if EmailSuppression.objects.filter(brand_id=member.brand_id, email__iexact=member.email).exists():
        return "suppressed"
    if Review.objects.filter(brand_id=member.brand_id, member=member, sku=sku).exists():
        return "already_reviewed"
    return ""


def review_request_email(*, request: ReviewRequest) -> EmailMultiAlternatives:
    member = request.member
    brand = member.brand
    ms = messaging_settings(brand=brand)
    name, address = ms.sender_name or brand.name, sender_address(ms)
    locale = member.locale or brand.default_locale
    path = reverse("reviews:write", args=[brand.slug, request.sku])
    with translation.override(locale):
        context = {
            "brand": brand,
            "member": member,
            "sku": request.sku,
            "url": f"{settings.KESHER_BASE_URL.rstrip('/')}{path}",
            "direction": "rtl" if translation.get_language_bidi() else "ltr",
            "language": locale,
        }
        subject = _("How was your purchase? Tell other customers")
        text = render_to_string("reviews/email/request.txt", context)
        html = render_to_string("reviews/email/request.html", {**context, "subject": subject})
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=formataddr((name, address)),
        to=[member.email or ""],
        reply_to=[ms.reply_to] if ms.reply_to else None,
    )
    email.attach_alternative(html, "text/html")
    return email


def review_requests_send(*, brand: Brand, now: datetime | None = None) -> RequestRun:
    """Collect the due requests and send them. Each is claimed (due → sent) before its email leaves, so
    two runs never send one twice; a mail server that is away gives the claim back for the next run."""
    now = now or timezone.now()
    review_requests_collect(brand=brand, now=now)
    run = RequestRun()
    due = list(
        ReviewRequest.objects.filter(brand=brand, status=ReviewRequest.Status.DUE).select_related(
            "member__brand"
        )[:1000]
    )
    run.due = len(due)
    if not due:
        return run
    try:
        channel = EmailChannel().__enter__()
    except NotSent as exc:
        run.errors.append(str(exc)[:300])
        return run
    try:
        for request in due:
            reason = _skip_reason(request.member, request.sku)
            if reason:
                ReviewRequest.objects.filter(pk=request.pk).update(
                    status=ReviewRequest.Status.SKIPPED, error=reason
                )
                run.skipped += 1
                continue
            claimed = ReviewRequest.objects.filter(pk=request.pk, status=ReviewRequest.Status.DUE).update(
                status=ReviewRequest.Status.SENT, sent_at=now
            )
            if not claimed:
                continue
            try:
                channel.send(review_request_email(request=request))
            except NotSent as exc:
                ReviewRequest.objects.filter(pk=request.pk).update(
                    status=ReviewRequest.Status.DUE, sent_at=None
                )
                run.errors.append(str(exc)[:300])
                break
            except (Refused, Exception) as exc:  # it may have left: never sent twice
                log.exception("review request %s may not have been sent", request.pk)
                ReviewRequest.objects.filter(pk=request.pk).update(
                    status=ReviewRequest.Status.FAILED, error=str(exc)[:300]
                )
                run.failed += 1
                continue
            run.sent += 1
    finally:
        channel.__exit__(None, None, None)
    return run
