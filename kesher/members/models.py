"""A member is one customer of one brand, with consent per channel kept as proof."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kesher.core.crypto import text_decrypt, text_encrypt

# The member fields a brand may mark as highly sensitive (Amendment 13): kept encrypted in `sealed`.
SEALABLE = ("birthday", "interests")


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
    # The fields the brand marked highly sensitive, encrypted (kesher.core.crypto): a JSON object of their
    # values; their plain columns stay empty. Read back into the fields when the row is loaded.
    sealed = models.TextField(blank=True, default="", editable=False)
    _sealed_names: tuple[str, ...] = ()  # which fields `sealed` holds, once opened

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

    def save(self, *args: Any, **kwargs: Any) -> None:
        names = self.sealed_fields
        if not names:
            super().save(*args, **kwargs)
            return
        # Sealed fields are written encrypted: their plain columns are stored empty, the values kept.
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and any(name in update_fields for name in names):
            kwargs["update_fields"] = [*update_fields, "sealed"]
        self.sealed = self.sealed_values(names)
        kept = {name: getattr(self, name) for name in names}
        self.birthday = None if "birthday" in names else self.birthday
        self.interests = [] if "interests" in names else self.interests
        try:
            super().save(*args, **kwargs)
        finally:
            for name, value in kept.items():
                setattr(self, name, value)

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        self._sealed_names = ()
        if self.__dict__.get("sealed"):
            self.sealed_open()

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> Member:
        instance = super().from_db(db, field_names, values)
        if instance.__dict__.get("sealed"):
            instance.sealed_open()
        return instance

    @property
    def sealed_fields(self) -> list[str]:
        return list(getattr(self, "_sealed_names", ()))

    def sealed_open(self) -> None:
        """The sealed values put back into their fields (in memory only)."""
        data = json.loads(text_decrypt(self.sealed))
        if "birthday" in data:
            self.birthday = date.fromisoformat(data["birthday"]) if data["birthday"] else None
        if "interests" in data:
            self.interests = list(data["interests"])
        self._sealed_names = tuple(name for name in SEALABLE if name in data)

    def sealed_values(self, names: Iterable[str]) -> str:
        """These fields' current values, encrypted, as `sealed` keeps them ("" for none)."""
        data: dict[str, Any] = {}
        for name in names:
            value = getattr(self, name)
            data[name] = value.isoformat() if isinstance(value, date) else value
        return text_encrypt(json.dumps(data)) if data else ""

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


class SensitiveFields(models.Model):
    """The member fields a brand marks as highly sensitive (Amendment 13 of the Israeli Privacy
    Protection Law): stored encrypted at rest and left out of exports to processors (API keys)."""

    brand = models.OneToOneField("brands.Brand", on_delete=models.CASCADE, primary_key=True, related_name="+")
    fields = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return ", ".join(self.fields) or "-"
