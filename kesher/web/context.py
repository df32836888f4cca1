"""Template context every page needs: text direction, the other language, and the brands a user staffs."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language, get_language_bidi

from kesher.brands.access import support_membership
from kesher.brands.models import Brand, StaffMembership
from kesher.brands.selectors import staff_brands
from kesher.web.branding import page_brand


def _staff_brands(request: HttpRequest) -> list[StaffMembership]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    memberships = staff_brands(user=user)
    if user.is_superuser:  # the installation admin reaches every brand for support (docs/security.md)
        staffed = {m.brand_id for m in memberships}
        others = Brand.objects.exclude(pk__in=staffed).order_by("name")
        memberships += [support_membership(user=user, brand=brand) for brand in others]
        memberships.sort(key=lambda m: m.brand.name)
    return memberships


def kesher(request: HttpRequest) -> dict[str, object]:
    language = get_language() or "he"
    return {
        "text_direction": "rtl" if get_language_bidi() else "ltr",
        "other_language": "en" if language.startswith("he") else "he",
        # Lazy: the query runs only on pages that show the cashier link.
        "staff_brands": SimpleLazyObject(lambda: _staff_brands(request)),
        # The brands whose counter the user serves at: memberships only, never support access.
        "counter_brands": SimpleLazyObject(lambda: [m for m in _staff_brands(request) if m.pk is not None]),
        # The look of a page with no brand of its own (accounts pages): the host's or the session's brand.
        "site_brand": SimpleLazyObject(lambda: page_brand(request)),
    }
