"""Linking a person's login to their club cards: verified email addresses only, in every brand."""

from __future__ import annotations

from email.utils import formataddr
from typing import TYPE_CHECKING, Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from kesher.brands.look import email_look
from kesher.brands.models import Brand
from kesher.core.audit import Actor, audit_record
from kesher.members.models import Member, MemberStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def mail_brand(*, email: str, request: HttpRequest | None) -> tuple[Brand | None, Member | None]:
    """Whose club an account email comes from, and the card it is about: the brand of the page it was
    asked on when the address has a card there, else the address's first card, else that page's brand."""
    from kesher.web.branding import page_brand

    asked_on = page_brand(request) if request is not None else None
    cards = (
        Member.objects.filter(email__iexact=email.strip())
        .exclude(status=MemberStatus.ERASED)
        .select_related("brand")
        .order_by("joined_at", "pk")
    )
    member = None
    if asked_on is not None:
        member = cards.filter(brand=asked_on).first()
    if member is None:
        member = cards.first()
    return (member.brand if member is not None else asked_on), member


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

    Settings: ACCOUNT_ADAPTER = "kesher.web.accounts.AccountAdapter".
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

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Account emails (confirmation, password reset, notices) come from the member's club: its name,
        logo and colours, its sender as From, in the member's language (right-to-left in Hebrew)."""
        from allauth.core import context as allauth_context

        request = allauth_context.request
        brand, member = mail_brand(email=email, request=request)
        if brand is None:  # an address with no card, asked on an installation page: Kesher's own look
            look = email_look(None)
            look["name"] = str(translation.gettext("Kesher"))
            super().send_mail(template_prefix, email, {"look": look, **context, **self._direction()})
            return
        locale = member.locale if member is not None and member.locale else brand.default_locale
        from kesher.campaigns.selectors import messaging_settings
        from kesher.campaigns.services import sender_address

        ms = messaging_settings(brand=brand)
        self._subject_prefix = f"{brand.name} · "
        with translation.override(locale):
            look = email_look(brand)
            ctx = {
                "request": request,
                "current_site": get_current_site(request),
                "email": email,
                "brand": brand,
                "look": look,
                "member": member,
                **self._direction(),
                **context,
            }
            msg = self.render_mail(template_prefix, email, ctx)
        msg.from_email = formataddr((ms.sender_name or brand.name, sender_address(ms)))
        if ms.reply_to:
            msg.reply_to = [ms.reply_to]
        msg.send()

    @staticmethod
    def _direction() -> dict[str, str]:
        return {
            "language": (translation.get_language() or "he")[:2],
            "direction": "rtl" if translation.get_language_bidi() else "ltr",
        }

    def format_email_subject(self, subject: str) -> str:
        prefix = getattr(self, "_subject_prefix", None)  # the club's name, set by send_mail
        return f"{prefix}{subject}" if prefix is not None else super().format_email_subject(subject)

    def confirm_email(self, request: HttpRequest, email_address: EmailAddress) -> bool:
        confirmed = super().confirm_email(request, email_address)
        if confirmed and email_address.verified:
            memberships_link(user=email_address.user)
        return confirmed
