"""Merging duplicates: answers, comments and follows move to the original; the duplicate redirects there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.test import Client

from kesher.brands.models import Brand, StaffMembership, StaffRole
from kesher.community import search
from kesher.community.access import reader_anonymous
from kesher.community.models import (
    CommunityProfile,
    CommunitySettings,
    Follow,
    Post,
    ReputationEvent,
    SearchDocument,
    Space,
)
from kesher.community.services import (
    Author,
    answer_accept,
    answer_post,
    comment_post,
    follow_set,
    question_ask,
    vote_cast,
)
from kesher.community.views import question_url
from kesher.conftest import ApiClient
from kesher.core.models import AuditEntry
from kesher.members.models import Member

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(general: Space, make_member: Callable[..., Member]) -> dict[str, Any]:
    """An original question with one answer, and a duplicate with two answers, comments, votes, follows."""
    CommunitySettings.objects.filter(brand=general.brand).update(min_seconds_between_posts=0)
    asker, dup_asker = make_member("מקורית"), make_member("כפולה")
    helper, second, voter = make_member("עוזר"), make_member("שני"), make_member("מצביעה", reputation=200)
    original = question_ask(
        space=general, author=Author(member=asker), title="איך צוברים נקודות במועדון?", body="שאלה"
    )
    answer_post(question=original, author=Author(member=helper), body="בכל קנייה")
    duplicate = question_ask(
        space=general, author=Author(member=dup_asker), title="צבירת נקודות כפולה", body="אותה שאלה"
    )
    moved_one = answer_post(question=duplicate, author=Author(member=helper), body="בקופה מציגים כרטיס")
    moved_two = answer_post(question=duplicate, author=Author(member=second), body="גם באתר")
    comment_post(parent=duplicate, author=Author(member=voter), body="כבר נשאל")
    comment_post(parent=moved_one, author=Author(member=dup_asker), body="תודה")
    vote_cast(post=moved_one, member=voter, value=1)
    vote_cast(post=duplicate, member=voter, value=1)
    answer_accept(answer=moved_one, member=dup_asker)
    follow_set(member=voter, question=duplicate)
    follow_set(member=asker, question=duplicate)
    follow_set(member=asker, question=original)
    return {
        "original": original,
        "duplicate": duplicate,
        "moved": [moved_one, moved_two],
        "members": [asker, dup_asker, helper, second, voter],
    }


def snapshot(brand: Brand) -> dict[str, Any]:
    posts = Post.objects.filter(brand=brand).order_by("pk")
    return {
        "posts": list(
            posts.values_list(
                "pk",
                "question_id",
                "parent_id",
                "status",
                "answer_count",
                "comment_count",
                "score",
                "space_id",
            )
        ),
        "follows": sorted(Follow.objects.filter(brand=brand).values_list("member_id", "question_id")),
        "reputation": sorted(
            CommunityProfile.objects.filter(brand=brand).values_list("member_id", "reputation")
        ),
        "search": sorted(
            SearchDocument.objects.filter(brand=brand).values_list("post_id", "question_id", "visible")
        ),
        "audit": AuditEntry.objects.filter(brand=brand, action="community.question.merge").count(),
    }


def test_the_api_merges_a_duplicate_into_the_original(api: ApiClient, pair: dict[str, Any]) -> None:
    original, duplicate = pair["original"], pair["duplicate"]
    moved_one, moved_two = pair["moved"]
    asker, dup_asker, helper, second, voter = pair["members"]
    reputation_before = dict(CommunityProfile.objects.values_list("member_id", "reputation"))
    events_before = ReputationEvent.objects.count()

    merged = api.post(
        f"/community/questions/{duplicate.pk}/merge", {"into": str(original.pk), "reason": "כפול"}
    )

    assert merged.status == 200, merged.body
    assert (merged.body["answers_moved"], merged.body["comments_moved"], merged.body["follows_moved"]) == (
        2,
        2,
        1,
    )
    assert merged.body["question"]["status"] == "merged"
    assert merged.body["question"]["duplicate_of"] == str(original.pk)
    assert merged.body["into"]["answer_count"] == 3 and merged.body["into"]["comment_count"] == 1
    for answer in (moved_one, moved_two):
        answer.refresh_from_db()
        assert answer.question_id == original.pk
    assert set(Post.objects.filter(kind="comment").values_list("question_id", flat=True)) == {original.pk}
    assert Post.objects.get(body="כבר נשאל").parent_id == original.pk
    # Follows: the voter now follows the original; the asker, who followed both, follows it once.
    assert sorted(Follow.objects.values_list("member_id", "question_id")) == sorted(
        [(voter.pk, original.pk), (asker.pk, original.pk)]
    )
    # Votes and reputation are untouched: the moved answer keeps its vote, the ledgers still add up.
    moved_one.refresh_from_db()
    assert (moved_one.score, moved_one.upvotes) == (1, 1)
    assert dict(CommunityProfile.objects.values_list("member_id", "reputation")) == reputation_before
    assert ReputationEvent.objects.count() == events_before
    for member in (dup_asker, helper, second):  # no reputation given by hand: events add up to it
        events = ReputationEvent.objects.filter(member=member).aggregate(total=Sum("points"))["total"] or 0
        assert reputation_before[member.pk] == 1 + events
    # Search finds the original (with the moved answer's words) and never the duplicate.
    hits = search.search_posts(reader=reader_anonymous(original.brand), q="כפולה")
    assert hits == []
    hits = search.search_posts(reader=reader_anonymous(original.brand), q="כרטיס")
    assert [hit.question.pk for hit in hits] == [original.pk]
    for reader_query in ("", f"&member_id={voter.pk}"):  # staff (a manage key) and a member
        listed = api.get(f"/community/questions?space=general{reader_query}")
        assert [row["id"] for row in listed.body["items"]] == [str(original.pk)]
    audit = AuditEntry.objects.get(action="community.question.merge")
    assert (audit.target_id, audit.actor_api_key is not None) == (str(duplicate.pk), True)
    assert audit.data == {
        "into": str(original.pk),
        "reason": "כפול",
        "answers": 2,
        "comments": 2,
        "follows": 1,
    }


def test_the_duplicate_page_redirects_permanently(api: ApiClient, pair: dict[str, Any]) -> None:
    original, duplicate = pair["original"], pair["duplicate"]
    assert api.post(f"/community/questions/{duplicate.pk}/merge", {"into": str(original.pk)}).status == 200
    page = Client().get(f"/community/cafe/q/{duplicate.pk}/{duplicate.slug}/")
    assert page.status_code == 301
    assert page["Location"] == question_url(original)
    html = Client().get(page["Location"]).content.decode()
    assert html.count('data-test="answer"') == 3 and "בקופה מציגים כרטיס" in html
    sitemap = Client().get("/community/cafe/sitemap.xml").content.decode()
    assert str(original.pk) in sitemap and str(duplicate.pk) not in sitemap


def test_refusals_change_nothing(
    api: ApiClient,
    pair: dict[str, Any],
    other_general: Space,
    make_api: Callable[..., ApiClient],
    make_member: Callable[..., Member],
) -> None:
    original, duplicate = pair["original"], pair["duplicate"]
    brand = original.brand
    stranger = question_ask(
        space=other_general,
        author=Author(member=make_member("Ann", of=other_general.brand)),
        title="How do points work?",
        body="?",
    )
    before = snapshot(brand)
    other_api = make_api(other_general.brand, "all")
    # Another brand's key finds neither question; a merge across brands finds no target.
    assert (
        other_api.post(f"/community/questions/{duplicate.pk}/merge", {"into": str(original.pk)}).status == 404
    )
    assert (
        other_api.post(f"/community/questions/{stranger.pk}/merge", {"into": str(original.pk)}).status == 404
    )
    across = api.post(f"/community/questions/{duplicate.pk}/merge", {"into": str(stranger.pk)})
    assert across.status == 404 and across.body["error"]["field"] == "into"
    # A pos key may not merge; a question is not merged into itself.
    assert (
        make_api(brand, "pos")
        .post(f"/community/questions/{duplicate.pk}/merge", {"into": str(original.pk)})
        .status
        == 403
    )
    itself = api.post(f"/community/questions/{duplicate.pk}/merge", {"into": str(duplicate.pk)})
    assert itself.status == 422
    assert snapshot(brand) == before
    assert Post.objects.get(pk=stranger.pk).status == "published"
    # Once merged, it cannot be merged again.
    assert api.post(f"/community/questions/{duplicate.pk}/merge", {"into": str(original.pk)}).status == 200
    again = api.post(f"/community/questions/{duplicate.pk}/merge", {"into": str(original.pk)})
    assert again.status == 409 and again.body["error"]["code"] == "question_merged"


def staff_client(brand: Brand, role: str, name: str) -> Client:
    user = get_user_model().objects.create_user(username=name)
    StaffMembership.objects.create(brand=brand, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def test_moderators_merge_from_the_question_page(pair: dict[str, Any], other_general: Space) -> None:
    original, duplicate = pair["original"], pair["duplicate"]
    brand = original.brand
    page = f"/community/cafe/q/{duplicate.pk}/{duplicate.slug}/"
    moderator = staff_client(brand, StaffRole.MODERATOR, "mod")
    assert 'data-test="merge"' in moderator.get(page).content.decode()
    before = snapshot(brand)
    # Staff of another brand, and this brand's staff without the moderator role, find no such action.
    outsider = staff_client(other_general.brand, StaffRole.OWNER, "outsider")
    form = {"into": f"https://club.example/community/cafe/q/{original.pk}/"}
    assert outsider.post(f"/community/cafe/merge/{duplicate.pk}/", form).status_code == 404
    analyst = staff_client(brand, StaffRole.ANALYST, "analyst")
    assert analyst.post(f"/community/cafe/merge/{duplicate.pk}/", form).status_code == 404
    assert Client().post(f"/community/cafe/merge/{duplicate.pk}/", form).status_code == 302  # to sign in
    assert snapshot(brand) == before

    done = moderator.post(f"/community/cafe/merge/{duplicate.pk}/", form)
    assert done.status_code == 302 and done["Location"] == question_url(original)
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.duplicate_of_id) == ("merged", original.pk)
    entry = AuditEntry.objects.get(action="community.question.merge")
    assert entry.actor_user is not None and entry.actor_user.get_username() == "mod"
    # The staff reader is redirected too.
    assert moderator.get(page).status_code == 301


def points(member: Member) -> int:
    from kesher.loyalty.models import PointsAccount

    return PointsAccount.objects.get(member=member).balance


def figures(member: Member) -> tuple[int, int]:
    """(balance, lifetime_earned): a reversal lowers both."""
    from kesher.loyalty.models import PointsAccount

    account = PointsAccount.objects.get(member=member)
    return account.balance, account.lifetime_earned


def answer_accepted_lots(member: Member) -> list[tuple[int, int, str]]:
    from kesher.loyalty.models import PointsLot

    return list(
        PointsLot.objects.filter(account__member=member, activity__type="answer_accepted")
        .order_by("id")
        .values_list("points", "remaining", "state")
    )


def last_entry(member: Member) -> tuple[str, int]:
    from kesher.loyalty.models import LedgerEntry

    entry = LedgerEntry.objects.filter(account__member=member).order_by("-created_at", "-id").first()
    assert entry is not None
    return entry.kind, entry.points


def test_an_acceptance_on_the_duplicate_moves_to_an_original_without_one(
    api: ApiClient, pair: dict[str, Any]
) -> None:
    original, duplicate = pair["original"], pair["duplicate"]
    moved_one, moved_two = pair["moved"]
    asker, _dup_asker, helper, second, _voter = pair["members"]
    before = {m.pk: (points(m), CommunityProfile.objects.get(member=m).reputation) for m in (helper, second)}
    assert api.post(f"/community/questions/{duplicate.pk}/merge", {"into": str(original.pk)}).status == 200
    original.refresh_from_db()
    assert original.accepted_answer_id == moved_one.pk
    assert {
        m.pk: (points(m), CommunityProfile.objects.get(member=m).reputation) for m in (helper, second)
    } == before
    # The original's asker moves the acceptance: what the first acceptance gave goes with it, exactly once.
    answer_accept(answer=Post.objects.get(pk=moved_two.pk), member=asker)
    assert (points(helper), CommunityProfile.objects.get(member=helper).reputation) == (
        before[helper.pk][0] - 10,
        before[helper.pk][1] - 15,
    )
    assert (points(second), CommunityProfile.objects.get(member=second).reputation) == (
        before[second.pk][0] + 10,
        before[second.pk][1] + 15,
    )
    # The helper answered twice (1 + 1) and keeps that; the acceptance's 10 left the lifetime figure too.
    assert (figures(helper), figures(second)) == ((1 + 1, 1 + 1), (1 + 10, 1 + 10))
    assert last_entry(helper) == ("reverse", -10)
    assert answer_accepted_lots(helper) == [(10, 0, "reversed")]
    from kesher.loyalty.services import ledger_verify

    assert ledger_verify(brand=original.brand) == []


def test_an_acceptance_on_the_duplicate_ends_when_the_original_has_its_own(
    api: ApiClient, pair: dict[str, Any]
) -> None:
    original, duplicate = pair["original"], pair["duplicate"]
    asker, dup_asker, helper, _second, _voter = pair["members"]
    own = Post.objects.get(question=original, kind="answer")
    answer_accept(answer=own, member=asker)
    helper_before = (points(helper), CommunityProfile.objects.get(member=helper).reputation)
    dup_asker_reputation = CommunityProfile.objects.get(member=dup_asker).reputation
    assert api.post(f"/community/questions/{duplicate.pk}/merge", {"into": str(original.pk)}).status == 200
    original.refresh_from_db()
    duplicate.refresh_from_db()
    assert (original.accepted_answer_id, duplicate.accepted_answer_id) == (own.pk, None)
    assert (points(helper), CommunityProfile.objects.get(member=helper).reputation) == (
        helper_before[0] - 10,
        helper_before[1] - 15,
    )
    assert CommunityProfile.objects.get(member=dup_asker).reputation == dup_asker_reputation - 2
    # Two answers (1 + 1) and the original's acceptance (10) stand; the duplicate's acceptance is gone.
    assert figures(helper) == (1 + 1 + 10, 1 + 1 + 10)
    assert last_entry(helper) == ("reverse", -10)
    assert answer_accepted_lots(helper) == [(10, 0, "reversed"), (10, 10, "available")]
