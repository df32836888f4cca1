"""The cashier's counter: staff find their brand's members and burn its coupons, never another brand's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kesher.activity.services import activity_record
from kesher.brands.models import StaffRole
from kesher.brands.services import staff_grant
from kesher.core.models import AuditEntry
from kesher.loyalty.models import Coupon
from kesher.loyalty.services import redemption_create, reward_create
from kesher.members.tests.factories import MemberFactory
from kesher.web.tests.conftest import ClubScene, make_user

pytestmark = pytest.mark.django_db


def _status(coupon: Coupon) -> str:
    coupon.refresh_from_db()
    return coupon.status


@pytest.fixture
def elsewhere(other_brand) -> ClubScene:
    """The same kind of scene in another brand, with its own member on 052-7654321 and its own coupon."""
    member = MemberFactory(
        brand=other_brand, email="emma@example.org", phone="052-7654321", first_name="Emma"
    )
    activity_record(
        brand=other_brand,
        member=member,
        type="purchase",
        source="pos",
        attributes={"amount": "300.00", "currency": "ILS"},
        idempotency_key="r-1",
    )
    reward = reward_create(
        brand=other_brand, name="Socks", cost_points=100, kind="free_item", value=Decimal(5)
    )
    coupon = redemption_create(member=member, reward=reward)
    staff = make_user("shop-cashier@example.org")
    staff_grant(brand=other_brand, user=staff, role=StaffRole.SERVICE_AGENT)
    return ClubScene(brand=other_brand, member=member, member_user=staff, staff_user=staff, coupon=coupon)


def test_anonymous_visitors_are_sent_to_sign_in(client, scene):
    response = client.get("/cashier/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/cashier/"
    response = client.post("/cashier/", {"brand": "cafe", "code": scene.coupon.code})
    assert response.status_code == 302
    assert _status(scene.coupon) == "issued"


def test_a_member_who_is_not_staff_is_refused(client, scene):
    client.force_login(scene.member_user)
    assert client.get("/cashier/?q=050-1234567").status_code == 403
    assert client.post("/cashier/", {"brand": "cafe", "code": scene.coupon.code}).status_code == 403
    assert _status(scene.coupon) == "issued"
    assert not AuditEntry.objects.filter(action="coupon.redeem").exists()


PHONE_FORMS = [
    "050-1234567",
    "0501234567",
    "050 123 4567",
    "050.123.4567",
    "(050) 123-4567",
    "050–123–4567",  # en dashes, as a phone's keyboard or a word processor gives them
    " 050 - 1234567 ",
    "+972 50 123 4567",
    "+972-50-1234567",
    "+972501234567",
    "+972 (0)50 123 4567",
    "+972-050-1234567",
    "972501234567",
    "972-50-123-4567",
    "00972 50 123 4567",
    "\u200e050-1234567\u200f",  # direction marks from a copy out of right-to-left text
    "٠٥٠١٢٣٤٥٦٧",  # Arabic-Indic digits
]


@pytest.mark.parametrize("typed", PHONE_FORMS)
def test_staff_find_a_member_by_phone_in_any_form(client, scene, typed):
    client.force_login(scene.staff_user)
    response = client.get("/cashier/", {"q": typed})
    assert response.status_code == 200
    panel = response.context["panel"]
    assert panel["member"] == scene.member
    assert panel["points"].balance == 120
    assert [c.code for c in panel["coupons"]] == [scene.coupon.code]
    html = response.content.decode()
    assert 'data-test="cashier-balance">120<' in html
    assert "050-123-4567" in html


def test_staff_find_a_member_by_card_number_or_email(client, scene):
    client.force_login(scene.staff_user)
    by_card = client.get("/cashier/", {"q": scene.member.card_number})
    by_email = client.get("/cashier/", {"q": "NOA@example.org"})
    assert by_card.context["panel"]["member"] == scene.member
    assert by_email.context["panel"]["member"] == scene.member


@pytest.mark.parametrize(
    "spacing",
    [
        lambda card: f"{card[:4]} {card[4:8]} {card[8:]}",
        lambda card: f"{card[:4]}-{card[4:8]}-{card[8:]}",
        lambda card: f" {card[:3]}.{card[3:6]}.{card[6:9]}.{card[9:]} ",
        lambda card: " ".join(card),
    ],
)
def test_staff_find_a_member_by_card_number_typed_with_spaces_or_dashes(client, scene, spacing):
    client.force_login(scene.staff_user)
    typed = spacing(scene.member.card_number)
    assert typed.strip() != scene.member.card_number
    response = client.get("/cashier/", {"q": typed})
    assert response.status_code == 200
    assert response.context["panel"]["member"] == scene.member


@pytest.mark.parametrize("typed", ["050-1234568", "8", "noa", "050-12345", "+1 50 123 4567"])
def test_a_near_miss_finds_nobody(client, scene, typed):
    client.force_login(scene.staff_user)
    response = client.get("/cashier/", {"q": typed})
    assert response.status_code == 404  # the page says nobody was found
    assert response.context["panel"] is None and list(response.context["results"]) == []


def test_another_brand_s_member_is_not_found_however_typed(client, scene, elsewhere):
    client.force_login(scene.staff_user)
    for typed in ("052-7654321", "+972 52 765 4321", " ".join(elsewhere.member.card_number)):
        response = client.get("/cashier/", {"q": typed})
        assert response.context["panel"] is None and list(response.context["results"]) == [], typed


def test_several_matches_are_listed_to_choose_from(client, scene):
    sibling = MemberFactory(brand=scene.brand, email="tamar@example.org", phone="050-1234567")
    client.force_login(scene.staff_user)
    response = client.get("/cashier/", {"q": "050-1234567"})
    assert response.status_code == 200
    assert response.context["panel"] is None
    assert {m.pk for m in response.context["results"]} == {scene.member.pk, sibling.pk}
    chosen = client.get("/cashier/", {"member": str(sibling.pk)})
    assert chosen.context["panel"]["member"] == sibling


def test_staff_burn_a_coupon_and_it_is_audited(client, scene):
    client.force_login(scene.staff_user)
    response = client.post("/cashier/", {"brand": "cafe", "code": scene.coupon.code.lower()})
    assert response.status_code == 303
    assert response["Location"] == f"/cashier/?brand=cafe&member={scene.member.pk}"
    assert _status(scene.coupon) == "used"
    audit = AuditEntry.objects.get(action="coupon.redeem")
    assert (audit.actor_user_id, audit.target_id) == (scene.staff_user.pk, str(scene.coupon.pk))
    page = client.get(response["Location"])
    assert f"{scene.coupon.code}" in page.content.decode()
    assert page.context["panel"]["coupons"] == []  # used: no longer offered


def test_a_used_coupon_is_refused_with_409_and_stays_used_once(client, scene):
    client.force_login(scene.staff_user)
    client.post("/cashier/", {"brand": "cafe", "code": scene.coupon.code})
    again = client.post("/cashier/", {"brand": "cafe", "code": scene.coupon.code})
    assert again.status_code == 409
    assert again.context["refusal"] == "הקופון הזה כבר מומש."
    assert AuditEntry.objects.filter(action="coupon.redeem").count() == 1


def test_an_unknown_or_empty_code_is_refused(client, scene):
    client.force_login(scene.staff_user)
    assert client.post("/cashier/", {"brand": "cafe", "code": "NOSUCHCODE"}).status_code == 404
    assert client.post("/cashier/", {"brand": "cafe", "code": "  "}).status_code == 422
    assert _status(scene.coupon) == "issued"


def test_staff_of_one_brand_cannot_see_or_burn_anything_of_another(client, scene, elsewhere):
    client.force_login(scene.staff_user)
    # the other brand by name
    assert client.get("/cashier/", {"brand": "shop"}).status_code == 404
    # the other brand's member, by phone, card, email and id
    for typed in ["052-7654321", elsewhere.member.card_number, "emma@example.org"]:
        response = client.get("/cashier/", {"q": typed})
        assert response.status_code == 404, typed
        assert response.context["results"] == []
        assert "Emma" not in response.content.decode()
    assert client.get("/cashier/", {"member": str(elsewhere.member.pk)}).status_code == 404
    # the other brand's coupon, in the staff's own brand and naming the other
    assert client.post("/cashier/", {"brand": "cafe", "code": elsewhere.coupon.code}).status_code == 404
    assert client.post("/cashier/", {"brand": "shop", "code": elsewhere.coupon.code}).status_code == 404
    assert _status(elsewhere.coupon) == "issued"
    assert not AuditEntry.objects.filter(action="coupon.redeem").exists()


def test_staff_of_two_brands_choose_which_one_they_serve(client, scene, elsewhere):
    staff_grant(brand=elsewhere.brand, user=scene.staff_user, role=StaffRole.SERVICE_AGENT)
    client.force_login(scene.staff_user)
    response = client.get("/cashier/", {"brand": "shop", "q": "052-7654321"})
    assert response.status_code == 200
    assert response.context["brand"] == elsewhere.brand
    assert response.context["panel"]["member"] == elsewhere.member
    burnt = client.post("/cashier/", {"brand": "shop", "code": elsewhere.coupon.code})
    assert burnt.status_code == 303
    assert _status(elsewhere.coupon) == "used"
    assert _status(scene.coupon) == "issued"


def test_cashier_link_shows_for_staff_only(client, scene):
    client.force_login(scene.member_user)
    assert 'data-test="cashier-link"' not in client.get("/").content.decode()
    client.force_login(scene.staff_user)
    assert 'data-test="cashier-link"' in client.get("/").content.decode()
