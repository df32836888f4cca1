"""The one navigation every staff page carries: the brand's parts a role works with, nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kesher.brands import access
from kesher.brands.models import Brand, StaffMembership, StaffRole


@dataclass(frozen=True)
class NavLink:
    key: str
    label: str | Promise
    url: str
    current: bool


@dataclass(frozen=True)
class StaffNav:
    brand: Brand
    membership: StaffMembership
    links: list[NavLink]
    other_brands: list[Brand]
    support: bool = False  # the installation admin's support access (no membership of the brand)


# (key, label, URL name, takes the brand's slug, roles that see it, current on sub-pages too)
_SECTIONS: list[tuple[str, Any, str, bool, set[StaffRole] | None, bool]] = [
    ("overview", _("Overview"), "loyalty:overview", True, None, False),
    ("members", _("Members"), "loyalty:members", True, access.SEE_MEMBERS, True),
    ("rules", _("Earning rules"), "loyalty:rules", True, access.SEE_PROGRAM, True),
    ("rewards", _("Rewards"), "loyalty:rewards", True, access.SEE_PROGRAM, True),
    ("tiers", _("Tiers"), "loyalty:tiers", True, access.SEE_PROGRAM, True),
    ("referrals", _("Referrals"), "loyalty:referrals", True, access.SEE_PROGRAM, True),
    ("campaigns", _("Campaigns"), "campaigns:staff_list", False, access.SEE_CAMPAIGNS, False),
    ("journeys", _("Journeys"), "campaigns:staff_journeys", False, access.SEE_CAMPAIGNS, True),
    # insights
    ("insights", _("Insights"), "insights:dashboard", True, access.SEE_CAMPAIGNS, True),
    ("moderation", _("Moderation"), "community:moderation", True, access.MODERATE, True),
    ("reviews", _("Reviews"), "reviews:console", True, access.MODERATE, True),
    ("magazine", _("Magazine"), "magazine:console", True, access.SEE_MAGAZINE, True),
    ("surveys", _("Surveys"), "surveys:console", True, access.SEE_SURVEYS, True),
    ("ideas", _("Ideas board"), "ideas:console", True, access.RUN_IDEAS, True),
    ("customers", _("Customer data"), "customers:import", True, access.MANAGE_CUSTOMER_DATA, True),
    ("listening", _("Listening"), "listening:stream", True, access.HEAR_CUSTOMERS, True),
    ("cashier", _("Cashier"), "cashier", False, access.SERVE_AT_COUNTER, True),
    ("webhooks", _("Webhooks"), "webhooks:console", True, {StaffRole.OWNER}, True),  # webhooks console
    ("privacy", _("Privacy"), "privacy:access_log", True, {StaffRole.OWNER}, True),  # privacy (issue 18)
]
_CAMPAIGN_PAGES = "/c/staff/"


def _links(membership: StaffMembership, path: str) -> list[NavLink]:
    brand = membership.brand
    links = []
    for key, label, name, by_slug, roles, prefix in _SECTIONS:
        if roles is not None and not access.may(membership, roles):
            continue
        if key == "cashier" and access.is_support(membership):
            continue  # support looks after the brand's pages; the counter serves its customers
        url = reverse(name, args=[brand.slug] if by_slug else [])
        if key == "campaigns":  # its detail pages live beside the journeys, under /c/staff/
            journeys = reverse("campaigns:staff_journeys")
            current = path.startswith(_CAMPAIGN_PAGES) and not path.startswith(journeys)
        elif key == "customers":  # the import pages and the duplicates queue (customers-console)
            current = path.startswith((url, reverse("customers:duplicates", args=[brand.slug])))
        else:
            current = path.startswith(url) if prefix else path == url
        links.append(NavLink(key=key, label=label, url=url, current=current))
    return links


def staff_nav(
    request: HttpRequest, brand: Brand | None, memberships: list[StaffMembership]
) -> StaffNav | None:
    """The links for the user's role in `brand`; on a page of no one brand (the campaigns list, the
    cashier), for the first brand whose navigation holds the page. None when the user is not staff."""
    path = request.path
    chosen: tuple[StaffMembership, list[NavLink]] | None = None
    for membership in memberships:
        if brand is not None and membership.brand_id != brand.pk:
            continue
        links = _links(membership, path)
        if chosen is None:
            chosen = (membership, links)
        if brand is not None or any(link.current for link in links):
            chosen = (membership, links)
            break
    if chosen is None:
        return None
    membership, links = chosen
    others = [m.brand for m in memberships if m.brand_id != membership.brand_id]
    return StaffNav(
        brand=membership.brand,
        membership=membership,
        links=links,
        other_brands=others,
        support=access.is_support(membership),
    )
