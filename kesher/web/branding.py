"""Which brand a page is dressed in: the one whose domain it was asked on, else the club the visitor
last joined or opened in this browser. Installation pages (home with several brands) have none."""

from __future__ import annotations

from django.http import HttpRequest

from kesher.brands.models import Brand
from kesher.brands.selectors import brand_for_host

SESSION_KEY = "kesher_brand"
_UNSET = object()


def host_brand(request: HttpRequest) -> Brand | None:
    found = getattr(request, "_kesher_host_brand", _UNSET)
    if found is _UNSET:
        found = brand_for_host(host=request.get_host())
        request._kesher_host_brand = found  # type: ignore[attr-defined]
    return found  # type: ignore[return-value]


def page_brand(request: HttpRequest) -> Brand | None:
    """The host's brand, else the brand remembered in the session (set by the join and card pages)."""
    brand = host_brand(request)
    if brand is not None:
        return brand
    session = getattr(request, "session", None)
    slug = session.get(SESSION_KEY) if session is not None else None
    return Brand.objects.filter(slug=slug).first() if slug else None


def remember_brand(request: HttpRequest, brand: Brand) -> None:
    if request.session.get(SESSION_KEY) != brand.slug:
        request.session[SESSION_KEY] = brand.slug
