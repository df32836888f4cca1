"""The campaigns part in the Django admin: read mostly; sending goes through the API and services."""

from django.contrib import admin

from kesher.campaigns.models import Campaign, Journey, JourneyRun, Message, MessagingSettings, Segment


@admin.register(MessagingSettings)
class MessagingSettingsAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("brand", "sender_name", "sender_email", "weekly_advertising_cap", "quiet_on_shabbat")


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "brand", "created_at")
    list_filter = ("brand",)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "brand", "channel", "advertising", "status", "created_at")
    list_filter = ("brand", "channel", "status")
    readonly_fields = ("status", "exclusions", "send_requested_at", "queued_at", "finished_at", "created_by")


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
