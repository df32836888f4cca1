"""The owner's page for the brand's look: name, colours, logo, favicon, domain and senders."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kesher.brands.access import require_role, staff_membership
from kesher.brands.forms import BrandLookForm
from kesher.brands.look import MIN_CONTRAST
from kesher.brands.models import StaffRole
from kesher.campaigns.identity import brand_look_update
from kesher.core.audit import Actor
from kesher.core.errors import KesherError

FORM_FIELDS = ("name", "primary_color", "accent_color", "domain", "sender_name", "sender_email", "sms_sender")


def _messages_errors(refusal: KesherError) -> str:
    # The services write in English for integrators; the owner reads a sentence in their language.
    wording = {
        "low_contrast": _(
            "This colour is too light for white text (at least 4.5:1 is needed). Choose a darker shade."
        ),
        "domain_taken": _("Another club already lives on this domain."),
        "image_too_large": _("The image is larger than 1 MB."),
    }
    if refusal.code in wording:
        return wording[refusal.code]
    by_field = {
        "primary_color": _("A colour is written #rrggbb, such as #0f766e."),
        "accent_color": _("A colour is written #rrggbb, such as #0f766e."),
        "domain": _("Write the domain alone, such as club.example.co.il (no https:// and no path)."),
        "logo": _("This file is not a PNG, JPEG, WebP, GIF or ICO image."),
        "favicon": _("This file is not a PNG, JPEG, WebP, GIF or ICO image."),
        "sender_email": _("Enter a valid email address."),
        "sms_sender": _("An SMS sender name has up to 11 English letters or digits."),
        "name": _("The club's name cannot be empty."),
    }
    return str(by_field.get(refusal.field or "", refusal.message))


@login_required
@require_http_methods(["GET", "POST"])
def brand_look(request: HttpRequest, slug: str) -> HttpResponse:
    membership = staff_membership(user=request.user, slug=slug)
    brand = require_role(membership, {StaffRole.OWNER})
    from kesher.campaigns.selectors import messaging_settings

    ms = messaging_settings(brand=brand)
    current: dict[str, Any] = {
        "name": brand.name,
        "primary_color": brand.primary_color,
        "accent_color": brand.accent_color,
        "domain": brand.domain or "",
        "sender_name": ms.sender_name,
        "sender_email": ms.sender_email,
        "sms_sender": ms.sms_sender,
    }
    status = 200
    if request.method == "POST":
        form = BrandLookForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            changes = {field: data[field] for field in FORM_FIELDS if data[field] != current[field]}
            remove = frozenset(
                kind for kind in ("logo", "favicon") if data[f"remove_{kind}"] and not data[kind]
            )
            try:
                brand_look_update(
                    brand=brand,
                    changes=changes,
                    logo=data["logo"],
                    favicon=data["favicon"],
                    remove=remove,
                    actor=Actor(user=request.user),  # type: ignore[arg-type]
                )
            except KesherError as refusal:
                field = refusal.field if refusal.field in form.fields else None
                form.add_error(field, _messages_errors(refusal))
            else:
                messages.success(request, _("The club's look was saved."))
                return HttpResponseRedirect(request.path, status=303)
        status = 422
    else:
        form = BrandLookForm(initial=current)
    return render(
        request,
        "brands/look.html",
        {"brand": brand, "membership": membership, "form": form, "min_contrast": MIN_CONTRAST},
        status=status,
    )
