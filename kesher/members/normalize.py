"""Cleaning what people type: emails, phone numbers (050-1234567 becomes +972501234567), names."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from kesher.core.errors import ValidationFailed


def normalize_email(raw: str | None, *, field: str = "email") -> str | None:
    if raw is None or raw.strip() == "":
        return None
    email = raw.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed(f"{raw!r} is not a valid email address", field=field) from None
    return email


def normalize_phone(raw: str | None, *, default_country: str = "IL", field: str = "phone") -> str | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        number = phonenumbers.parse(raw, default_country)
    except phonenumbers.NumberParseException:
        raise ValidationFailed(f"{raw!r} is not a phone number", field=field) from None
    # "Possible" (right length for its country) rather than "valid": carriers open new prefixes faster than
    # the library's tables learn them (050-1234567 is a real-world Israeli mobile the tables reject).
    if not phonenumbers.is_possible_number(number):
        raise ValidationFailed(f"{raw!r} is not a valid phone number", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_name(raw: str | None) -> str:
    return " ".join((raw or "").split())[:100]


def normalize_interests(raw: list[str] | None) -> list[str]:
    seen: list[str] = []
    for tag in raw or []:
        clean = " ".join(tag.split()).lower()[:50]
        if clean and clean not in seen:
            seen.append(clean)
    return seen
