"""Every write to members and their consent."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kesher.brands.models import Brand
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, ValidationFailed
from kesher.core.events import event_emit, event_type
from kesher.members.birthdays import gregorian_key, hebrew_key
from kesher.members.hooks import member_created_run, member_erase_run, member_joined_run
from kesher.members.models import Channel, ConsentEvent, Member, MemberStatus
from kesher.members.normalize import normalize_email, normalize_interests, normalize_name, normalize_phone
from kesher.members.sensitive import member_seal as _member_seal
from kesher.members.sensitive import sensitive_fields_of as _sensitive_fields_of

MEMBER_ERASED = event_type(
    "member.erased", "A member's personal data was erased; the anonymous record keeps the statistics"
)

REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud at a till

MEMBER_CREATED = event_type("member.created", "A member was added to the club")
MEMBER_UPDATED = event_type("member.updated", "A member's details changed")


def _member_data(member: Member) -> dict[str, Any]:
    return {
        "member_id": str(member.pk),
        "external_id": member.external_id,
        "email": member.email,
        "phone": member.phone,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "locale": member.locale,
        "status": member.status,
    }


def _luhn_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def _new_card_number(brand: Brand) -> str:
    while True:
        body = "8" + "".join(secrets.choice("0123456789") for _ in range(10))
        number = body + _luhn_digit(body)
        if not Member.objects.filter(brand=brand, card_number=number).exists():
            return number


def _new_referral_code(brand: Brand) -> str:
    while True:
        code = "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(8))
        if not Member.objects.filter(brand=brand, referral_code=code).exists():
            return code


def birthday_keys(birthday: date | None) -> dict[str, int | None]:
    """The indexed keys that go with a birthday; every write of `birthday` writes these with it."""
    return {"birthday_md": gregorian_key(birthday), "hebrew_birthday_md": hebrew_key(birthday)}


def _clean_birthday(value: Any) -> date | None:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if value.strip() else None
        except ValueError:
            raise ValidationFailed("birthday must be a date (YYYY-MM-DD)", field="birthday") from None
    if value is not None and not date(1900, 1, 1) <= value <= timezone.localdate():
        raise ValidationFailed("birthday must be a past date", field="birthday")
    return value  # type: ignore[no-any-return]


def _check_unique(
    brand: Brand, *, external_id: str | None, email: str | None, exclude: Member | None = None
) -> None:
    others = Member.objects.filter(brand=brand)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if external_id is not None and others.filter(external_id=external_id).exists():
        raise Conflict(
            f"A member with external_id {external_id!r} already exists",
            field="external_id",
            code="duplicate_member",
        )
    if email is not None and others.filter(email=email).exists():
        raise Conflict(
            f"A member with email {email!r} already exists", field="email", code="duplicate_member"
        )


def member_create(
    *,
    brand: Brand,
    external_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    first_name: str = "",
    last_name: str = "",
    birthday: date | None = None,
    locale: str | None = None,
    interests: list[str] | None = None,
    status: str = MemberStatus.ACTIVE,
    source: str = "api",
    consents: dict[str, bool] | None = None,
    consent_wording: str = "",
    consent_origin: str = "",
    referral_code: str | None = None,
    joined_at: Any = None,
    actor: Actor = SYSTEM,
    emit_signup: bool = True,
) -> Member:
    email = normalize_email(email)
    phone = normalize_phone(phone, default_country=brand.default_country)
    external_id = (external_id or "").strip() or None
    locale = locale or brand.default_locale
    if locale not in Brand.Locale.values:
        raise ValidationFailed("locale must be he or en", field="locale")
    if status not in (MemberStatus.PROSPECT, MemberStatus.ACTIVE):
        raise ValidationFailed("a new member is a prospect or active", field="status")
    if birthday is not None and not date(1900, 1, 1) <= birthday <= timezone.localdate():
        raise ValidationFailed("birthday must be a past date", field="birthday")
    unknown = set(consents or {}) - set(Channel.values)
    if unknown:
        raise ValidationFailed(f"unknown consent channel {sorted(unknown)[0]!r}", field="consents")
    referrer = None
    if referral_code:
        referrer = Member.objects.filter(brand=brand, referral_code=referral_code.strip().upper()).first()
        if referrer is None:
            raise ValidationFailed(f"No member has referral code {referral_code!r}", field="referral_code")

    with transaction.atomic():
        _check_unique(brand, external_id=external_id, email=email)
        now = timezone.now()
        try:
            with transaction.atomic():
                member = Member.objects.create(
                    brand=brand,
                    external_id=external_id,
                    email=email,
                    phone=phone,
                    first_name=normalize_name(first_name),
                    last_name=normalize_name(last_name),
                    birthday=birthday,
                    **birthday_keys(birthday),
                    locale=locale,
                    interests=normalize_interests(interests),
                    status=status,
                    joined_at=joined_at or now,
                    source=source,
                    card_number=_new_card_number(brand),
                    referral_code=_new_referral_code(brand),
                    referred_by=referrer,
                )
        except IntegrityError:
            # A concurrent create with the same external id or email won the race.
            raise Conflict(
                "A member with this external_id or email already exists", code="duplicate_member"
            ) from None
        sealed = _sensitive_fields_of(brand)
        if sealed:  # the fields the brand marked highly sensitive, encrypted at rest
            _member_seal(member=member, names=sealed)
        member_created_run(member=member)  # what each part keeps per member (kesher.members.hooks)
        for channel, granted in (consents or {}).items():
            consent_set(
                member=member,
                channel=channel,
                granted=granted,
                source=source,
                wording=consent_wording,
                origin=consent_origin,
                actor=actor,
                at=joined_at or now,
            )
        if emit_signup:  # the parts that answer a sign-up (kesher.members.hooks)
            member_joined_run(member=member, source=source, at=joined_at or now, referrer=referrer)
        event_emit(brand_id=brand.pk, type=MEMBER_CREATED, data=_member_data(member))
    return member


UPDATABLE = {
    "email",
    "phone",
    "first_name",
    "last_name",
    "birthday",
    "locale",
    "interests",
    "external_id",
    "status",
}


@transaction.atomic
def member_update(*, member: Member, changes: dict[str, Any], actor: Actor = SYSTEM) -> Member:
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValidationFailed(f"{sorted(unknown)[0]} cannot be changed here", field=sorted(unknown)[0])
    if member.status == MemberStatus.ERASED:
        raise Conflict("This member was erased", code="member_erased")
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "email":
            clean[name] = normalize_email(value)
        elif name == "phone":
            clean[name] = normalize_phone(value, default_country=member.brand.default_country)
        elif name in ("first_name", "last_name"):
            clean[name] = normalize_name(value)
        elif name == "interests":
            clean[name] = normalize_interests(value)
        elif name == "birthday":
            clean[name] = _clean_birthday(value)
        elif name == "locale" and value not in Brand.Locale.values:
            raise ValidationFailed("locale must be he or en", field="locale")
        elif name == "status" and value not in (
            MemberStatus.PROSPECT,
            MemberStatus.ACTIVE,
            MemberStatus.BLOCKED,
        ):
            raise ValidationFailed("status must be prospect, active or blocked", field="status")
        else:
            clean[name] = value.strip() or None if name == "external_id" and value else value
    _check_unique(
        member.brand, external_id=clean.get("external_id"), email=clean.get("email"), exclude=member
    )
    before = {name: str(getattr(member, name)) for name in clean}
    for name, value in clean.items():
        setattr(member, name, value)
    keys = birthday_keys(clean["birthday"]) if "birthday" in clean else {}
    for name, value in keys.items():
        setattr(member, name, value)
    member.save(update_fields=[*clean, *keys, "updated_at"])
    event_emit(
        brand_id=member.brand_id,
        type=MEMBER_UPDATED,
        data={**_member_data(member), "changed": sorted(clean)},
    )
    if actor != SYSTEM:
        audit_record(
            brand=member.brand,
            actor=actor,
            action="member.update",
            target_type="member",
            target_id=member.pk,
            data={"before": before, "after": {k: str(v) for k, v in clean.items()}},
        )
    return member


def consent_set(
    *,
    member: Member,
    channel: str,
    granted: bool,
    source: str,
    wording: str = "",
    origin: str = "",
    actor: Actor = SYSTEM,
    at: Any = None,
) -> ConsentEvent:
    """Grant or withdraw consent for one channel; the event is the legal proof."""
    if channel not in Channel.values:
        raise ValidationFailed(f"unknown consent channel {channel!r}", field="channel")
    with transaction.atomic():
        event = ConsentEvent.objects.create(
            brand_id=member.brand_id,
            member=member,
            channel=channel,
            granted=granted,
            source=source,
            wording=wording,
            origin=origin[:200],
            occurred_at=at or timezone.now(),
        )
        setattr(member, f"consent_{channel}", granted)
        Member.objects.filter(pk=member.pk).update(**{f"consent_{channel}": granted})
        audit_record(
            brand=member.brand,
            actor=actor,
            action="consent.grant" if granted else "consent.withdraw",
            target_type="member",
            target_id=member.pk,
            data={"channel": channel, "source": source, "origin": origin[:200]},
        )
    return event


def consent_change(
    *,
    member: Member,
    channel: str,
    granted: bool,
    source: str,
    wording: str = "",
    origin: str = "",
    actor: Actor = SYSTEM,
) -> ConsentEvent | None:
    """Set one channel's consent unless it is already so (a click repeated, or two at once): the member's
    row is locked while it looks, so the proof holds one event per real change. None when nothing changed."""
    if channel not in Channel.values:
        raise ValidationFailed(f"unknown consent channel {channel!r}", field="channel")
    with transaction.atomic():
        locked = Member.objects.select_for_update().filter(pk=member.pk)
        current = locked.values_list(f"consent_{channel}", flat=True).get()
        if current == granted:
            setattr(member, f"consent_{channel}", granted)
            return None
        return consent_set(
            member=member,
            channel=channel,
            granted=granted,
            source=source,
            wording=wording,
            origin=origin,
            actor=actor,
        )


@transaction.atomic
def member_erase(*, member: Member, actor: Actor = SYSTEM) -> Member:
    """Privacy Protection Law erasure: every part that keeps data about the member removes or anonymises
    it (kesher.members.hooks, `on_member_erase`: this part's own is kesher.members.memberdata); the
    ledger and the statistics stay, anonymous. Erasing an erased member changes nothing."""
    status = Member.objects.select_for_update().filter(pk=member.pk).values_list("status", flat=True).get()
    if status == MemberStatus.ERASED:
        member.refresh_from_db()
        return member
    member_erase_run(member=member)  # the member as it was: each part finds its rows by what it held
    audit_record(
        brand=member.brand,
        actor=actor,
        action="member.erase",
        target_type="member",
        target_id=member.pk,
        data={},
    )
    event_emit(brand_id=member.brand_id, type=MEMBER_ERASED, data={"member_id": str(member.pk)})
    member.refresh_from_db()
    return member
