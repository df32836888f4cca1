"""Hebrew dates beside the Gregorian ones, where the brand asks for them: the filter, the setting in the
console (owners and marketers, audited) and the member's portal and the staff member page that use it."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from kesher.brands.services import staff_grant
from kesher.core.audit import SYSTEM
from kesher.core.models import AuditEntry
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.loyalty.models import LoyaltyProgram
from kesher.loyalty.services import points_adjust, program_update
from kesher.members.tests.factories import MemberFactory
from kesher.web.templatetags.club_dates import club_date, hebrew_date


def test_a_known_date_in_the_hebrew_calendar_in_hebrew_and_english():
    assert hebrew_date(date(2026, 12, 7), "he") == "כ״ז כסלו ה׳ תשפ״ז"
    assert hebrew_date(date(2026, 12, 7), "en") == "27 Kislev 5787"
    assert hebrew_date(date(2025, 4, 13), "en") == "15 Nisan 5785"  # the first day of Passover


def test_the_filter_shows_the_hebrew_date_only_when_asked():
    with translation.override("en"):
        plain = club_date(date(2026, 12, 7), False)
        both = club_date(date(2026, 12, 7), True)
    assert "Kislev" not in plain and '<time datetime="2026-12-07">' in plain
    assert '<time datetime="2026-12-07">' in both and "(27 Kislev 5787)" in both
    with translation.override("he"):
        assert "(כ״ז כסלו ה׳ תשפ״ז)" in club_date(date(2026, 12, 7), True)
    assert club_date(None, True) == ""


def _staff(client, brand, role):
    user = get_user_model().objects.create_user(username=role, email=f"{role}@example.org", password="x")
    staff_grant(brand=brand, user=user, role=role)
    client.force_login(user)
    return user


@pytest.mark.django_db
def test_an_owner_turns_hebrew_dates_on_and_the_console_member_page_shows_them(client, brand):
    member = MemberFactory(brand=brand)
    points_adjust(member=member, points=20, reason="seed", actor=SYSTEM)
    _staff(client, brand, "owner")
    page = client.get(f"/console/{brand.slug}/members/{member.pk}/").content.decode()
    assert 'data-test="hebrew-date"' not in page
    assert client.post(f"/console/{brand.slug}/", {"hebrew_dates": "on"}).status_code == 303
    assert LoyaltyProgram.objects.get(brand=brand).hebrew_dates
    assert AuditEntry.objects.filter(brand=brand, action="program.update", data__hebrew_dates="True").exists()
    page = client.get(f"/console/{brand.slug}/members/{member.pk}/", headers={"Accept-Language": "he"})
    assert 'data-test="hebrew-date"' in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["analyst", "service_agent", "moderator"])
def test_other_roles_cannot_change_the_setting(client, brand, role):
    _staff(client, brand, role)
    before = rows_fingerprint()
    assert client.post(f"/console/{brand.slug}/", {"hebrew_dates": "on"}).status_code == 403
    assert changed_models(before, rows_fingerprint()) == []


@pytest.mark.django_db
def test_the_portal_shows_hebrew_dates_for_expiry_coupons_and_history(client, brand):
    from kesher.loyalty.services import reward_create
    from kesher.loyalty.services.redemption import redemption_create

    user = get_user_model().objects.create_user(username="noa", email="noa@example.org", password="x")
    member = MemberFactory(brand=brand)
    type(member).objects.filter(pk=member.pk).update(user=user)
    points_adjust(member=member, points=100, reason="seed", actor=SYSTEM)
    reward = reward_create(brand=brand, name="Coffee", cost_points=10, kind="free_item")
    redemption_create(member=member, reward=reward)
    client.force_login(user)
    program_update(brand=brand, changes={"hebrew_dates": False}, actor=SYSTEM)
    assert 'data-test="hebrew-date"' not in client.get("/portal/").content.decode()
    program_update(brand=brand, changes={"hebrew_dates": True}, actor=SYSTEM)
    client.cookies["django_language"] = "en"
    page = client.get("/portal/").content.decode()
    # the coupon's validity and the history lines (the seed, the redemption) carry the Hebrew date
    assert page.count('data-test="hebrew-date"') >= 3
    hebrew_months = ("Tishrei", "Cheshvan", "Kislev", "Tevet", "Shvat", "Adar", "Nisan", "Iyyar", "Sivan")
    assert any(month in page for month in hebrew_months)
