"""A brand is a tenant: every domain row belongs to one, and nothing crosses brands."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

HEX_COLOUR = RegexValidator(r"^#[0-9a-f]{6}$", _("A colour is written #rrggbb, such as #0f766e"))


def brand_image_path(brand: Brand, filename: str) -> str:
    # A fresh name on every upload: the old address stops being served, so no cache shows the old image.
    extension = filename.rpartition(".")[2].lower()[:5] or "png"
    return f"brands/{brand.pk}/{uuid.uuid4().hex}.{extension}"


class Brand(models.Model):
    class Locale(models.TextChoices):
        HEBREW = "he", _("Hebrew")
        ENGLISH = "en", _("English")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    default_locale = models.CharField(max_length=2, choices=Locale.choices, default=Locale.HEBREW)
    currency = models.CharField(max_length=3, default="ILS")
    time_zone = models.CharField(max_length=64, default="Asia/Jerusalem")
    default_country = models.CharField(
        max_length=2, default="IL", help_text=_("For phone numbers typed locally")
    )
    rate_limit_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("Requests per minute per API key; empty uses the installation default"),
    )
    # The brand's look on its members' pages and emails (kesher/brands/look.py checks the colours).
    primary_color = models.CharField(
        max_length=7, default="#0f766e", validators=[HEX_COLOUR], help_text=_("Buttons and links")
    )
    accent_color = models.CharField(
        max_length=7, default="#1e3a8a", validators=[HEX_COLOUR], help_text=_("The club card and highlights")
    )
    logo = models.ImageField(upload_to=brand_image_path, blank=True)
    favicon = models.ImageField(upload_to=brand_image_path, blank=True)
    # The brand's own address for its pages (club.example.co.il); empty: the installation's, under a path.
    domain = models.CharField(max_length=253, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StaffRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    MARKETER = "marketer", _("Marketer")
    MODERATOR = "moderator", _("Moderator")
    SERVICE_AGENT = "service_agent", _("Service agent")
    ANALYST = "analyst", _("Analyst")


class StaffMembership(models.Model):
    """A user's role in one brand. A user may work for several brands with different roles."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_memberships"
    )
    role = models.CharField(max_length=20, choices=StaffRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "user"], name="staff_unique_brand_user")]

    def __str__(self) -> str:
        return f"{self.user} · {self.brand} · {self.role}"


class ApiScope(models.TextChoices):
    POS = "pos", _("Point of sale")
    MANAGE = "manage", _("Manage")
    ALL = "all", _("All")


class ApiKey(models.Model):
    """A key is shown once; only its prefix (to find it) and its SHA-256 hash (to check it) are kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scope = models.CharField(max_length=10, choices=ApiScope.choices)
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.brand.slug}:{self.prefix} ({self.scope})"

    def allows(self, scope: str) -> bool:
        return self.scope == ApiScope.ALL or self.scope == scope
