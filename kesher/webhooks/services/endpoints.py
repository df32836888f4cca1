"""Registering, changing, rotating and removing a brand's webhook endpoints; replaying a delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kesher.brands.models import Brand
from kesher.core.audit import Actor, audit_record
from kesher.core.crypto import text_decrypt, text_encrypt
from kesher.core.errors import NotFound, ValidationFailed
from kesher.core.events import event_types
from kesher.webhooks.models import Delivery, DeliveryStatus, Endpoint
from kesher.webhooks.sending import secret_new, target_resolve
from kesher.webhooks.services.fanout import dispatch_kick, routes_changed

ROTATION_OVERLAP = timedelta(hours=24)  # both signatures are sent this long after a rotation
MAX_ENDPOINTS_PER_BRAND = 50
MAX_URL_LENGTH = 2000


@dataclass(frozen=True)
class Registered:
    """A new endpoint and its secret, which is shown this once."""

    endpoint: Endpoint
    secret: str


def _clean_events(events: list[str]) -> list[str]:
    known = event_types()
    if not events:
        raise ValidationFailed("Choose at least one event type", field="events")
    unknown = sorted(set(events) - set(known))
    if unknown:
        raise ValidationFailed(
            f"Unknown event type {unknown[0]!r}", field="events", code="unknown_event_type"
        )
    return sorted(set(events))


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if len(url) > MAX_URL_LENGTH:
        raise ValidationFailed(f"The URL is longer than {MAX_URL_LENGTH} characters", field="url")
    target_resolve(url)  # refused when it points inward in production, or does not resolve
    return url


def endpoint_create(
    *, brand: Brand, url: str, events: list[str], description: str = "", actor: Actor
) -> Registered:
    """Register an endpoint. The URL's host must resolve, and (in production) only to public addresses."""
    clean_events = _clean_events(events)
    clean_url = _clean_url(url)
    secret = secret_new()
    with transaction.atomic():
        if Endpoint.objects.filter(brand=brand).count() >= MAX_ENDPOINTS_PER_BRAND:
            raise ValidationFailed(f"A brand has at most {MAX_ENDPOINTS_PER_BRAND} endpoints", field="url")
        endpoint = Endpoint.objects.create(
            brand=brand,
            url=clean_url,
            events=clean_events,
            description=description.strip()[:200],
            secret=text_encrypt(secret),
        )
        audit_record(
            brand=brand,
            actor=actor,
            action="webhook.create",
            target_type="webhook_endpoint",
            target_id=endpoint.pk,
            data={"url": clean_url, "events": clean_events},
        )
        routes_changed(brand.pk)
    return Registered(endpoint=endpoint, secret=secret)


def _locked(brand: Brand, endpoint_id: Any) -> Endpoint:
    endpoint = Endpoint.objects.select_for_update().filter(brand=brand, pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("No such webhook endpoint", field="id")
    return endpoint


def endpoint_update(
    *,
    brand: Brand,
    endpoint_id: Any,
    actor: Actor,
    url: str | None = None,
    events: list[str] | None = None,
    active: bool | None = None,
    description: str | None = None,
) -> Endpoint:
    """Change what an endpoint hears, where it is, or switch it on or off. Switching it back on clears its
    failure count; its deliveries that were waiting go out again."""
    clean_events = _clean_events(events) if events is not None else None
    clean_url = _clean_url(url) if url is not None else None
    with transaction.atomic():
        endpoint = _locked(brand, endpoint_id)
        before = {"url": endpoint.url, "events": endpoint.events, "active": endpoint.active}
        fields = ["updated_at"]
        if clean_url is not None:
            endpoint.url, fields = clean_url, [*fields, "url"]
        if clean_events is not None:
            endpoint.events, fields = clean_events, [*fields, "events"]
        if description is not None:
            endpoint.description, fields = description.strip()[:200], [*fields, "description"]
        if active is not None and active != endpoint.active:
            endpoint.active = active
            endpoint.disabled_reason = "" if active else "disabled by staff"
            fields += ["active", "disabled_reason"]
            if active:
                endpoint.consecutive_failures, endpoint.failing_since, endpoint.owners_told_at = 0, None, None
                fields += ["consecutive_failures", "failing_since", "owners_told_at"]
        endpoint.save(update_fields=fields)
        audit_record(
            brand=brand,
            actor=actor,
            action="webhook.update",
            target_type="webhook_endpoint",
            target_id=endpoint.pk,
            data={
                "before": before,
                "after": {"url": endpoint.url, "events": endpoint.events, "active": endpoint.active},
            },
        )
        routes_changed(brand.pk)
    return endpoint


def endpoint_delete(*, brand: Brand, endpoint_id: Any, actor: Actor) -> None:
    """Remove an endpoint with its delivery log."""
    with transaction.atomic():
        endpoint = _locked(brand, endpoint_id)
        audit_record(
            brand=brand,
            actor=actor,
            action="webhook.delete",
            target_type="webhook_endpoint",
            target_id=endpoint.pk,
            data={"url": endpoint.url, "events": endpoint.events},
        )
        endpoint.delete()
        routes_changed(brand.pk)


def endpoint_rotate(
    *, brand: Brand, endpoint_id: Any, actor: Actor, now: datetime | None = None
) -> Registered:
    """A new secret, shown once. For ROTATION_OVERLAP the old one still signs too (both signatures are sent),
    so the receiver can switch over without losing a message."""
    now = now or timezone.now()
    secret = secret_new()
    with transaction.atomic():
        endpoint = _locked(brand, endpoint_id)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_until = now + ROTATION_OVERLAP
        endpoint.secret = text_encrypt(secret)
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"])
        audit_record(
            brand=brand,
            actor=actor,
            action="webhook.rotate",
            target_type="webhook_endpoint",
            target_id=endpoint.pk,
            data={"previous_until": endpoint.previous_secret_until.isoformat()},
        )
    return Registered(endpoint=endpoint, secret=secret)


def endpoint_secrets(endpoint: Endpoint, now: datetime) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the previous during its overlap."""
    found = [text_decrypt(endpoint.secret)]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        found.append(text_decrypt(endpoint.previous_secret))
    return found


def delivery_replay(*, brand: Brand, delivery_id: Any, actor: Actor, now: datetime | None = None) -> Delivery:
    """Send a delivery again, at once, with a fresh round of retries (the same webhook-id: the receiver can
    tell it is the same message). A delivery still pending is simply made due now."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .filter(brand=brand, pk=delivery_id)
            .select_related("endpoint")
            .first()
        )
        if delivery is None:
            raise NotFound("No such delivery", field="id")
        if not delivery.endpoint.active:
            raise ValidationFailed(
                "The endpoint is disabled; enable it first", field="id", code="endpoint_disabled"
            )
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING,
            round_start=F("attempts"),
            next_attempt_at=now,
            claim_token="",
            finished_at=None,
        )
        audit_record(
            brand=brand,
            actor=actor,
            action="webhook.replay",
            target_type="webhook_delivery",
            target_id=delivery.pk,
            data={"endpoint": str(delivery.endpoint_id), "status_before": delivery.status},
        )
        delivery.refresh_from_db()
    transaction.on_commit(dispatch_kick)
    return delivery
