"""A member is one customer of one brand, with consent per channel kept as proof."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MemberStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active")
    BLOCKED = "blocked", _("Blocked")
    ERASED = "erased", _("Erased")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PUSH = "push", _("Push")


class Member(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="memberships"
    )
    external_id = models.CharField(max_length=100, null=True, blank=True)
    email = models.EmailField(max_length=254, null=True, blank=True)
    phone = models.CharField(max_length=20, null=True, blank=True, help_text=_("E.164"))
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    birthday = models.DateField(null=True, blank=True)
    # Set by the services with `birthday` (kesher.members.birthdays): "born on this day" is an index lookup.
    birthday_md = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    hebrew_birthday_md = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    locale = models.CharField(max_length=2, default="he")
    interests = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    joined_at = models.DateTimeField()
    source = models.CharField(max_length=50, default="api")
    card_number = models.CharField(max_length=16)
    referral_code = models.CharField(max_length=12)
    referred_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Current consent per channel; the proof is the ConsentEvent history written in the same transaction.
    consent_email = models.BooleanField(default=False)
    consent_sms = models.BooleanField(default=False)
    consent_push = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "external_id"],
                condition=Q(external_id__isnull=False),
                name="member_unique_external_id",
            ),
            models.UniqueConstraint(
                fields=["brand", "email"], condition=Q(email__isnull=False), name="member_unique_email"
            ),
            models.UniqueConstraint(fields=["brand", "card_number"], name="member_unique_card"),
            models.UniqueConstraint(fields=["brand", "referral_code"], name="member_unique_referral_code"),
        ]
        indexes = [
            models.Index(fields=["brand", "phone"], name="member_phone"),
            models.Index(fields=["brand", "created_at", "id"], name="member_created"),
            models.Index(fields=["brand", "birthday_md"], name="member_birthday"),
            models.Index(fields=["brand", "hebrew_birthday_md"], name="member_hebrew_birthday"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or str(self.id)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def consents(self) -> dict[str, bool]:
        return {"email": self.consent_email, "sms": self.consent_sms, "push": self.consent_push}


class ConsentEvent(models.Model):
    """One grant or refusal, as the law asks it be proven: when, how, the words shown, from where."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="consent_events")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    granted = models.BooleanField()
    source = models.CharField(
        max_length=50, help_text=_("How: api, portal, store form, unsubscribe link ...")
    )
    wording = models.TextField(blank=True, help_text=_("The text the member saw"))
    origin = models.CharField(max_length=200, blank=True, help_text=_("From where: IP address, store, page"))
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["member", "channel", "-occurred_at"], name="consent_member_channel")]

    def __str__(self) -> str:
        return f"{self.channel}: {'granted' if self.granted else 'refused'}"
