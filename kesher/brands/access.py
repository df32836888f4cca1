"""Who may do what on the staff pages: a staff membership of the brand, with a role that allows it."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import Http404
from django.utils import timezone

from kesher.brands.models import Brand, StaffMembership, StaffRole
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import PermissionDenied
from kesher.core.models import AuditEntry

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
SEE_SURVEYS = {StaffRole.OWNER, StaffRole.MARKETER, StaffRole.ANALYST, StaffRole.SERVICE_AGENT}
RUN_IDEAS = {StaffRole.OWNER, StaffRole.MODERATOR, StaffRole.MARKETER}  # the board, challenges, beta programs
MANAGE_CUSTOMER_DATA = {StaffRole.OWNER, StaffRole.MARKETER}  # importing files, reviewing duplicates
# listening: who reads what customers say (the stream, top voices, connectors and topics)
HEAR_CUSTOMERS = {StaffRole.OWNER, StaffRole.MARKETER, StaffRole.ANALYST, StaffRole.SERVICE_AGENT}
WORK_INBOX = {StaffRole.OWNER, StaffRole.SERVICE_AGENT}  # the service inbox: cases, replies, making it right


# The installation admin's support access is audited once per brand per admin per this long.
SUPPORT_AUDIT_EVERY = timedelta(hours=1)
SUPPORT_ACCESS = "support.access"


def staff_membership(*, user: AbstractBaseUser | AnonymousUser, slug: str) -> StaffMembership:
    """The user's membership in the brand; 404 when there is none (the brand's existence stays private).

    The installation admin (a superuser) with no membership of the brand gets a support membership: an
    owner's, never saved, and the opening is audited (see `support_opened`)."""
    if not user.is_authenticated:
        raise Http404("No such brand")
    membership = (
        StaffMembership.objects.select_related("brand").filter(user_id=user.pk or 0, brand__slug=slug).first()
    )
    if membership is None and getattr(user, "is_superuser", False):
        brand = Brand.objects.filter(slug=slug).first()
        if brand is not None:
            return support_opened(user=user, brand=brand)  # type: ignore[arg-type]
    if membership is None:
        raise Http404("No such brand")
    return membership


def support_membership(*, user: AbstractBaseUser, brand: Brand) -> StaffMembership:
    """The unsaved owner's membership the installation admin works under in a brand it does not staff."""
    return StaffMembership(brand=brand, user=user, role=StaffRole.OWNER)  # type: ignore[misc]


def is_support(membership: StaffMembership) -> bool:
    """Whether this is the installation admin's support access, not a membership the brand granted."""
    return membership.pk is None and bool(getattr(membership.user, "is_superuser", False))


def support_opened(*, user: AbstractBaseUser, brand: Brand) -> StaffMembership:
    """The installation admin opens a staff page of `brand` it is not staff of: a `support.access` audit
    entry, at most one per brand and admin per SUPPORT_AUDIT_EVERY, and the support membership."""
    since = timezone.now() - SUPPORT_AUDIT_EVERY
    recent = AuditEntry.objects.filter(
        brand=brand, actor_user_id=user.pk, action=SUPPORT_ACCESS, created_at__gte=since
    ).exists()
    if not recent:
        audit_record(
            brand=brand,
            actor=Actor(user=user),
            action=SUPPORT_ACCESS,
            target_type="brand",
            target_id=brand.pk,
            data={"slug": brand.slug},
        )
    return support_membership(user=user, brand=brand)


def support_brand(*, user: AbstractBaseUser | AnonymousUser, brand: Brand) -> bool:
    """For pages that check roles their own way: True (and audited) when `user` is the installation admin
    with no membership of `brand`."""
    if not getattr(user, "is_superuser", False):
        return False
    if StaffMembership.objects.filter(brand=brand, user_id=user.pk or 0).exists():
        return False
    support_opened(user=user, brand=brand)  # type: ignore[arg-type]
    return True


def may(membership: StaffMembership, roles: set[StaffRole]) -> bool:
    return membership.role in roles or membership.user.is_superuser


def require_role(membership: StaffMembership, roles: set[StaffRole]) -> Brand:
    if membership.role not in roles and not (membership.user.is_superuser):
        raise PermissionDenied("Your role does not allow this", code="role_not_allowed")
    return membership.brand
