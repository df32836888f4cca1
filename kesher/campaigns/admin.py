"""The campaigns part in the Django admin: read mostly; sending goes through the API and services."""

from django.contrib import admin

from kesher.campaigns.models import (
    Campaign,
    CampaignVariant,
    EmailSuppression,
    Journey,
    JourneyRun,
    Message,
    MessageForward,
    MessagingSettings,
    Segment,
)


@admin.register(MessagingSettings)
class MessagingSettingsAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "brand",
        "sender_name",
        "sender_email",
        "weekly_advertising_cap",
        "quiet_on_shabbat",
        "bounce_signature_required",
    )


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "brand", "created_at")
    list_filter = ("brand",)


class VariantInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CampaignVariant
    extra = 0
    readonly_fields = ("position", "name", "subject", "body")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "brand", "channel", "advertising", "status", "ab_state", "created_at")
    list_filter = ("brand", "channel", "status")
    readonly_fields = (
        "status",
        "exclusions",
        "send_requested_at",
        "queued_at",
        "finished_at",
        "created_by",
        "ab_state",
        "ab_test_queued_at",
        "ab_winner",
        "ab_decided_at",
    )
    raw_id_fields = ("coupon_reward", "segment", "journey")
    inlines = (VariantInline,)


@admin.register(EmailSuppression)
class EmailSuppressionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Hard-bounced addresses; deleting a row lets mail go to the address again."""

    list_display = ("email", "brand", "reason", "created_at")
    list_filter = ("brand", "reason")
    search_fields = ("email",)
    readonly_fields = ("brand", "email", "reason", "detail", "created_at")


@admin.register(MessageForward)
class MessageForwardAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("message", "to", "created_at", "sent_at", "error")
    raw_id_fields = ("message",)
    readonly_fields = ("brand", "message", "to", "created_at", "sent_at", "error")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("to", "campaign", "status", "consent_basis", "sent_at")
    list_filter = ("status", "channel")
    raw_id_fields = ("campaign", "member", "consent_event")
    readonly_fields = ("claim_token", "claimed_at", "attempts", "provider_ref")


@admin.register(Journey)
class JourneyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "brand", "trigger", "trigger_activity", "status", "created_at")
    list_filter = ("brand", "trigger", "status")


@admin.register(JourneyRun)
class JourneyRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("journey", "member", "occurrence", "step", "status", "next_at")
    list_filter = ("status",)
    raw_id_fields = ("journey", "member")
    readonly_fields = ("claimed_at", "log", "finished_at")
