"""Telling a brand's owners that one of their webhook endpoints keeps failing, by email in the brand's
language, through the campaigns part's email channel."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import translation
from django.utils.translation import gettext

from kesher.brands.models import Brand, StaffMembership, StaffRole
from kesher.campaigns.channels import EmailChannel
from kesher.webhooks.models import Endpoint

log = logging.getLogger(__name__)


def owners_addresses(brand_id: Any) -> list[str]:
    return sorted(
        {
            email
            for email in StaffMembership.objects.filter(brand_id=brand_id, role=StaffRole.OWNER).values_list(
                "user__email", flat=True
            )
            if email
        }
    )


def owners_tell(*, endpoint: Endpoint, gone: bool) -> int:
    """Email the owners; returns how many addresses it went to. A mail failure is logged, never raised."""
    brand = Brand.objects.get(pk=endpoint.brand_id)
    to = owners_addresses(brand.pk)
    if not to:
        return 0
    with translation.override(brand.default_locale):
        subject = gettext("%(brand)s: a webhook endpoint is failing") % {"brand": brand.name}
        if gone:
            why = gettext(
                "It answered 410 Gone, so it was disabled and receives nothing until you enable it."
            )
        else:
            why = gettext(
                "%(count)s deliveries in a row failed every attempt, or its attempts have failed for a day. "
                "Deliveries are retried for about three days."
            ) % {"count": endpoint.consecutive_failures}
        body = "\n\n".join(
            [
                gettext("The webhook endpoint %(url)s keeps failing.") % {"url": endpoint.url},
                why,
                gettext("The delivery log: %(link)s")
                % {"link": f"{settings.KESHER_BASE_URL}/console/{brand.slug}/webhooks/{endpoint.pk}/"},
            ]
        )
    try:
        with EmailChannel() as channel:
            channel.send(EmailMultiAlternatives(subject=subject, body=body, to=to))
    except Exception:
        log.exception(
            "could not tell the owners about a failing webhook endpoint", extra={"endpoint": str(endpoint.pk)}
        )
        return 0
    return len(to)
