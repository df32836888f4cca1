"""Editing the loyalty program in the console: rules, rewards and tiers changed and switched on and off in
the browser, each with a preview of its effect; refused changes (role, input, brand) change nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from kesher.brands.services import staff_grant
from kesher.core.audit import SYSTEM
from kesher.core.models import AuditEntry
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.loyalty import services
from kesher.loyalty.models import EarningRule, PointsAccount, Reward, Tier
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def staff(client, brand, role, name="staff"):
    user = get_user_model().objects.create_user(username=name, email=f"{name}@example.org", password="x")
    staff_grant(brand=brand, user=user, role=role)
    client.force_login(user)
    return user


def purchase_rule(brand):
    return EarningRule.objects.filter(brand=brand, activity_type="purchase", effect="per_unit").first()


RULE_FORM = {
    "name": "Double Fridays",
    "activity_type": "purchase",
    "effect": "per_unit",
    "points": "2",
    "per_amount": "1",
    "multiplier": "1",
    "stackable": "on",
}


def test_a_rules_preview_says_what_a_sample_purchase_earns(client, brand):
    staff(client, brand, "marketer")
    # The new brand's program gives 1 point per 1 ILS; this rule adds 2 per 10 ILS.
    answer = client.get(
        f"/console/{brand.slug}/rules/preview/",
        {**RULE_FORM, "per_amount": "10", "sample_amount": "125"},
        headers={"Accept-Language": "en"},
    )
    assert answer.status_code == 200
    text = answer.content.decode()
    assert not text.lstrip().lower().startswith("<!doctype")  # a fragment for the editor's box
    assert "A purchase of <bdi>125 ILS</bdi> earns <strong>24</strong> points under this rule." in text
    assert "<strong>149</strong> points in all" in text  # 125 (1 per ILS) + 24


def test_the_preview_of_a_multiplier_rule_counts_its_extra_over_the_other_rules(client, brand):
    staff(client, brand, "owner")
    text = client.get(
        f"/console/{brand.slug}/rules/preview/",
        {**RULE_FORM, "effect": "multiplier", "multiplier": "1.5", "sample_amount": "120"},
        headers={"Accept-Language": "en"},
    ).content.decode()
    assert "earns <strong>60</strong> points under this rule" in text
    assert "<strong>180</strong> points in all" in text


def test_the_preview_of_an_existing_rule_replaces_it_instead_of_adding_to_it(client, brand):
    staff(client, brand, "owner")
    rule = purchase_rule(brand)
    text = client.get(
        f"/console/{brand.slug}/rules/preview/",
        {**RULE_FORM, "points": "3", "sample_amount": "100", "row": str(rule.pk)},
        headers={"Accept-Language": "en"},
    ).content.decode()
    assert "<strong>300</strong> points in all" in text  # not 100 + 300


def test_the_hebrew_preview_reads_in_hebrew(client, brand):
    staff(client, brand, "owner")
    text = client.get(
        f"/console/{brand.slug}/rules/preview/",
        {**RULE_FORM, "sample_amount": "120"},
        headers={"Accept-Language": "he"},
    ).content.decode()
    assert "רכישה של <bdi>120 ILS</bdi>" in text and "240" in text


def test_marketer_edits_a_rule_and_the_next_purchase_earns_by_it(client, brand):
    staff(client, brand, "marketer")
    rule = purchase_rule(brand)
    page = client.get(f"/console/{brand.slug}/rules/{rule.pk}/", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "A purchase of <bdi>120 ILS</bdi> earns <strong>120</strong> points" in page.content.decode()
    saved = client.post(
        f"/console/{brand.slug}/rules/{rule.pk}/",
        {**RULE_FORM, "name": rule.name, "points": "3", "min_amount": "50"},
    )
    assert saved.status_code == 303
    rule.refresh_from_db()
    assert (rule.points, rule.min_amount) == (3, Decimal("50.00"))
    entry = AuditEntry.objects.get(action="earning_rule.update", target_id=str(rule.pk))
    assert entry.data["points"] == "3"
    from kesher.activity.services import activity_record

    member = MemberFactory(brand=brand)
    activity_record(
        brand=brand, member=member, type="purchase", attributes={"amount": "60"}, idempotency_key="p1"
    )
    assert PointsAccount.objects.get(member=member).balance == 180


def test_rules_and_rewards_are_switched_off_and_on(client, brand):
    staff(client, brand, "owner")
    rule = purchase_rule(brand)
    reward = services.reward_create(brand=brand, name="Coffee", cost_points=50, kind="free_item")
    assert client.post(f"/console/{brand.slug}/rules/", {"toggle": str(rule.pk)}).status_code == 303
    assert client.post(f"/console/{brand.slug}/rewards/", {"toggle": str(reward.pk)}).status_code == 303
    rule.refresh_from_db()
    reward.refresh_from_db()
    assert (rule.active, reward.active) == (False, False)
    assert client.post(f"/console/{brand.slug}/rewards/", {"toggle": str(reward.pk)}).status_code == 303
    reward.refresh_from_db()
    assert reward.active
    assert AuditEntry.objects.filter(action="reward.update", target_id=str(reward.pk)).count() == 2


def test_a_rewards_preview_counts_who_can_afford_it_now(client, brand):
    for points in (10, 49, 50, 400):
        services.points_adjust(member=MemberFactory(brand=brand), points=points, reason="seed", actor=SYSTEM)
    reward = services.reward_create(brand=brand, name="Coffee", cost_points=50, kind="free_item")
    staff(client, brand, "marketer")
    page = client.get(f"/console/{brand.slug}/rewards/{reward.pk}/", headers={"Accept-Language": "en"})
    assert "<strong>2</strong> members of 4 have 50 points or more" in page.content.decode()
    text = client.get(
        f"/console/{brand.slug}/rewards/preview/",
        {"name": "Cake", "kind": "free_item", "cost_points": "10", "value": "0"},
        headers={"Accept-Language": "en"},
    ).content.decode()
    assert "<strong>4</strong> members of 4 have 10 points or more" in text
    saved = client.post(
        f"/console/{brand.slug}/rewards/{reward.pk}/",
        {"name": "Large coffee", "kind": "free_item", "cost_points": "60", "value": "0", "stock": "5"},
    )
    assert saved.status_code == 303
    reward.refresh_from_db()
    assert (reward.name, reward.cost_points, reward.stock) == ("Large coffee", 60, 5)


def test_a_tiers_preview_counts_members_in_each_tier(client, brand):
    for points in (50, 150, 600, 900):
        member = MemberFactory(brand=brand)
        from kesher.activity.services import activity_record

        activity_record(
            brand=brand,
            member=member,
            type="purchase",
            attributes={"amount": str(points)},
            idempotency_key=f"p{points}",
        )
    silver = services.tier_create(brand=brand, name="Silver", threshold=Decimal(100))
    staff(client, brand, "owner")
    text = client.get(
        f"/console/{brand.slug}/tiers/preview/",
        {"name": "Gold", "threshold": "500", "multiplier": "1.5"},
        headers={"Accept-Language": "en"},
    ).content.decode()
    counts = [cell.split("<")[0] for cell in text.split('data-test="tier-preview-count">')[1:]]
    assert counts == ["1", "1", "2"]  # below every tier, Silver, Gold (this tier)
    # Moving Silver to 1,000 (while editing it) leaves three members below every tier.
    text = client.get(
        f"/console/{brand.slug}/tiers/preview/",
        {"name": "Silver", "threshold": "1000", "multiplier": "1", "row": str(silver.pk)},
        headers={"Accept-Language": "en"},
    ).content.decode()
    counts = [cell.split("<")[0] for cell in text.split('data-test="tier-preview-count">')[1:]]
    assert counts == ["4", "0"]
    saved = client.post(
        f"/console/{brand.slug}/tiers/{silver.pk}/",
        {"name": "Silver", "threshold": "200", "multiplier": "1.25", "perks": "Free refill"},
    )
    assert saved.status_code == 303
    silver.refresh_from_db()
    assert (silver.threshold, silver.multiplier, silver.perks) == (
        Decimal(200),
        Decimal("1.25"),
        "Free refill",
    )
    assert AuditEntry.objects.filter(action="tier.update", target_id=str(silver.pk)).exists()


@pytest.mark.parametrize("role", ["analyst", "service_agent", "moderator"])
def test_roles_that_may_not_change_the_program_change_nothing(client, brand, role):
    rule = purchase_rule(brand)
    reward = services.reward_create(brand=brand, name="Coffee", cost_points=50, kind="free_item")
    tier = services.tier_create(brand=brand, name="Silver", threshold=Decimal(100))
    staff(client, brand, role)
    assert client.get(f"/console/{brand.slug}/rules/{rule.pk}/").status_code == 200  # they may look
    before = rows_fingerprint()
    posts = [
        (f"/console/{brand.slug}/rules/{rule.pk}/", {**RULE_FORM, "points": "9"}),
        (f"/console/{brand.slug}/rules/", {"toggle": str(rule.pk)}),
        (f"/console/{brand.slug}/rewards/{reward.pk}/", {"name": "X", "kind": "gift", "cost_points": "1"}),
        (f"/console/{brand.slug}/rewards/", {"toggle": str(reward.pk)}),
        (f"/console/{brand.slug}/tiers/{tier.pk}/", {"name": "Silver", "threshold": "1", "multiplier": "1"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert changed_models(before, rows_fingerprint()) == []


def test_bad_input_is_refused_on_the_form_and_changes_nothing(client, brand):
    rule = purchase_rule(brand)
    reward = services.reward_create(
        brand=brand, name="Coffee", cost_points=50, kind="discount_percent", value=Decimal(10)
    )
    services.tier_create(brand=brand, name="Gold", threshold=Decimal(500))
    tier = services.tier_create(brand=brand, name="Silver", threshold=Decimal(100))
    staff(client, brand, "owner")
    before = rows_fingerprint()
    refused = [
        (f"/console/{brand.slug}/rules/{rule.pk}/", {**RULE_FORM, "points": "-3"}),
        # a multiplier rule needs a multiplier above 1 (the service's check, shown on the form)
        (f"/console/{brand.slug}/rules/{rule.pk}/", {**RULE_FORM, "effect": "multiplier", "multiplier": "1"}),
        (
            f"/console/{brand.slug}/rewards/{reward.pk}/",
            {"name": "Coffee", "kind": "discount_percent", "cost_points": "50", "value": "150"},
        ),
        (f"/console/{brand.slug}/tiers/{tier.pk}/", {"name": "Gold", "threshold": "100", "multiplier": "1"}),
    ]
    for url, data in refused:
        answer = client.post(url, data, headers={"Accept-Language": "en"})
        assert answer.status_code == 422, url
        assert 'role="alert"' in answer.content.decode()
    assert changed_models(before, rows_fingerprint()) == []


def test_another_brands_rules_rewards_and_tiers_are_not_found(client, brand, other_brand):
    rule = purchase_rule(other_brand)
    reward = services.reward_create(brand=other_brand, name="Coffee", cost_points=50, kind="free_item")
    tier = services.tier_create(brand=other_brand, name="Silver", threshold=Decimal(100))
    staff(client, brand, "owner")
    before = rows_fingerprint()
    for url in (f"rules/{rule.pk}/", f"rewards/{reward.pk}/", f"tiers/{tier.pk}/"):
        assert client.get(f"/console/{brand.slug}/{url}").status_code == 404
        assert client.post(f"/console/{brand.slug}/{url}", {"name": "x"}).status_code == 404
    assert client.post(f"/console/{brand.slug}/rewards/", {"toggle": str(reward.pk)}).status_code == 404
    assert client.get(f"/console/{brand.slug}/rules/preview/", {"row": str(rule.pk)}).status_code == 404
    assert changed_models(before, rows_fingerprint()) == []
    assert Reward.objects.get(pk=reward.pk).active and Tier.objects.get(pk=tier.pk).threshold == 100
