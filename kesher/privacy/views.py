"""The privacy pages: the member's own (download, erasure), the staff's for one member (download on
request, correction, erasure) and the owners' (the staff access log, retention, sensitive fields)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kesher.brands.access import require_role, staff_membership
from kesher.brands.models import StaffMembership, StaffRole
from kesher.core.audit import SYSTEM, Actor
from kesher.core.errors import KesherError
from kesher.members.models import SEALABLE, Member, MemberStatus
from kesher.members.selectors import member_get
from kesher.members.sensitive import sensitive_fields_of, sensitive_fields_set
from kesher.members.services import member_update
from kesher.privacy import selectors, services
from kesher.privacy.models import AccessKind
from kesher.privacy.render import sections_html
from kesher.privacy.services import PRIVACY_STAFF

OWNERS = {StaffRole.OWNER}
ERASE_WORD = "ERASE"
SEALABLE_NAMES = {"birthday": gettext_lazy("Birthday"), "interests": gettext_lazy("Interests")}


def _user(request: HttpRequest) -> Any:
    if isinstance(request.user, AnonymousUser):
        raise DjangoPermissionDenied
    return request.user


def _download(
    member: Member, data: dict[str, Any], fmt: str, request: HttpRequest, back: str
) -> HttpResponse:
    stamp = timezone.localdate().isoformat()
    if fmt == "json":
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="my-data-{member.brand.slug}-{stamp}.json"'
        return response
    return render(
        request,
        "privacy/data.html",
        {
            "member": member,
            "brand": member.brand,
            "data": data,
            "sections": sections_html(data["sections"]),
            "back": back,
        },
    )


# --- the member's own page -------------------------------------------------------------------------


def _own_members(request: HttpRequest) -> list[Member]:
    user = _user(request)
    return list(
        Member.objects.filter(user_id=user.pk).exclude(status=MemberStatus.ERASED).select_related("brand")
    )


def _own_member(request: HttpRequest, wanted: str | None) -> Member:
    members = _own_members(request)
    if not members:
        raise Http404("You are not a member of any club")
    for member in members:
        if wanted in (str(member.pk), member.brand.slug):
            return member
    if wanted:
        raise Http404("No such club")
    return members[0]


@login_required
@require_GET
def portal_privacy(request: HttpRequest) -> HttpResponse:
    members = _own_members(request)
    if not members:
        raise Http404("You are not a member of any club")
    return render(request, "privacy/portal.html", {"members": members, "erase_word": ERASE_WORD})


@login_required
@require_GET
def portal_download(request: HttpRequest) -> HttpResponse:
    member = _own_member(request, request.GET.get("club"))
    data = services.member_data_export(member=member)
    return _download(member, data, request.GET.get("format", "html"), request, reverse("privacy:portal"))


@login_required
@require_POST
def portal_erase(request: HttpRequest) -> HttpResponse:
    member = _own_member(request, request.POST.get("member") or "-")
    if (request.POST.get("confirm") or "").strip().upper() != ERASE_WORD:
        messages.error(request, _("To erase your data, type %(word)s in the box.") % {"word": ERASE_WORD})
        return HttpResponseRedirect(reverse("privacy:portal"), status=303)
    user = _user(request)
    # The member's own request: the audit row names no one (their account may go with their data).
    services.privacy_erase(member=member, actor=SYSTEM, staff=False)
    if not get_user_model().objects.filter(pk=user.pk).exists():  # the account was theirs alone and went too
        logout(request)
    messages.success(request, _("Your data in %(club)s was erased.") % {"club": member.brand.name})
    return HttpResponseRedirect(reverse("home"), status=303)


# --- the staff's page about one member -------------------------------------------------------------


class CorrectForm(forms.Form):
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=100, required=False)
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    birthday = forms.DateField(
        label=gettext_lazy("Birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def _staff_member(request: HttpRequest, slug: str, member_id: str) -> tuple[StaffMembership, Member]:
    membership = staff_membership(user=request.user, slug=slug)
    require_role(membership, PRIVACY_STAFF)
    return membership, member_get(brand=membership.brand, member_id=member_id)


@login_required
@require_http_methods(["GET", "POST"])
def member_privacy(request: HttpRequest, slug: str, member_id: str) -> HttpResponse:
    membership, member = _staff_member(request, slug, member_id)
    actor = Actor(user=_user(request))
    initial = {name: getattr(member, name) for name in CorrectForm.base_fields}
    form = CorrectForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if member.status == MemberStatus.ERASED:
            raise Http404("This member was erased")
        if form.is_valid():
            changes = {
                name: (value or None) if name in ("email", "phone", "birthday") else value
                for name, value in form.cleaned_data.items()
                if (value or None) != (initial[name] or None)
            }
            try:
                if changes:
                    member_update(member=member, changes=changes, actor=actor)
                    services.access_record(
                        brand=membership.brand, actor=actor, member_id=member.pk, kind=AccessKind.CORRECT
                    )
            except KesherError as refusal:
                form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
            else:
                messages.success(request, _("The member's details were corrected."))
                return HttpResponseRedirect(request.path, status=303)
        status = 422
    else:
        services.access_record(
            brand=membership.brand, actor=actor, member_id=member.pk, kind=AccessKind.PRIVACY
        )
    return render(
        request,
        "privacy/member.html",
        {
            "brand": membership.brand,
            "membership": membership,
            "member": member,
            "form": form,
            "erase_word": ERASE_WORD,
            "log": selectors.access_log(brand=membership.brand, member_id=member.pk, limit=20),
        },
        status=status,
    )


@login_required
@require_GET
def member_export(request: HttpRequest, slug: str, member_id: str) -> HttpResponse:
    membership, member = _staff_member(request, slug, member_id)
    services.access_record(
        brand=membership.brand,
        actor=Actor(user=_user(request)),
        member_id=member.pk,
        kind=AccessKind.EXPORT,
        reason=request.GET.get("reason", ""),
    )
    data = services.member_data_export(member=member)  # for the member, on their request: everything
    back = reverse("privacy:member", args=[slug, member.pk])
    return _download(member, data, request.GET.get("format", "html"), request, back)


@login_required
@require_POST
def member_erase(request: HttpRequest, slug: str, member_id: str) -> HttpResponse:
    membership, member = _staff_member(request, slug, member_id)
    back = reverse("privacy:member", args=[slug, member.pk])
    if (request.POST.get("confirm") or "").strip().upper() != ERASE_WORD:
        messages.error(request, _("To erase this member, type %(word)s in the box.") % {"word": ERASE_WORD})
        return HttpResponseRedirect(back, status=303)
    services.privacy_erase(
        member=member, actor=Actor(user=_user(request)), reason=(request.POST.get("reason") or "")[:200]
    )
    messages.success(request, _("The member was erased."))
    return HttpResponseRedirect(back, status=303)


# --- the owners' page: the access log and the brand's privacy settings -----------------------------


@login_required
@require_GET
def access_log(request: HttpRequest, slug: str) -> HttpResponse:
    membership = staff_membership(user=request.user, slug=slug)
    brand = require_role(membership, OWNERS)
    return render(
        request,
        "privacy/access_log.html",
        {
            "brand": brand,
            "membership": membership,
            "rows": selectors.access_log(brand=brand, limit=200),
            "retention_days": services.retention_days_of(brand),
            "sensitive": sensitive_fields_of(brand),
            "sealable": [(name, SEALABLE_NAMES[name]) for name in SEALABLE],
        },
    )


@login_required
@require_POST
def privacy_settings(request: HttpRequest, slug: str) -> HttpResponse:
    membership = staff_membership(user=request.user, slug=slug)
    brand = require_role(membership, OWNERS)
    actor = Actor(user=_user(request))
    back = reverse("privacy:access_log", args=[slug])
    raw = (request.POST.get("retention_days") or "").strip()
    try:
        days = int(raw) if raw else None
    except ValueError:
        messages.error(request, _("Write the number of days, or leave it empty."))
        return HttpResponseRedirect(back, status=303)
    try:
        services.retention_set(brand=brand, days=days, actor=actor)
        sensitive_fields_set(brand=brand, fields=request.POST.getlist("sensitive"), actor=actor)
    except KesherError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("The privacy settings were saved."))
    return HttpResponseRedirect(back, status=303)
