"""What a member does on the portal: trade points for a reward, see how far the next tier is, invite."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client

from kesher.activity.services import activity_record
from kesher.core.audit import SYSTEM
from kesher.loyalty.models import Coupon, PointsAccount, Reward
from kesher.loyalty.services import program_update, redemption_create, reward_create
from kesher.members.tests.factories import MemberFactory
from kesher.web.accounts import memberships_link
from kesher.web.tests.conftest import ClubScene, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(client: Client, scene: ClubScene) -> Client:
    memberships_link(user=scene.member_user)
    client.force_login(scene.member_user)
    return client


def _english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _balance(scene: ClubScene) -> int:
    return PointsAccount.objects.get(member=scene.member).balance


def _coffee(scene: ClubScene) -> Reward:
    return Reward.objects.get(brand=scene.brand, cost_points=60)


def _redeem(client: Client, scene: ClubScene, reward: Any, token: str | None = None, **extra: Any) -> Any:
    data = {"member": str(scene.member.pk), "reward": str(getattr(reward, "pk", reward))}
    data["token"] = token if token is not None else str(uuid.uuid4())
    return client.post("/portal/redeem/", {**data, **extra})


def _messages(html: str) -> list[str]:
    block = re.search(r'<ul class="messages"[^>]*>(.*?)</ul>', html, re.S)
    return re.findall(r"<li[^>]*>(.*?)</li>", block.group(1), re.S) if block else []


# --- redeeming ----------------------------------------------------------------------------------


def test_every_reward_has_a_redeem_button_open_only_when_points_suffice(member_client, scene):
    html = member_client.get("/portal/").content.decode()
    forms = re.findall(r'<form method="post" action="/portal/redeem/".*?</form>', html, re.S)
    assert len(forms) == 2
    assert all("csrfmiddlewaretoken" in form for form in forms)
    tokens = re.findall(r'name="token" value="([0-9a-f-]{36})"', html)
    assert len(set(tokens)) == 2  # one token per form, fresh on every page
    coffee, workshop = sorted(forms, key=lambda form: "disabled" in form)
    assert str(_coffee(scene).pk) in coffee and "disabled" not in coffee
    assert "disabled" in workshop
    assert 'data-confirm="לממש 60 נקודות עבור קפה הפוך חינם?"' in coffee


def test_redeeming_puts_the_coupon_with_its_code_and_qr_in_the_wallet(member_client, scene):
    response = _redeem(member_client, scene, _coffee(scene))

    assert response.status_code == 303
    coupon = Coupon.objects.exclude(pk=scene.coupon.pk).get(member=scene.member)
    assert response["Location"] == f"/portal/?new={coupon.code}#coupon-{coupon.code}"
    assert _balance(scene) == 60
    assert (coupon.reward, coupon.cost_points, coupon.status) == (_coffee(scene), 60, "issued")

    page = member_client.get(response["Location"])
    html = page.content.decode()
    assert _messages(html) == [f"בוצע! הקופון עבור קפה הפוך חינם נוסף לקופונים שלך: {coupon.code}"]
    assert 'data-test="balance">60<' in html
    wallet = [item.coupon.code for item in page.context["cards"][0]["wallet"]]
    assert wallet == [coupon.code, scene.coupon.code]
    new_item = re.search(rf'<li class="coupon coupon-new" id="coupon-{coupon.code}".*?</li>', html, re.S)
    assert new_item is not None
    assert f'data-test="coupon-code">{coupon.code}<' in new_item.group(0)
    assert '<details class="coupon-qr" open>' in new_item.group(0)
    assert "<svg" in new_item.group(0)  # its QR code, ready to show at the till


def test_the_same_form_sent_twice_spends_once_and_shows_the_same_coupon(member_client, scene):
    token = str(uuid.uuid4())
    first = _redeem(member_client, scene, _coffee(scene), token=token)
    again = _redeem(member_client, scene, _coffee(scene), token=token)

    assert first.status_code == again.status_code == 303
    assert first["Location"] == again["Location"]
    assert _balance(scene) == 60
    assert Coupon.objects.filter(member=scene.member).count() == 2  # the scene's coupon and this one
    # A new page has new tokens: taking the reward a second time on purpose works.
    assert _redeem(member_client, scene, _coffee(scene)).status_code == 303
    assert _balance(scene) == 0
    assert Coupon.objects.filter(member=scene.member).count() == 3


def test_a_token_sent_back_with_another_reward_changes_nothing(member_client, scene):
    token = str(uuid.uuid4())
    member_client.get(_redeem(member_client, scene, _coffee(scene), token=token)["Location"])
    cheap = reward_create(brand=scene.brand, name="עוגייה", cost_points=10, kind="free_item")

    response = _redeem(member_client, scene, cheap, token=token)

    assert response["Location"] == "/portal/#club-cafe"
    assert _messages(member_client.get("/portal/").content.decode()) == [
        "הטופס הזה כבר לא בתוקף. נא לנסות שוב. לא נוכו נקודות."
    ]
    assert _balance(scene) == 60
    assert not Coupon.objects.filter(reward=cheap).exists()


def test_a_form_without_its_token_changes_nothing(member_client, scene):
    response = member_client.post(
        "/portal/redeem/", {"member": str(scene.member.pk), "reward": str(_coffee(scene).pk)}
    )
    assert response.status_code == 303
    assert _messages(member_client.get("/portal/").content.decode()) == [
        "הטופס הזה כבר לא בתוקף. נא לנסות שוב. לא נוכו נקודות."
    ]
    assert _balance(scene) == 120
    assert Coupon.objects.filter(member=scene.member).count() == 1


def _gold(scene: ClubScene) -> Any:
    return scene.brand.tiers.get(name="זהב")


REFUSALS = {
    "not enough points": (
        lambda scene: reward_create(
            brand=scene.brand, name="ערב טעימות", cost_points=500, kind="experience", stock=8
        ),
        "עדיין אין לך מספיק נקודות להטבה הזו. לא נוכו נקודות.",
        "You do not have enough points for this reward yet. No points were spent.",
    ),
    "out of stock": (
        lambda scene: reward_create(brand=scene.brand, name="ספל", cost_points=30, kind="gift", stock=0),
        "מצטערים, ההטבה הזו אזלה הרגע. לא נוכו נקודות.",
        "Sorry, this reward has just run out. No points were spent.",
    ),
    "limit reached": (
        lambda scene: _taken_once(
            reward_create(
                brand=scene.brand, name="מאפה", cost_points=10, kind="free_item", per_member_limit=1, stock=9
            ),
            scene,
        ),
        "כבר מימשת את ההטבה הזו את מספר הפעמים המרבי. לא נוכו נקודות.",
        "You have already taken this reward as many times as allowed. No points were spent.",
    ),
    "tier required": (
        lambda scene: reward_create(
            brand=scene.brand, name="טרקלין", cost_points=20, kind="experience", stock=3, tiers=["זהב"]
        ),
        "ההטבה הזו מיועדת לחברים בדרגה גבוהה יותר. לא נוכו נקודות.",
        "This reward is for members of a higher tier. No points were spent.",
    ),
    "inactive": (
        lambda scene: _inactive(
            reward_create(brand=scene.brand, name="ישן", cost_points=20, kind="free_item", stock=4)
        ),
        "ההטבה הזו לא זמינה כרגע. לא נוכו נקודות.",
        "This reward is not on offer right now. No points were spent.",
    ),
}


def _taken_once(reward: Reward, scene: ClubScene) -> Reward:
    redemption_create(member=scene.member, reward=reward)
    return reward


def _inactive(reward: Reward) -> Reward:
    Reward.objects.filter(pk=reward.pk).update(active=False)
    return reward


@pytest.mark.parametrize("case", sorted(REFUSALS))
@pytest.mark.parametrize("language", ["he", "en"])
def test_a_refused_redemption_says_why_and_changes_nothing(member_client, scene, case, language):
    make, hebrew, english = REFUSALS[case]
    reward = make(scene)
    if language == "en":
        _english(member_client)
    balance, stock = _balance(scene), Reward.objects.get(pk=reward.pk).stock
    coupons = Coupon.objects.filter(member=scene.member).count()

    response = _redeem(member_client, scene, reward)

    assert (response.status_code, response["Location"]) == (303, "/portal/#club-cafe")
    page = member_client.get("/portal/")
    assert _messages(page.content.decode()) == [hebrew if language == "he" else english]
    assert '<li class="error">' in page.content.decode()
    assert _balance(scene) == balance
    assert Reward.objects.get(pk=reward.pk).stock == stock
    assert Coupon.objects.filter(member=scene.member).count() == coupons


def test_another_brands_reward_is_not_on_offer(member_client, scene, other_brand):
    foreign = reward_create(brand=other_brand, name="Socks", cost_points=10, kind="free_item", stock=5)
    _redeem(member_client, scene, foreign)
    assert _messages(member_client.get("/portal/").content.decode()) == [
        "ההטבה הזו לא זמינה כרגע. לא נוכו נקודות."
    ]
    assert (_balance(scene), Reward.objects.get(pk=foreign.pk).stock) == (120, 5)


def test_no_one_redeems_with_another_members_card(client, scene):
    stranger = make_user("stranger@example.org")
    MemberFactory(brand=scene.brand, email="stranger@example.org")
    memberships_link(user=stranger)
    client.force_login(stranger)
    assert _redeem(client, scene, _coffee(scene)).status_code == 404
    assert _balance(scene) == 120


def test_redeeming_needs_a_login_and_a_post(client, member_client, scene):
    assert member_client.get("/portal/redeem/").status_code == 405
    anonymous = Client()
    response = _redeem(anonymous, scene, _coffee(scene))
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/portal/redeem/")
    assert _balance(scene) == 120


def test_redeeming_is_protected_by_csrf(scene):
    memberships_link(user=scene.member_user)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(scene.member_user)
    assert _redeem(strict, scene, _coffee(scene)).status_code == 403
    assert _balance(scene) == 120


# --- tier progress ------------------------------------------------------------------------------


def _tier_panel(html: str) -> str:
    found = re.search(r'<div class="stat stat-tier" data-test="tier">(.*?)</div>', html, re.S)
    assert found, "no tier panel"
    return found.group(1)


def test_the_portal_shows_the_tier_and_how_far_the_next_one_is(member_client, scene):
    panel = _tier_panel(member_client.get("/portal/").content.decode())
    assert "<bdi>כסף</bdi>" in panel
    assert '<progress max="100" value="40"' in panel  # 180 of the way from 100 to 300
    assert 'data-test="tier-to-next">עוד 120 נקודות לדרגת זהב<' in panel

    english = _tier_panel(_english(member_client).get("/portal/").content.decode())
    assert "<bdi>Silver</bdi>" in english
    assert 'data-test="tier-to-next">120 points to Gold<' in english


def _buy(scene: ClubScene, amount: str, key: str) -> None:
    activity_record(
        brand=scene.brand,
        member=scene.member,
        type="purchase",
        source="pos",
        attributes={"amount": amount, "currency": "ILS"},
        idempotency_key=key,
    )


def test_one_point_to_go_reads_in_the_singular(member_client, scene):
    _buy(scene, "119.00", "receipt-2")
    assert 'data-test="tier-to-next">עוד נקודה אחת לדרגת זהב<' in _tier_panel(
        member_client.get("/portal/").content.decode()
    )
    assert 'data-test="tier-to-next">1 point to Gold<' in _tier_panel(
        _english(member_client).get("/portal/").content.decode()
    )


def test_the_top_tier_says_so(member_client, scene):
    _buy(scene, "150.00", "receipt-2")
    panel = _tier_panel(_english(member_client).get("/portal/").content.decode())
    assert "<bdi>Gold</bdi>" in panel
    assert "<progress" not in panel
    assert "You are in the top tier." in panel


def test_tiers_by_spend_count_money(member_client, scene):
    program_update(brand=scene.brand, changes={"tier_basis": "spend"}, actor=SYSTEM)
    panel = _tier_panel(_english(member_client).get("/portal/").content.decode())
    assert 'data-test="tier-to-next">Spend 120 ILS more to reach Gold<' in panel


def test_a_club_without_tiers_shows_no_tier_panel(client, other_brand):
    user = make_user("tamar@example.org")
    MemberFactory(brand=other_brand, email="tamar@example.org")
    memberships_link(user=user)
    client.force_login(user)
    response = client.get("/portal/")
    assert response.context["cards"][0]["tier"] is None
    assert 'data-test="tier"' not in response.content.decode()


# --- inviting friends ---------------------------------------------------------------------------


def test_the_referral_link_can_be_copied_and_shared_on_whatsapp(member_client, scene):
    link = f"http://testserver/join/cafe/?ref={scene.member.referral_code}"
    html = member_client.get("/portal/").content.decode()
    assert f'value="{link}" data-test="referral-link"' in html
    assert 'data-copy="ref-link-1" data-copied="הועתק"' in html
    text = f"הצטרפו למועדון קפה טוב דרך הקישור שלי וצברו נקודות: {link}"
    assert f'href="https://wa.me/?text={quote(text, safe="")}"' in html

    english = _english(member_client).get("/portal/").content.decode()
    text = f"Join the קפה טוב club with my link and earn points: {link}"
    assert f'href="https://wa.me/?text={quote(text, safe="")}"' in english
    assert ">Share on WhatsApp<" in english
    assert ">Copy<" in english
