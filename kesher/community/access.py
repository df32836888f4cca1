"""Who reads: anonymous, a member (with tiers), staff. One place decides what each may see."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import Q

from kesher.brands.models import Brand, StaffMembership
from kesher.members.models import Member, MemberStatus

TierResolver = Callable[[Member], Iterable[str]]


def loyalty_tier_names(member: Member) -> list[str]:
    """The name of the member's current loyalty tier (spaces name their tiers by name)."""
    from kesher.loyalty.models import PointsAccount

    name = PointsAccount.objects.filter(member=member).values_list("tier__name", flat=True).first()
    return [name] if name else []


_tier_resolver: TierResolver = loyalty_tier_names


def tier_resolver_set(resolver: TierResolver) -> None:
    """Replace how tiers are found (tests; an installation with tiers kept elsewhere)."""
    global _tier_resolver
    _tier_resolver = resolver


def member_tiers(member: Member) -> frozenset[str]:
    return frozenset(_tier_resolver(member))


@dataclass(frozen=True)
class Reader:
    brand: Brand
    member: Member | None = None
    is_staff: bool = False
    tiers: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_member(self) -> bool:
        return self.member is not None and self.member.status in (MemberStatus.ACTIVE, MemberStatus.PROSPECT)


def reader_anonymous(brand: Brand) -> Reader:
    return Reader(brand=brand)


def reader_staff(brand: Brand) -> Reader:
    return Reader(brand=brand, is_staff=True)


def reader_member(member: Member) -> Reader:
    return Reader(brand=member.brand, member=member, tiers=member_tiers(member))


def reader_for_user(brand: Brand, user: object) -> Reader:
    """A signed-in person on the web: staff of the brand, its member, or both (staff wins for reading)."""
    if not getattr(user, "is_authenticated", False):
        return reader_anonymous(brand)
    user_id = int(getattr(user, "pk", 0) or 0)
    member = Member.objects.filter(brand=brand, user_id=user_id).first()
    is_staff = StaffMembership.objects.filter(brand=brand, user_id=user_id).exists()
    tiers = member_tiers(member) if member is not None else frozenset()
    return Reader(brand=brand, member=member, is_staff=is_staff, tiers=tiers)


def visible_spaces_q(reader: Reader, prefix: str = "") -> Q:
    """A filter on spaces (or on rows through `prefix`, like "space__") for what the reader may open."""
    brand_q = Q(**{f"{prefix}brand": reader.brand})
    if reader.is_staff:
        return brand_q
    allowed = Q(**{f"{prefix}visibility": "public"})
    if reader.is_member:
        allowed |= Q(**{f"{prefix}visibility": "members"})
        if reader.tiers:
            # A brand has few tier spaces: match their tier lists here, the same on every database.
            from kesher.community.models import Space

            tier_spaces = Space.objects.filter(brand=reader.brand, visibility="tiers").values_list(
                "pk", "tiers"
            )
            ids = [pk for pk, tiers in tier_spaces if reader.tiers.intersection(tiers)]
            allowed |= Q(**{f"{prefix}pk__in": ids})
    return brand_q & allowed


def space_visible(space: object, reader: Reader) -> bool:
    if getattr(space, "brand_id", None) != reader.brand.pk:
        return False
    if reader.is_staff:
        return True
    visibility = getattr(space, "visibility", "")
    if visibility == "public":
        return True
    if visibility == "members":
        return reader.is_member
    if visibility == "tiers":
        return reader.is_member and bool(reader.tiers.intersection(getattr(space, "tiers", [])))
    return False


def visible_posts_q(reader: Reader, prefix: str = "") -> Q:
    """Published posts in spaces the reader may open; staff see everything; authors see their held posts."""
    in_space = visible_spaces_q(reader, prefix=f"{prefix}space__")
    if reader.is_staff:
        return in_space
    shown = Q(**{f"{prefix}status": "published"})
    if reader.member is not None:
        shown |= Q(**{f"{prefix}status": "held", f"{prefix}author": reader.member})
    return in_space & shown


def post_shown(reader: Reader, *, status: str, author_id: object) -> bool:
    """`visible_posts_q` for one post of a thread the reader may open (the space is already checked)."""
    if reader.is_staff or status == "published":
        return True
    return reader.member is not None and status == "held" and author_id == reader.member.pk
