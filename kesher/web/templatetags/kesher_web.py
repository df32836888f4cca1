"""Template filters: numbers read aloud (phone, club card) and a brand's texts in the reader's language."""

from __future__ import annotations

import phonenumbers
from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def phone_local(value: str | None, country: str = "IL") -> str:
    """+972501234567 as a person in the brand's country writes it: 050-123-4567."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException:
        return value
    if number.country_code == phonenumbers.country_code_for_region(country.upper()):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def card_groups(value: str | None) -> str:
    """A card number in groups of four, as printed on a card: 8123 4567 8903."""
    digits = value or ""
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


@register.filter
def in_language(thing: object, field: str) -> str:
    """A brand's own text in the reader's language when the brand wrote one ({"en": {"name": ...}} in
    `texts`, or {"en": "Gold"} for a tier's name), else the text as typed."""
    texts = getattr(thing, "texts", None)
    language = (get_language() or "he")[:2]
    if isinstance(texts, dict):
        translated = texts.get(language)
        if isinstance(translated, dict) and translated.get(field):
            return str(translated[field])
        if isinstance(translated, str) and translated and field == "name":
            return translated
    return str(getattr(thing, field, "") or "")
