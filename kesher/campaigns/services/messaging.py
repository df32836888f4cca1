"""Brand messaging settings: the sender, the SMS provider, quiet hours and caps a brand sets."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kesher.brands.models import Brand
from kesher.campaigns.channels import sms_provider
from kesher.campaigns.models import (
    MessagingSettings,
)
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import ValidationFailed
from kesher.members.normalize import normalize_email

UPDATABLE_SETTINGS = {
    "sender_name",
    "sender_email",
    "reply_to",
    "postal_address",
    "sms_sender",
    "sms_provider_url",
    "sms_opt_out_word",
    "quiet_start",
    "quiet_end",
    "quiet_on_shabbat",
    "weekly_advertising_cap",
    "conversion_days",
    "email_per_second",
    "sms_per_second",
    "bounce_signature_required",
}


@transaction.atomic
def messaging_settings_update(
    *, brand: Brand, changes: dict[str, Any], actor: Actor = SYSTEM
) -> MessagingSettings:
    unknown = set(changes) - UPDATABLE_SETTINGS
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed(f"{name} cannot be changed here", field=name)
    for name in ("sender_email", "reply_to"):
        if changes.get(name):
            changes[name] = normalize_email(changes[name], field=name)
    if changes.get("sms_provider_url"):
        try:
            sms_provider(changes["sms_provider_url"])
        except ValueError as exc:
            raise ValidationFailed(str(exc), field="sms_provider_url") from None
    current, _ = MessagingSettings.objects.select_for_update().get_or_create(brand=brand)
    for name, value in changes.items():
        setattr(current, name, value)
    current.save()
    audit_record(
        brand=brand,
        actor=actor,
        action="messaging_settings.update",
        target_type="brand",
        target_id=brand.pk,
        # Credentials in the provider URL stay out of the audit log.
        data={name: str(value) for name, value in changes.items() if name != "sms_provider_url"},
    )
    return current
