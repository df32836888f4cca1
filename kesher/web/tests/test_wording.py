"""The member's history says what happened in plain words: a return is not the same as an award withdrawn."""

from __future__ import annotations

from django.utils import translation

from kesher.activity.services import activity_record
from kesher.loyalty.models import LedgerEntry
from kesher.loyalty.services import points_reverse_for_activity
from kesher.members.tests.factories import MemberFactory
from kesher.web.wording import history_line


def _purchase(brand, member, amount: str):  # type: ignore[no-untyped-def]
    return activity_record(brand=brand, member=member, type="purchase", attributes={"amount": amount})[0]


def test_a_withdrawn_award_and_a_return_read_differently(brand):
    member = MemberFactory(brand=brand)
    purchase = _purchase(brand, member, "40")
    points_reverse_for_activity(activity=purchase, reason="Points of a removed post")
    other = _purchase(brand, member, "30")
    activity_record(brand=brand, member=member, type="return", attributes={"purchase_id": str(other.pk)})
    withdrawn, returned = (
        LedgerEntry.objects.filter(account_id=member.pk, kind=LedgerEntry.Kind.REVERSE)
        .select_related("activity")
        .order_by("created_at")
    )
    with translation.override("en"):
        assert (history_line(withdrawn).sentence, history_line(withdrawn).detail) == (
            "40 points were taken back",
            "Points of a removed post",
        )
        assert history_line(returned).sentence == "30 points were taken back after a return"
    with translation.override("he"):
        assert history_line(withdrawn).sentence == "40 נקודות בוטלו"
        assert history_line(returned).sentence == "30 נקודות בוטלו בעקבות החזרה"
