"""Who may do what on the staff pages: a staff membership of the brand, with a role that allows it."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import Http404

from kesher.brands.models import Brand, StaffMembership, StaffRole
from kesher.core.errors import PermissionDenied

# What each role may change. Every staff role may look.
CHANGE_PROGRAM = {StaffRole.OWNER, StaffRole.MARKETER}
ADJUST_POINTS = {StaffRole.OWNER, StaffRole.MARKETER, StaffRole.SERVICE_AGENT}


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


def require_role(membership: StaffMembership, roles: set[StaffRole]) -> Brand:
    if membership.role not in roles and not (membership.user.is_superuser):
        raise PermissionDenied("Your role does not allow this", code="role_not_allowed")
    return membership.brand
