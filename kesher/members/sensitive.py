"""Fields a brand marks as highly sensitive (Amendment 13): encrypted at rest, left out of processor exports.

What is covered, exactly: the member's `birthday` and `interests` (Member has no other free attributes).
A marked field's value lives encrypted in `Member.sealed` (kesher.core.crypto, Fernet) and its plain
column is empty; the model opens it when a row is loaded and seals it again on save, so the portal, the
console and the services read and write it as before. What no longer sees a marked value: queries on the
plain column (a segment by age, a filter by interest). Birthday greetings keep working: the month-day keys
(`birthday_md`, `hebrew_birthday_md`) stay in the clear, a day of the year without the year.
"""

from __future__ import annotations

from django.db import transaction

from kesher.brands.models import Brand
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import ValidationFailed
from kesher.members.models import SEALABLE, Member, SensitiveFields


def sensitive_fields_of(brand: Brand) -> list[str]:
    row = SensitiveFields.objects.filter(brand_id=brand.pk).values_list("fields", flat=True).first()
    return [name for name in SEALABLE if name in (row or [])]


def member_seal(*, member: Member, names: list[str]) -> None:
    """Store exactly `names` of the member's sealable fields encrypted, the others in the clear."""
    member._sealed_names = tuple(name for name in SEALABLE if name in names)
    plain = {
        "birthday": None if "birthday" in names else member.birthday,
        "interests": [] if "interests" in names else list(member.interests or []),
    }
    Member.objects.filter(pk=member.pk).update(sealed=member.sealed_values(member._sealed_names), **plain)


@transaction.atomic
def sensitive_fields_set(*, brand: Brand, fields: list[str], actor: Actor = SYSTEM) -> list[str]:
    """Mark these fields highly sensitive for the brand, sealing (or opening) every member's values now."""
    unknown = set(fields) - set(SEALABLE)
    if unknown:
        raise ValidationFailed(f"{sorted(unknown)[0]} cannot be marked sensitive", field="fields")
    before = sensitive_fields_of(brand)
    chosen = [name for name in SEALABLE if name in fields]
    SensitiveFields.objects.update_or_create(brand=brand, defaults={"fields": chosen})
    if chosen != before:
        for member in Member.objects.filter(brand=brand).iterator(chunk_size=500):
            member_seal(member=member, names=chosen)
        audit_record(
            brand=brand,
            actor=actor,
            action="privacy.sensitive_fields",
            target_type="brand",
            target_id=brand.pk,
            data={"before": before, "after": chosen},
        )
    return chosen
