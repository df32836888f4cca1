"""The export over the API: a processor's view of everything, by brand, logged; erasure over the API."""

from __future__ import annotations

import pytest

from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.members.models import Member, MemberStatus
from kesher.members.sensitive import sensitive_fields_set
from kesher.privacy.models import AccessKind, StaffAccessLog
from kesher.privacy.tests.conftest import Everything

pytestmark = pytest.mark.django_db


def test_the_api_export_answers_every_section_and_is_logged(club: Everything, make_api):
    answer = make_api(club.brand, "manage").get(f"/members/{club.member.pk}/export")
    assert answer.status == 200
    body = answer.body
    assert body["processor_export"] is True and body["withheld"] == []
    assert body["sections"]["profile"]["birthday"] == "1990-05-17"
    assert body["sections"]["loyalty"]["coupons"][0]["code"] == club.coupon.code
    assert body["sections"]["community"]["posts"][0]["title"] == "Is the oat milk free?"
    assert body["sections"]["campaigns"]["messages"][0]["subject"] == "Spring, Noa"
    log = StaffAccessLog.objects.get(kind=AccessKind.API_EXPORT)
    assert (log.member_id, log.api_key_id is not None, log.user_id) == (club.member.pk, True, None)


def test_a_processor_export_leaves_out_the_highly_sensitive_fields(club: Everything, make_api):
    sensitive_fields_set(brand=club.brand, fields=["birthday", "interests"])
    body = make_api(club.brand, "manage").get(f"/members/{club.member.pk}/export").body
    assert body["withheld"] == ["birthday", "interests"]
    assert "birthday" not in body["sections"]["profile"] and "interests" not in body["sections"]["profile"]
    assert body["sections"]["profile"]["email"] == "noa@example.org"


def test_a_pos_key_may_not_export(club: Everything, make_api):
    pos = make_api(club.brand, "pos")
    before = rows_fingerprint()
    answer = pos.get(f"/members/{club.member.pk}/export")
    assert answer.status == 403 and answer.body["error"]["code"] == "insufficient_scope"
    assert changed_models(before, rows_fingerprint()) == []


def test_another_brands_key_can_neither_export_nor_erase(club: Everything, other_brand, make_api):
    stranger = make_api(other_brand, "all")
    before = rows_fingerprint()
    assert stranger.get(f"/members/{club.member.pk}/export").status == 404
    assert stranger.post(f"/members/{club.member.pk}/erase").status == 404
    assert changed_models(before, rows_fingerprint()) == []
    assert Member.objects.get(pk=club.member.pk).email == "noa@example.org"


def test_erasure_over_the_api_runs_every_part(club: Everything, make_api):
    answer = make_api(club.brand, "manage").post(f"/members/{club.member.pk}/erase")
    assert answer.status == 200 and answer.body["status"] == MemberStatus.ERASED
    export = make_api(club.brand, "manage").get(f"/members/{club.member.pk}/export").body["sections"]
    assert export["profile"]["email"] is None
    assert export["community"]["posts"][0]["title"] == ""
    assert export["campaigns"]["messages"][0]["to"] == ""
