"""The brand's look through the API: GET and PATCH /api/v1/brand (manage scope). Images are uploaded on
the console's settings page; here they are read as addresses."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict

from kesher.api.auth import actor_of, brand_of, require_scope
from kesher.api.common import ERRORS, idempotent
from kesher.brands.look import image_url
from kesher.brands.models import Brand
from kesher.campaigns.identity import brand_look_update

router = Router()


class BrandOut(Schema):
    slug: str
    name: str
    default_locale: str
    primary_color: str
    accent_color: str
    domain: str | None
    logo_url: str | None
    favicon_url: str | None
    sender_name: str
    sender_email: str
    sms_sender: str
    join_url: str


class BrandIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    primary_color: str | None = None
    accent_color: str | None = None
    domain: str | None = None
    sender_name: str | None = None
    sender_email: str | None = None
    sms_sender: str | None = None


def _brand_out(request: HttpRequest, brand: Brand) -> dict[str, Any]:
    from django.urls import reverse

    from kesher.campaigns.selectors import messaging_settings

    ms = messaging_settings(brand=brand)
    logo, favicon = image_url(brand, "logo"), image_url(brand, "favicon")
    return {
        "slug": brand.slug,
        "name": brand.name,
        "default_locale": brand.default_locale,
        "primary_color": brand.primary_color,
        "accent_color": brand.accent_color,
        "domain": brand.domain,
        "logo_url": request.build_absolute_uri(logo) if logo else None,
        "favicon_url": request.build_absolute_uri(favicon) if favicon else None,
        "sender_name": ms.sender_name or brand.name,
        "sender_email": ms.sender_email,
        "sms_sender": ms.sms_sender,
        "join_url": f"https://{brand.domain}/"
        if brand.domain
        else request.build_absolute_uri(reverse("join", args=[brand.slug])),
    }


@router.get("", response={200: BrandOut, **ERRORS}, summary="The brand's name, look and senders (manage)")
def get_brand(request: HttpRequest) -> dict[str, Any]:
    require_scope(request, "manage")
    return _brand_out(request, brand_of(request))


@router.patch(
    "",
    response={200: BrandOut, **ERRORS},
    summary="Change the brand's name, colours, domain or senders (manage)",
    description="Colours are #rrggbb and must give white text a contrast of at least 4.5:1 "
    "(`low_contrast` otherwise); `domain` is a host name such as club.example.co.il, or null for the "
    "installation's address; a refused change changes nothing.",
)
def patch_brand(request: HttpRequest, payload: BrandIn) -> Status[Any]:
    require_scope(request, "manage")
    changes = payload.model_dump(exclude_unset=True)

    def perform() -> tuple[int, Any]:
        brand = brand_look_update(brand=brand_of(request), changes=changes, actor=actor_of(request))
        return 200, _brand_out(request, brand)

    return idempotent(request, changes, perform)
