"""A login reaches its club cards through verified email addresses only, in every brand."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail

from kesher.core.models import AuditEntry
from kesher.members.models import Member
from kesher.members.services import member_erase
from kesher.members.tests.factories import MemberFactory
from kesher.web.accounts import memberships_link
from kesher.web.tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_a_verified_address_links_the_members_with_it_in_every_brand(brand, other_brand):
    cafe_card = MemberFactory(brand=brand, email="noa@example.org")
    shop_card = MemberFactory(brand=other_brand, email="noa@example.org")
    stranger = MemberFactory(brand=brand, email="someone-else@example.org")
    user = make_user("Noa@Example.org")

    linked = memberships_link(user=user)

    assert sorted(str(m.pk) for m in linked) == sorted([str(cafe_card.pk), str(shop_card.pk)])
    assert set(Member.objects.filter(user=user).values_list("pk", flat=True)) == {cafe_card.pk, shop_card.pk}
    assert Member.objects.get(pk=stranger.pk).user_id is None
    audits = AuditEntry.objects.filter(action="member.link_account").order_by("brand__slug")
    assert [(a.brand.slug, a.target_id, a.actor_user_id) for a in audits] == [
        ("cafe", str(cafe_card.pk), user.pk),
        ("shop", str(shop_card.pk), user.pk),
    ]
    assert memberships_link(user=user) == []  # a second run has nothing left to do
    assert AuditEntry.objects.filter(action="member.link_account").count() == 2


def test_an_unverified_address_never_links(brand):
    card = MemberFactory(brand=brand, email="noa@example.org")
    user = make_user("noa@example.org", verified=False)

    assert memberships_link(user=user) == []
    assert Member.objects.get(pk=card.pk).user_id is None
    assert not AuditEntry.objects.filter(action="member.link_account").exists()


def test_a_card_linked_to_another_login_stays_with_it(brand):
    card = MemberFactory(brand=brand, email="noa@example.org")
    first = make_user("first@example.org")
    Member.objects.filter(pk=card.pk).update(user=first)
    second = make_user("noa@example.org")

    assert memberships_link(user=second) == []
    assert Member.objects.get(pk=card.pk).user_id == first.pk


def test_an_erased_member_is_not_linked(brand):
    card = MemberFactory(brand=brand, email="noa@example.org")
    member_erase(member=card)
    user = make_user("noa@example.org")

    assert memberships_link(user=user) == []
    assert Member.objects.get(pk=card.pk).user_id is None


def test_signing_in_through_the_login_form_links_the_card(client, brand):
    card = MemberFactory(brand=brand, email="noa@example.org")
    make_user("noa@example.org")

    response = client.post("/accounts/login/", {"login": "noa@example.org", "password": PASSWORD})

    assert response.status_code == 302
    assert Member.objects.filter(pk=card.pk, user__email="noa@example.org").exists()


def test_signing_up_links_only_once_the_address_is_confirmed(client, brand, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    card = MemberFactory(brand=brand, email="new@example.org")

    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="new@example.org").verified is False
    assert Member.objects.get(pk=card.pk).user_id is None  # signed up, not yet proven
    assert client.get("/portal/").status_code == 302  # and not logged in either

    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", mail.outbox[-1].body)
    assert link is not None
    response = client.post(link.group(1))

    assert response.status_code == 302
    assert EmailAddress.objects.get(email="new@example.org").verified is True
    assert Member.objects.filter(pk=card.pk, user__email="new@example.org").exists()


# --- the member's language at sign-in -----------------------------------------------------------


def _sign_in(client, email: str = "noa@example.org"):  # type: ignore[no-untyped-def]
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD})


def test_signing_in_without_a_language_cookie_takes_the_members_language(client, brand, other_brand):
    MemberFactory(brand=brand, email="noa@example.org", locale="en")  # joined first: this one decides
    MemberFactory(brand=other_brand, email="noa@example.org", locale="he")
    make_user("noa@example.org")

    response = _sign_in(client)

    assert response.status_code == 302
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert (cookie.value, cookie["max-age"], cookie["samesite"]) == (
        "en",
        settings.LANGUAGE_COOKIE_AGE or "",
        settings.LANGUAGE_COOKIE_SAMESITE or "",
    )
    page = client.get(response["Location"])
    assert '<html lang="en" dir="ltr">' in page.content.decode()
    assert "Successfully signed in as" in page.content.decode()


def test_a_language_chosen_on_this_browser_wins_over_the_members(client, brand):
    MemberFactory(brand=brand, email="noa@example.org", locale="en")
    make_user("noa@example.org")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "he"

    response = _sign_in(client)

    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert '<html lang="he" dir="rtl">' in client.get("/portal/").content.decode()


def test_a_login_without_a_card_keeps_the_default_language(client, db):
    make_user("nobody@example.org")
    response = _sign_in(client, "nobody@example.org")
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_an_erased_card_does_not_choose_the_language(client, brand, other_brand):
    erased = MemberFactory(brand=brand, email="noa@example.org", locale="en")
    MemberFactory(brand=other_brand, email="noa@example.org", locale="he")
    member_erase(member=erased)
    make_user("noa@example.org")
    response = _sign_in(client)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "he"
