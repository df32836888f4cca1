"""A brand's look: its colours checked for contrast (WCAG 2.1), its domain, and the CSS it gives pages."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from kesher.core.errors import ValidationFailed

if TYPE_CHECKING:
    from kesher.brands.models import Brand

# White text sits on both colours (buttons in the primary, the club card from primary to accent), and
# the primary is also the colour of links on white: AA for normal text asks 4.5:1 against white.
MIN_CONTRAST = 4.5
WHITE = "#ffffff"
_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def colour_parse(value: str, *, field: str) -> str:
    """#RGB, #rrggbb or rrggbb as #rrggbb in lower case; anything else is refused."""
    found = _HEX.match((value or "").strip())
    if found is None:
        raise ValidationFailed(_("A colour is written #rrggbb, such as #0f766e."), field=field)
    digits = found.group(1).lower()
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    return f"#{digits}"


def _luminance(colour: str) -> float:
    def channel(offset: int) -> float:
        value = int(colour[offset : offset + 2], 16) / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours, from 1 (same) to 21 (black on white)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def colour_check(value: str, *, field: str) -> str:
    """A colour white text can sit on and links can be drawn in: at least 4.5:1 against white."""
    colour = colour_parse(value, field=field)
    ratio = contrast_ratio(colour, WHITE)
    if ratio < MIN_CONTRAST:
        raise ValidationFailed(
            _(
                "%(colour)s is too light: white text on it has a contrast of %(ratio).1f:1, and at least "
                "4.5:1 is needed to be readable. Choose a darker shade."
            )
            % {"colour": colour, "ratio": ratio},
            field=field,
            code="low_contrast",
        )
    return colour


def domain_parse(value: str | None) -> str | None:
    """A host name such as club.example.co.il, in lower case; empty means the installation's address."""
    host = (value or "").strip().lower().rstrip(".")
    if not host:
        return None
    if "://" in host or "/" in host or ":" in host or _DOMAIN.match(host) is None:
        raise ValidationFailed(
            _("Write the domain alone, such as club.example.co.il (no https:// and no path)."), field="domain"
        )
    return host


def style_vars(*, primary: str, accent: str) -> str:
    """The CSS custom properties the stylesheet reads; from colours already checked, so safe to inline."""
    colour_parse(primary, field="primary_color")  # never inline anything but a colour
    colour_parse(accent, field="accent_color")
    return f"--accent:{primary};--accent-ink:#fff;--brand-primary:{primary};--brand-accent:{accent};"


def image_url(brand: Brand | None, kind: str) -> str:
    """Where the brand's logo or favicon is served (a path); empty when it has none. The stored name
    changes with every upload, so the address can be cached for good."""
    from django.urls import reverse

    image = getattr(brand, kind, None) if brand and kind in ("logo", "favicon") else None
    if brand is None or not image:
        return ""
    return reverse("brand_image", args=[brand.slug, kind, image.name.rpartition("/")[2]])


def base_url(brand: Brand | None) -> str:
    """Where the brand's pages are reached from outside: its own domain, else the installation's."""
    from django.conf import settings

    domain = getattr(brand, "domain", None)
    return f"https://{domain}" if domain else str(settings.KESHER_BASE_URL).rstrip("/")


def email_look(brand: Brand | None) -> dict[str, str]:
    """What an email template needs to wear the brand: name, colours and the logo's full address."""
    logo = image_url(brand, "logo")
    return {
        "name": str(getattr(brand, "name", "")),
        "primary": str(getattr(brand, "primary_color", None) or "#0f766e"),
        "accent": str(getattr(brand, "accent_color", None) or "#1e3a8a"),
        "logo_url": f"{base_url(brand)}{logo}" if logo else "",
        "base_url": base_url(brand),
    }
