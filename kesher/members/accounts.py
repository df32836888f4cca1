"""Linking a person's login to their club cards: verified email addresses only, in every brand."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from kesher.core.audit import Actor, audit_record
from kesher.members.models import Member, MemberStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def memberships_link(*, user: AbstractBaseUser) -> list[Member]:
    """Link `user` to every unlinked member, in any brand, whose email is one of their verified addresses.

    An unverified address proves nothing about who owns the card, so it never links. A member already
    linked to another login keeps that link: moving it is a staff decision, not a side effect of signing in.
    """
    addresses = {
        address.lower()
        for address in EmailAddress.objects.filter(user_id=user.pk, verified=True).values_list(
            "email", flat=True
        )
    }
    if not addresses:
        return []
    with transaction.atomic():
        members = list(
            Member.objects.select_for_update()
            .select_related("brand")
            .filter(email__in=addresses, user__isnull=True)
            .exclude(status=MemberStatus.ERASED)
            .order_by("pk")
        )
        if not members:
            return []
        Member.objects.filter(pk__in=[member.pk for member in members], user__isnull=True).update(user=user)
        for member in members:
            member.user_id = user.pk
            audit_record(
                brand=member.brand,
                actor=Actor(user=user),
                action="member.link_account",
                target_type="member",
                target_id=member.pk,
                data={"email": member.email},
            )
    return members


def saved_locale(*, user: AbstractBaseUser) -> str | None:
    """The language the person chose as a member: that of their first linked club card still in use."""
    locale = (
        Member.objects.filter(user_id=user.pk)
        .exclude(status=MemberStatus.ERASED)
        .order_by("joined_at", "pk")
        .values_list("locale", flat=True)
        .first()
    )
    return locale if locale in dict(settings.LANGUAGES) else None


class AccountAdapter(DefaultAccountAdapter):
    """allauth's adapter with two additions: after a login or an email confirmation, link the club cards;
    and a login on a browser that never chose a language gets the member's own.

    Settings: ACCOUNT_ADAPTER = "kesher.members.accounts.AccountAdapter".
    """

    def login(self, request: HttpRequest, user: AbstractBaseUser) -> None:
        super().login(request, user)
        memberships_link(user=user)

    def post_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> HttpResponse:
        # A language cookie is a choice made on this browser (the switch button): it wins over the card.
        locale = None if settings.LANGUAGE_COOKIE_NAME in request.COOKIES else saved_locale(user=user)
        if locale is None:
            return super().post_login(request, user, **kwargs)
        translation.activate(locale)  # the "signed in" message is written in it too
        request.LANGUAGE_CODE = locale
        response = super().post_login(request, user, **kwargs)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            locale,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
        return response

    def confirm_email(self, request: HttpRequest, email_address: EmailAddress) -> bool:
        confirmed = super().confirm_email(request, email_address)
        if confirmed and email_address.verified:
            memberships_link(user=email_address.user)
        return confirmed
