"""Who may do what on the staff pages: a staff membership of the brand, with a role that allows it."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import Http404

from kesher.brands.models import Brand, StaffMembership, StaffRole
from kesher.core.errors import PermissionDenied

# What each role may change. Every staff role may look.
CHANGE_PROGRAM = {StaffRole.OWNER, StaffRole.MARKETER}
ADJUST_POINTS = {StaffRole.OWNER, StaffRole.MARKETER, StaffRole.SERVICE_AGENT}

# What each role works with: the staff navigation shows a role these parts only (kesher/web/staff_nav.py).
SEE_PROGRAM = {StaffRole.OWNER, StaffRole.MARKETER, StaffRole.ANALYST}  # rules, rewards, tiers, referrals
SEE_MEMBERS = {StaffRole.OWNER, StaffRole.MARKETER, StaffRole.SERVICE_AGENT, StaffRole.ANALYST}
EXPORT_MEMBERS = {StaffRole.OWNER, StaffRole.MARKETER, StaffRole.ANALYST}  # a file of personal data
SEE_CAMPAIGNS = {StaffRole.OWNER, StaffRole.MARKETER, StaffRole.ANALYST}
MODERATE = {StaffRole.OWNER, StaffRole.MODERATOR}
SEE_MAGAZINE = {StaffRole.OWNER, StaffRole.MARKETER, StaffRole.ANALYST, StaffRole.MODERATOR}
SERVE_AT_COUNTER = {StaffRole.OWNER, StaffRole.SERVICE_AGENT}


def staff_membership(*, user: AbstractBaseUser | AnonymousUser, slug: str) -> StaffMembership:
    """The user's membership in the brand; 404 when there is none (the brand's existence stays private)."""
    membership = (
        StaffMembership.objects.select_related("brand").filter(user_id=user.pk or 0, brand__slug=slug).first()
        if user.is_authenticated
        else None
    )
    if membership is None:
        raise Http404("No such brand")
    return membership


def may(membership: StaffMembership, roles: set[StaffRole]) -> bool:
    return membership.role in roles or membership.user.is_superuser


def require_role(membership: StaffMembership, roles: set[StaffRole]) -> Brand:
    if membership.role not in roles and not (membership.user.is_superuser):
        raise PermissionDenied("Your role does not allow this", code="role_not_allowed")
    return membership.brand
