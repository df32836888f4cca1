"""Merging a duplicate moves everything to one member, keeps an audit, emits members.merged, and undoes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.activity.services import activity_record
from kesher.community.models import CommunityProfile, Post, Vote
from kesher.core.audit import SYSTEM
from kesher.core.errors import Conflict
from kesher.core.models import AuditEntry
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.customers.models import DuplicatePair, MemberMerge
from kesher.customers.services import members_merge, merge_undo
from kesher.loyalty.models import Coupon, LedgerEntry, PointsAccount, PointsLot
from kesher.loyalty.services import ledger_verify, points_adjust, redemption_create, reward_create
from kesher.members.models import ConsentEvent, Member
from kesher.members.services import consent_set, member_create

pytestmark = pytest.mark.django_db

# Tables a merge and its undo write by design: the merge record, its audit lines, the pair's state.
_BOOKKEEPING = {"customers.membermerge", "core.auditentry", "customers.duplicatepair"}


def _scene(brand: Any) -> tuple[Member, Member]:
    """Two records of one person, each with activities, points, a coupon, a post, a vote and consents."""
    a = member_create(
        brand=brand, external_id="a", email="noa@example.org", first_name="Noa", last_name="Levi"
    )
    b = member_create(
        brand=brand,
        external_id="b",
        phone="050-1234567",
        first_name="נועה",
        last_name="לוי",
        birthday=timezone.localdate().replace(year=1990),
    )
    for member, n in ((a, 1), (b, 2)):
        activity_record(
            brand=brand, member=member, type="purchase", attributes={"amount": "100"}, external_id=f"p{n}"
        )
        points_adjust(member=member, points=100 * n, reason="seed", actor=SYSTEM)
    reward = reward_create(brand=brand, name="Coffee", cost_points=30, kind="free_item")
    redemption_create(member=b, reward=reward)
    consent_set(member=a, channel="email", granted=True, source="api")
    consent_set(member=b, channel="email", granted=False, source="unsubscribe link")  # the stricter
    consent_set(member=b, channel="sms", granted=True, source="store form")
    from kesher.community.models import Space
    from kesher.community.services.authors import Author
    from kesher.community.services.questions import question_ask

    space = Space.objects.get(brand=brand, slug="general")
    question = question_ask(
        space=space, author=Author(member=b), title="Is the oat milk free?", body="Asking"
    )
    other = question_ask(space=space, author=Author(member=a), title="Opening hours on Friday?", body="When")
    Vote.objects.create(brand=brand, post=other, member=b, value=1)
    CommunityProfile.objects.update_or_create(member=b, defaults={"brand": brand, "reputation": 41})
    CommunityProfile.objects.update_or_create(member=a, defaults={"brand": brand, "reputation": 11})
    del question
    return a, b


def test_merge_moves_everything_to_the_target_and_undo_puts_every_row_back(
    brand, django_capture_on_commit_callbacks
):
    target, source = _scene(brand)
    DuplicatePair.objects.create(
        brand=brand,
        member_a_id=min(source.pk, target.pk),
        member_b_id=max(source.pk, target.pk),
        probability=0.99,
        reasons=["same name"],
    )
    accounts = PointsAccount.objects.filter(member__in=[source, target])
    sums = [sum(getattr(x, f) for x in accounts) for f in ("balance", "lifetime_earned", "lifetime_redeemed")]
    assert sums[2] == 30
    before = rows_fingerprint()
    heard: list[Any] = []
    from kesher.core import events

    events.on_event(heard.append)
    with django_capture_on_commit_callbacks(execute=True):
        merge = members_merge(brand=brand, source_id=source.pk, target_id=target.pk, actor=SYSTEM)

    assert Activity.objects.filter(member=source).count() == 0
    assert Activity.objects.filter(member=target, type="purchase").count() == 2
    assert PointsLot.objects.filter(account_id=source.pk).count() == 0
    account = PointsAccount.objects.get(member=target)
    assert [account.balance, account.lifetime_earned, account.lifetime_redeemed] == sums
    assert PointsAccount.objects.get(member=source).balance == 0
    assert ledger_verify(brand=brand) == []
    assert Coupon.objects.filter(member=target).count() == 1
    assert Post.objects.filter(author=source).count() == 0
    assert Vote.objects.filter(member=target).count() == 1
    assert CommunityProfile.objects.get(member=target).reputation == 11 + 40
    assert ConsentEvent.objects.filter(member=source).count() == 0
    target.refresh_from_db()
    source.refresh_from_db()
    # A withdrawal on either record beats a grant on the other; a grant nobody withdrew stays.
    assert (target.consent_email, target.consent_sms) == (False, True)
    assert (target.phone, target.birthday) == ("+972501234567", source.birthday)
    assert source.status == "blocked"
    assert DuplicatePair.objects.get().status == "merged"
    assert AuditEntry.objects.filter(action="members.merge", target_id=str(target.pk)).count() == 1
    merged = [e for e in heard if e.type == "members.merged"]
    assert merged and merged[-1].data == {
        "merge_id": str(merge.pk),
        "source_id": str(source.pk),
        "target_id": str(target.pk),
    }

    merge_undo(brand=brand, merge_id=merge.pk, actor=SYSTEM)

    after = rows_fingerprint()
    assert set(changed_models(before, after)) - _BOOKKEEPING == set()
    assert DuplicatePair.objects.get().status == "open"
    assert ledger_verify(brand=brand) == []
    assert AuditEntry.objects.filter(action="members.merge_undo").count() == 1


def test_a_second_merge_of_the_same_duplicate_is_refused_and_changes_nothing(brand):
    target, source = _scene(brand)
    members_merge(brand=brand, source_id=source.pk, target_id=target.pk, actor=SYSTEM)
    before = rows_fingerprint()
    with pytest.raises(Conflict):
        members_merge(brand=brand, source_id=source.pk, target_id=target.pk, actor=SYSTEM)
    with pytest.raises(Conflict):
        members_merge(brand=brand, source_id=target.pk, target_id=source.pk, actor=SYSTEM)
    assert changed_models(before, rows_fingerprint()) == []


def test_the_api_merges_lists_and_undoes_within_the_brand_only(brand, other_brand, make_api):
    api = make_api(brand, "manage")
    target, source = _scene(brand)
    stranger = member_create(brand=other_brand, external_id="s", first_name="Noa")
    DuplicatePair.objects.create(
        brand=brand,
        member_a_id=min(source.pk, target.pk),
        member_b_id=max(source.pk, target.pk),
        probability=0.97,
        reasons=["same name", "same phone"],
    )
    listed = api.get("/duplicates?min_probability=0.9")
    assert listed.status == 200
    assert listed.body[0]["member_ids"] == sorted([str(source.pk), str(target.pk)])
    assert (listed.body[0]["probability"], listed.body[0]["reasons"]) == (0.97, ["same name", "same phone"])
    assert api.get("/duplicates?min_probability=0.98").body == []
    assert make_api(other_brand, "manage").get("/duplicates?min_probability=0").body == []
    before = rows_fingerprint()
    cross = api.post("/members/merge", {"source_id": str(stranger.pk), "target_id": str(target.pk)})
    assert cross.status == 404
    assert changed_models(before, rows_fingerprint()) == []
    done = api.post("/members/merge", {"source_id": str(source.pk), "target_id": str(target.pk)})
    assert done.status == 200, done.body
    assert done.body["rows_moved"] > 5
    again = api.post("/members/merge", {"source_id": str(source.pk), "target_id": str(target.pk)})
    assert (again.status, again.body["error"]["code"]) == (409, "member_merged")
    assert make_api(other_brand, "manage").post(f"/merges/{done.body['id']}/undo").status == 404
    undone = api.post(f"/merges/{done.body['id']}/undo")
    assert undone.status == 200 and undone.body["undone_at"]
    assert Activity.objects.filter(member=source, type="purchase").count() == 1
    assert api.post(f"/merges/{done.body['id']}/undo").status == 409


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_merges_of_the_same_pair_at_once_one_succeeds_the_other_is_refused(make_api):
    from kesher.brands.services import brand_create

    brand = brand_create(slug="cafe", name="קפה טוב", default_locale="he")
    target, source = _scene(brand)
    expected = sum(
        PointsAccount.objects.filter(member__in=[source, target]).values_list("balance", flat=True)
    )
    clients = [make_api(brand, "manage") for _ in range(2)]
    start = threading.Barrier(2)
    body = {"source_id": str(source.pk), "target_id": str(target.pk)}

    def send(client: Any) -> int:
        try:
            start.wait()
            return int(client.post("/members/merge", body).status)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = sorted(pool.map(send, clients))
    assert answers == [200, 409]
    assert MemberMerge.objects.filter(source=source, undone_at__isnull=True).count() == 1
    account = PointsAccount.objects.get(member=target)
    assert account.balance == expected  # moved once, not twice
    assert LedgerEntry.objects.filter(account_id=source.pk).count() == 0
    assert ledger_verify(brand=brand) == []
    assert timezone.now() - MemberMerge.objects.get().merged_at < timedelta(minutes=5)
