"""Writing a campaign: its texts, translations, interest blocks and A/B variants, checked and compiled at
creation."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kesher.brands.models import Brand
from kesher.campaigns import rendering
from kesher.campaigns.models import (
    AbMetric,
    Campaign,
    CampaignChannel,
    CampaignVariant,
    Segment,
)
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import ValidationFailed
from kesher.loyalty.models import Reward


def _clean_translations(channel: str, raw: dict[str, Any] | None, main_locale: str) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for locale, content in (raw or {}).items():
        if locale not in Brand.Locale.values or locale == main_locale:
            raise ValidationFailed(
                f"translations.{locale}: a translation is into the other language (he or en)",
                field=f"translations.{locale}",
            )
        if not isinstance(content, dict) or not str(content.get("body", "")).strip():
            raise ValidationFailed(
                f"translations.{locale}.body is required", field=f"translations.{locale}.body"
            )
        subject = str(content.get("subject", "")).strip()
        if channel == CampaignChannel.EMAIL and not subject:
            raise ValidationFailed(
                f"translations.{locale}.subject is required for email", field=f"translations.{locale}.subject"
            )
        clean[locale] = {"subject": subject, "body": str(content["body"])}
    return clean


def _clean_blocks(raw: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    blocks = []
    for index, block in enumerate(raw or []):
        text = str(block.get("text", "")).strip()
        if not text:
            raise ValidationFailed(f"blocks.{index}.text is required", field=f"blocks.{index}.text")
        interests = [" ".join(str(tag).split()).lower() for tag in block.get("interests") or []]
        blocks.append({"interests": [tag for tag in interests if tag], "text": text})
    return blocks


@transaction.atomic
def campaign_create(
    *,
    brand: Brand,
    name: str,
    channel: str,
    subject: str = "",
    body: str,
    advertising: bool,
    segment: Segment | None = None,
    locale: str | None = None,
    translations: dict[str, Any] | None = None,
    blocks: list[dict[str, Any]] | None = None,
    variants: list[dict[str, Any]] | None = None,
    ab_test_percent: int | None = None,
    ab_wait_hours: int | None = None,
    ab_metric: str | None = None,
    coupon_reward: Reward | None = None,
    actor: Actor = SYSTEM,
) -> Campaign:
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed("name is required", field="name")
    if channel not in CampaignChannel.values:
        raise ValidationFailed("channel must be email, sms or portal", field="channel")
    clean_variants = _clean_variants(channel, variants, ab_test_percent, ab_wait_hours, ab_metric)
    if clean_variants and not body.strip():
        # The first variant stands for the campaign where one text is shown (lists, previews).
        subject, body = clean_variants[0]["subject"], clean_variants[0]["body"]
    subject = " ".join(subject.split())
    if channel != CampaignChannel.SMS and not subject:
        raise ValidationFailed(f"subject is required for {channel}", field="subject")
    if not body.strip():
        raise ValidationFailed("body is required", field="body")
    if coupon_reward is not None and coupon_reward.brand_id != brand.pk:
        raise ValidationFailed("coupon_reward belongs to another brand", field="coupon_reward")
    locale = locale or brand.default_locale
    if locale not in Brand.Locale.values:
        raise ValidationFailed("locale must be he or en", field="locale")
    if segment is not None and segment.brand_id != brand.pk:
        raise ValidationFailed("segment belongs to another brand", field="segment")
    clean_translations = _clean_translations(channel, translations, locale)
    clean_blocks = _clean_blocks(blocks)

    # Compile everything now, and render it for the longest possible member, so a mistake or a template
    # past the render's bounds is a 422 at creation and not a failure mid-send.
    def check(subject: str, body: str, locale: str) -> None:
        compiled = rendering.content_compile(subject, body, clean_blocks)
        rendering.content_check(compiled, locale=locale)

    for index, variant in enumerate(clean_variants):
        try:
            check(variant["subject"], variant["body"], locale)
            for other, content in _clean_translations(channel, variant["translations"], locale).items():
                check(content["subject"], content["body"], other)
        except ValidationFailed as exc:
            raise ValidationFailed(f"variants.{index}.{exc.message}", field=f"variants.{index}") from None
    check(subject, body, locale)
    for other, content in clean_translations.items():
        check(content["subject"], content["body"], other)
    campaign = Campaign.objects.create(
        brand=brand,
        name=name,
        channel=channel,
        locale=locale,
        subject=subject,
        body=body,
        translations=clean_translations,
        blocks=clean_blocks,
        advertising=advertising,
        segment=segment,
        coupon_reward=coupon_reward,
        ab_test_percent=(ab_test_percent or DEFAULT_AB_PERCENT) if clean_variants else None,
        ab_wait_hours=ab_wait_hours or DEFAULT_AB_WAIT_HOURS,
        ab_metric=ab_metric or AbMetric.OPENED,
        created_by=actor.label,
    )
    for position, variant in enumerate(clean_variants):
        CampaignVariant.objects.create(
            campaign=campaign,
            position=position,
            name=variant["name"] or chr(ord("A") + position),
            subject=variant["subject"],
            body=variant["body"],
            translations=_clean_translations(channel, variant["translations"], locale),
        )
    audit_record(
        brand=brand,
        actor=actor,
        action="campaign.create",
        target_type="campaign",
        target_id=campaign.pk,
        data={
            "name": name,
            "channel": channel,
            "advertising": advertising,
            "variants": len(clean_variants),
            "coupon_reward": str(coupon_reward.pk) if coupon_reward else None,
        },
    )
    return campaign


DEFAULT_AB_PERCENT = 20


DEFAULT_AB_WAIT_HOURS = 4


MAX_VARIANTS = 5


def _clean_variants(
    channel: str,
    raw: list[dict[str, Any]] | None,
    percent: int | None,
    wait_hours: int | None,
    metric: str | None,
) -> list[dict[str, Any]]:
    variants = raw or []
    if not variants:
        for name, value in (
            ("ab_test_percent", percent),
            ("ab_wait_hours", wait_hours),
            ("ab_metric", metric),
        ):
            if value is not None:
                raise ValidationFailed(f"{name} needs variants", field=name)
        return []
    if not 2 <= len(variants) <= MAX_VARIANTS:
        raise ValidationFailed(f"an A/B test has 2 to {MAX_VARIANTS} variants", field="variants")
    if percent is not None and not 1 <= percent <= 100:
        raise ValidationFailed("ab_test_percent must be 1 to 100", field="ab_test_percent")
    if wait_hours is not None and not 1 <= wait_hours <= 24 * 14:
        raise ValidationFailed("ab_wait_hours must be 1 to 336", field="ab_wait_hours")
    if metric is not None and metric not in AbMetric.values:
        raise ValidationFailed("ab_metric must be opened or clicked", field="ab_metric")
    if channel == CampaignChannel.SMS and (metric or AbMetric.OPENED) == AbMetric.OPENED:
        raise ValidationFailed("an SMS has no opens: choose ab_metric clicked", field="ab_metric")
    clean = []
    for index, variant in enumerate(variants):
        subject = " ".join(str(variant.get("subject") or "").split())
        body = str(variant.get("body") or "")
        if channel != CampaignChannel.SMS and not subject:
            raise ValidationFailed(f"variants.{index}.subject is required", field=f"variants.{index}.subject")
        if not body.strip():
            raise ValidationFailed(f"variants.{index}.body is required", field=f"variants.{index}.body")
        clean.append(
            {
                "name": " ".join(str(variant.get("name") or "").split())[:50],
                "subject": subject,
                "body": body,
                "translations": variant.get("translations") or {},
            }
        )
    return clean
