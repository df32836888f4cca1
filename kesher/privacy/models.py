"""The privacy part's rows: a brand's retention setting and the log of staff access to personal data."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PrivacySettings(models.Model):
    """How long the brand keeps prospects (leads) who never joined; empty keeps them."""

    brand = models.OneToOneField("brands.Brand", on_delete=models.CASCADE, primary_key=True, related_name="+")
    prospect_retention_days = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Prospects who never joined are erased after this many days")
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.brand_id}: {self.prospect_retention_days}"


class AccessKind(models.TextChoices):
    CONSOLE = "console", _("Opened the member's page")
    PRIVACY = "privacy", _("Opened the member's privacy page")
    EXPORT = "export", _("Downloaded the member's data")
    CASHIER = "cashier", _("Looked the member up at the counter")
    API_EXPORT = "api_export", _("Exported the member's data over the API")
    CORRECT = "correct", _("Corrected the member's details")
    ERASE = "erase", _("Erased the member")


class StaffAccessLog(models.Model):
    """One look at one member's personal data by staff or an integration: who, when, what, why.

    Written on every view, so it is one narrow insert: the member by id (no foreign key to check, and the
    row outlives a member removed by retention), no update, no read before it."""

    id = models.BigAutoField(primary_key=True)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", db_index=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key = models.ForeignKey(
        "brands.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    member_id = models.UUIDField()
    kind = models.CharField(max_length=12, choices=AccessKind.choices)
    reason = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["brand", "-at"], name="access_log_newest"),
            models.Index(fields=["brand", "member_id", "-at"], name="access_log_member"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.member_id}"
