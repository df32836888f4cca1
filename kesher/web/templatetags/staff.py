"""{% staff_nav %}: the staff navigation for the brand of the page being rendered."""

from __future__ import annotations

from typing import Any

from django import template

from kesher.brands.models import Brand
from kesher.web.staff_nav import StaffNav, staff_nav

register = template.Library()


def _page_brand(context: template.Context) -> Brand | None:
    brand = context.get("brand")
    if isinstance(brand, Brand):
        return brand
    for name in ("campaign", "journey", "article"):  # pages about one thing of one brand
        thing = context.get(name)
        if thing is not None and isinstance(getattr(thing, "brand", None), Brand):
            return thing.brand  # type: ignore[no-any-return]
    return None


@register.inclusion_tag("web/partials/staff_nav.html", takes_context=True)
def staff_nav_for_page(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    memberships = list(context.get("staff_brands") or [])
    nav: StaffNav | None = staff_nav(request, _page_brand(context), memberships) if request else None
    return {"nav": nav}
