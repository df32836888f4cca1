"""A brand's community set-up and standing: its settings, reputation table, first space, and privileges."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import override

from kesher.brands.models import Brand
from kesher.community.models import CommunityProfile, CommunitySettings, ReputationRule, Space
from kesher.members.models import Member

# Reputation a brand starts with, in line with the known Q&A sites; the brand may edit each number.
DEFAULT_REPUTATION: dict[str, int] = {
    "question_upvoted": 5,
    "answer_upvoted": 10,
    "answer_accepted": 15,
    "accepting_answer": 2,
    "post_downvoted": -2,
    "spam_removed": -100,
}

# The reputation each privilege needs, by default; a brand may change any of them.
DEFAULT_PRIVILEGES: dict[str, int] = {
    "vote_up": 1,
    "flag": 15,
    "post_without_review": 50,
    "vote_down": 125,
    "edit_others": 1000,
}


def community_install_defaults(*, brand: Brand) -> Space:
    """A new brand's community: settings, the reputation table and a public Q&A space "general"."""
    CommunitySettings.objects.get_or_create(brand=brand, defaults={"privileges": dict(DEFAULT_PRIVILEGES)})
    for event, points in DEFAULT_REPUTATION.items():
        ReputationRule.objects.get_or_create(brand=brand, event=event, defaults={"points": points})
    with override(brand.default_locale):
        name = _("General")
        description = _("Questions and answers about everything")
    space, _created = Space.objects.get_or_create(
        brand=brand,
        slug="general",
        defaults={"name": name, "description": description, "kind": "qa", "visibility": "public"},
    )
    return space


def community_settings(brand: Brand) -> CommunitySettings:
    found, _created = CommunitySettings.objects.get_or_create(
        brand=brand, defaults={"privileges": dict(DEFAULT_PRIVILEGES)}
    )
    return found


def privilege_threshold(brand: Brand, privilege: str) -> int:
    return int(community_settings(brand).privileges.get(privilege, DEFAULT_PRIVILEGES[privilege]))


def profile_of(member: Member) -> CommunityProfile:
    profile, _created = CommunityProfile.objects.get_or_create(
        member=member, defaults={"brand_id": member.brand_id}
    )
    return profile


def has_privilege(member: Member, privilege: str) -> bool:
    return profile_of(member).reputation >= privilege_threshold(member.brand, privilege)
