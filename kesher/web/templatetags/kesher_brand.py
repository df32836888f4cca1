"""The brand's look in a page: its colours as CSS custom properties and the addresses of its images."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from kesher.brands.look import email_look, image_url, style_vars
from kesher.brands.models import Brand

register = template.Library()


@register.simple_tag
def brand_style(brand: Brand | None) -> SafeString | str:
    """A <style> giving the page the brand's colours; nothing for installation pages."""
    if not brand:
        return ""
    return format_html(
        "<style>:root{{{}}}</style>", style_vars(primary=brand.primary_color, accent=brand.accent_color)
    )


@register.filter
def brand_image_url(brand: Brand | None, kind: str) -> str:
    return image_url(brand, kind)


@register.simple_tag
def brand_email_look(brand: Brand | None) -> dict[str, str]:
    """{% brand_email_look brand as look %}: the brand's name, colours and logo address for an email."""
    return email_look(brand)
