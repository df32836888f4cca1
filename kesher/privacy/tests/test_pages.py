"""The privacy pages: the member's download and erasure, the staff's export, correction and erasure, the
access log; each refusal changes nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from kesher.brands.models import StaffRole
from kesher.brands.services import staff_grant
from kesher.core.models import AuditEntry
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.members.models import Member, MemberStatus
from kesher.privacy.models import AccessKind, StaffAccessLog
from kesher.privacy.tests.conftest import Everything
from kesher.web.tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _client(user, language: str = "he") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def test_the_member_downloads_their_data_as_json(club: Everything):
    response = _client(club.member_user).get(reverse("privacy:portal_download") + "?format=json")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["sections"]["profile"]["email"] == "noa@example.org"
    assert data["processor_export"] is False  # the member's own download holds everything
    assert data["sections"]["loyalty"]["coupons"][0]["code"] == club.coupon.code
    assert not StaffAccessLog.objects.exists()  # the member looking at their own data is not staff access


@pytest.mark.parametrize(
    ("language", "title", "direction"),
    [("he", "המידע שנשמר עלייך", "rtl"), ("en", "The data kept about you", "ltr")],
)
def test_the_member_reads_their_data_as_a_page(club: Everything, language, title, direction):
    page = _client(club.member_user, language).get(reverse("privacy:portal_download")).content.decode()
    assert title in page and f'dir="{direction}"' in page
    for shown in ("noa@example.org", club.coupon.code, "Is the oat milk free?", "Spring, Noa", "203.0.113.7"):
        assert shown in page


def test_erasure_from_the_portal_needs_the_typed_word(club: Everything):
    client = _client(club.member_user)
    before = rows_fingerprint()
    refused = client.post(reverse("privacy:portal_erase"), {"member": club.member.pk, "confirm": "yes"})
    assert refused.status_code == 303
    assert changed_models(before, rows_fingerprint()) == []
    done = client.post(reverse("privacy:portal_erase"), {"member": club.member.pk, "confirm": "erase"})
    assert done.status_code == 303
    member = Member.objects.get(pk=club.member.pk)
    assert (member.status, member.email) == (MemberStatus.ERASED, None)
    assert client.get(reverse("privacy:portal")).status_code in (302, 404)  # signed out, account gone


def test_a_member_cannot_erase_someone_else(club: Everything):
    client = _client(club.member_user)
    before = rows_fingerprint()
    assert (
        client.post(
            reverse("privacy:portal_erase"), {"member": club.other.pk, "confirm": "ERASE"}
        ).status_code
        == 404
    )
    assert changed_models(before, rows_fingerprint()) == []


def test_the_member_corrects_their_details_from_the_profile_and_it_is_audited(club: Everything):
    response = _client(club.member_user).post(
        reverse("portal_profile"),
        {
            "member": club.member.pk,
            "first_name": "נעמה",
            "last_name": "לוי-כהן",
            "phone": "050-1234567",
            "locale": "he",
            "birthday": "1990-05-17",
            "interests": "",
        },
    )
    assert response.status_code == 303
    entry = AuditEntry.objects.filter(action="member.update", target_id=str(club.member.pk)).latest(
        "created_at"
    )
    assert (entry.data["before"]["first_name"], entry.data["after"]["first_name"]) == ("נועה", "נעמה")
    assert entry.actor_user_id == club.member_user.pk


def test_staff_correct_a_member_and_it_is_audited_and_logged(club: Everything):
    url = reverse("privacy:member", args=[club.brand.slug, club.member.pk])
    client = _client(club.agent)
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "first_name": "נועה",
            "last_name": "לוי",
            "email": "noa.levi@example.org",
            "phone": "+972501234567",
            "birthday": "1990-05-17",
        },
    )
    assert response.status_code == 303
    entry = AuditEntry.objects.filter(action="member.update", actor_user=club.agent).get()
    assert entry.data == {
        "before": {"last_name": "לוי-כהן", "email": "noa@example.org"},
        "after": {"last_name": "לוי", "email": "noa.levi@example.org"},
    }
    kinds = list(
        StaffAccessLog.objects.filter(user=club.agent).order_by("at", "id").values_list("kind", flat=True)
    )
    assert kinds == [AccessKind.PRIVACY, AccessKind.CORRECT]


def test_staff_export_and_erase_from_the_members_page(club: Everything):
    base = [club.brand.slug, club.member.pk]
    client = _client(club.owner, "en")
    page = client.get(reverse("privacy:member_export", args=base) + "?reason=asked+by+email&format=html")
    assert page.status_code == 200 and "noa@example.org" in page.content.decode()
    log = StaffAccessLog.objects.get(kind=AccessKind.EXPORT)
    assert (log.user_id, log.reason) == (club.owner.pk, "asked by email")

    before = rows_fingerprint()
    client.post(reverse("privacy:member_erase", args=base), {"confirm": ""})
    assert changed_models(before, rows_fingerprint()) == []
    client.post(reverse("privacy:member_erase", args=base), {"confirm": "ERASE", "reason": "by letter"})
    assert Member.objects.get(pk=club.member.pk).status == MemberStatus.ERASED
    assert StaffAccessLog.objects.get(kind=AccessKind.ERASE).reason == "by letter"


def test_a_marketer_may_not_export_or_erase_and_another_brands_owner_finds_nothing(
    club: Everything, other_brand
):
    marketer = make_user("marketer@example.org")
    staff_grant(brand=club.brand, user=marketer, role=StaffRole.MARKETER)
    stranger = make_user("owner@shop.example.org")
    staff_grant(brand=other_brand, user=stranger, role=StaffRole.OWNER)
    base = [club.brand.slug, club.member.pk]
    before = rows_fingerprint()
    for user, refused in ((marketer, 403), (stranger, 404)):
        client = _client(user)
        assert client.get(reverse("privacy:member_export", args=base)).status_code == refused
        assert (
            client.post(reverse("privacy:member_erase", args=base), {"confirm": "ERASE"}).status_code
            == refused
        )
    stranger_own = [other_brand.slug, club.member.pk]  # the member by id under the other brand's own slug
    assert (
        _client(stranger)
        .post(reverse("privacy:member_erase", args=stranger_own), {"confirm": "ERASE"})
        .status_code
        == 404
    )
    assert changed_models(before, rows_fingerprint()) == []


def test_every_staff_look_is_logged_and_owners_read_the_log(club: Everything):
    agent = _client(club.agent)
    agent.get(reverse("loyalty:member", args=[club.brand.slug, club.member.pk]))
    agent.get(reverse("cashier") + f"?brand={club.brand.slug}&member={club.member.pk}")
    agent.get(reverse("cashier") + f"?brand={club.brand.slug}&q=050-1234567")
    kinds = list(StaffAccessLog.objects.order_by("at", "id").values_list("kind", flat=True))
    assert kinds == [AccessKind.CONSOLE, AccessKind.CASHIER, AccessKind.CASHIER]
    assert agent.get(reverse("privacy:access_log", args=[club.brand.slug])).status_code == 403
    page = _client(club.owner, "en").get(reverse("privacy:access_log", args=[club.brand.slug]))
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('data-test="access-row"') == 3 and "cashier@example.org" in text


def test_owners_set_retention_and_sensitive_fields(club: Everything):
    client = _client(club.owner)
    client.post(
        reverse("privacy:settings", args=[club.brand.slug]),
        {"retention_days": "90", "sensitive": ["birthday"]},
    )
    from kesher.members.sensitive import sensitive_fields_of
    from kesher.privacy.services import retention_days_of

    assert (retention_days_of(club.brand), sensitive_fields_of(club.brand)) == (90, ["birthday"])
    before = rows_fingerprint()
    client.post(reverse("privacy:settings", args=[club.brand.slug]), {"retention_days": "many"})
    assert changed_models(before, rows_fingerprint()) == []
