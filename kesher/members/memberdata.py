"""The members part's share of a member's data: their profile and their consents with the proof, for the
download of their data and for erasure (registered from MembersConfig.ready(), kesher/members/hooks.py).

Erasure here anonymises the member's row (it stays, so the ledger's and the statistics' rows keep pointing
at one anonymous member), keeps each consent event's channel, decision, time, source and the wording the
member saw (the proof the law asks for) but not its origin (an IP address is personal), and redacts the
personal values that audit rows about the member held (before/after of a correction, a consent's origin).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from kesher.core.models import AuditEntry
from kesher.members.models import ConsentEvent, Member, MemberStatus
from kesher.members.services import _new_card_number, _new_referral_code, birthday_keys

REDACTED = "[erased]"
# Keys of an audit row's data that hold personal values, wherever they appear.
PERSONAL_KEYS = frozenset(
    {"email", "phone", "first_name", "last_name", "name", "birthday", "origin", "to", "ip", "address"}
)


def member_profile_export(*, member: Member) -> dict[str, Any]:
    return {
        "id": str(member.pk),
        "external_id": member.external_id,
        "email": member.email,
        "phone": member.phone,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "birthday": member.birthday.isoformat() if member.birthday else None,
        "locale": member.locale,
        "interests": list(member.interests or []),
        "status": member.status,
        "joined_at": member.joined_at.isoformat(),
        "source": member.source,
        "card_number": member.card_number,
        "referral_code": member.referral_code,
        "consents": member.consents,
    }


def member_consents_export(*, member: Member) -> list[dict[str, Any]]:
    return [
        {
            "channel": event.channel,
            "granted": event.granted,
            "source": event.source,
            "wording": event.wording,
            "origin": event.origin,
            "occurred_at": event.occurred_at.isoformat(),
        }
        for event in ConsentEvent.objects.filter(member=member).order_by("occurred_at", "id")
    ]


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: (REDACTED if key in PERSONAL_KEYS and item not in (None, "") else _redact(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


def _redact_changes(data: dict[str, Any]) -> dict[str, Any]:
    clean = _redact(data)
    for side in ("before", "after"):  # a correction's values, whatever the field
        if isinstance(clean.get(side), dict):
            clean[side] = {key: REDACTED for key in clean[side]}
    return clean  # type: ignore[no-any-return]


def member_audit_redact(*, member: Member) -> int:
    """Audit rows about the member keep what was done, when and by whom, not the personal values; rows the
    member wrote themselves (portal corrections) no longer name their sign-in account. How many changed."""
    changed = 0
    rows = AuditEntry.objects.filter(brand_id=member.brand_id, target_type="member", target_id=str(member.pk))
    for entry in rows.only("id", "data", "actor_user_id"):
        data = _redact_changes(entry.data or {})
        by_member = member.user_id is not None and entry.actor_user_id == member.user_id
        if data != entry.data or by_member:
            AuditEntry.objects.filter(pk=entry.pk).update(
                data=data, **({"actor_user": None} if by_member else {})
            )
            changed += 1
    return changed


def member_row_erase(*, member: Member) -> None:
    """The member's row anonymised: nothing left in it names or reaches the person; a fresh card number and
    referral code, so an old card or link no longer finds the record."""
    member_audit_redact(member=member)
    Member.objects.filter(pk=member.pk).update(
        email=None,
        phone=None,
        first_name="",
        last_name="",
        birthday=None,
        **birthday_keys(None),
        external_id=None,
        interests=[],
        sealed="",
        status=MemberStatus.ERASED,
        consent_email=False,
        consent_sms=False,
        consent_push=False,
        user=None,
        referred_by=None,
        card_number=_new_card_number(member.brand),
        referral_code=_new_referral_code(member.brand),
    )
    # The proof stays: channel, decision, time, source and the wording shown; where from (an IP) goes.
    ConsentEvent.objects.filter(member=member).update(origin="")
    _account_close(member)


def _account_close(member: Member) -> None:
    """The member's sign-in account goes too when it was theirs alone: no other club, no staff role."""
    if member.user_id is None:
        return
    user_model = get_user_model()
    user = user_model.objects.filter(pk=member.user_id).first()
    if user is None or user.is_staff or user.is_superuser:
        return
    if Member.objects.filter(user_id=user.pk).exclude(pk=member.pk).exists():
        return
    if user.staff_memberships.exists():  # type: ignore[attr-defined]
        return
    user.delete()
