"""A scripted conversation over the API: points from the loyalty program, reputation from the community."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kesher.activity.models import Activity
from kesher.community.models import CommunityProfile, Post, ReputationEvent, Vote
from kesher.conftest import ApiClient
from kesher.members.models import Member

pytestmark = pytest.mark.django_db


def balance(api: ApiClient, member: Member) -> int:
    answer = api.get(f"/members/{member.pk}/points")
    assert answer.status == 200, answer.body
    return int(answer.body["balance"])


def reputation(member: Member) -> int:
    return CommunityProfile.objects.get(member=member).reputation


def ask(api: ApiClient, member: Member, **kw: Any) -> dict[str, Any]:
    body = {"member_id": str(member.pk), "space": "general", "title": "איך צוברים נקודות במועדון?"}
    body |= {"body": "ניסיתי **כמה** דברים ולא הצלחתי.", "tags": ["נקודות", "Club"]} | kw
    answer = api.post("/community/questions", body)
    assert answer.status == 201, answer.body
    return dict(answer.body)


def reply(api: ApiClient, question_id: str, member: Member, body: str) -> dict[str, Any]:
    answer = api.post(
        f"/community/questions/{question_id}/answers", {"member_id": str(member.pk), "body": body}
    )
    assert answer.status == 201, answer.body
    return dict(answer.body)


def vote(api: ApiClient, post_id: str, member: Member, value: int) -> Any:
    return api.post(f"/community/posts/{post_id}/votes", {"member_id": str(member.pk), "value": value})


def test_question_three_answers_votes_and_an_accepted_answer(
    api: ApiClient, general: Any, make_member: Callable[..., Member]
) -> None:
    asker, bea, carl, dana = (make_member(name) for name in ("אורי", "Bea", "Carl", "דנה"))
    eli = make_member("Eli", reputation=200)  # trusted enough to vote down

    question = ask(api, asker)
    assert question["status"] == "published"
    assert question["tags"] == ["club", "נקודות"]
    answers = [
        reply(api, question["id"], bea, "בכל קנייה מקבלים נקודה על כל שקל."),
        reply(api, question["id"], carl, "Also by answering questions here."),
        reply(api, question["id"], dana, "לא יודעת, אולי בקופה?"),
    ]
    b_answer, c_answer, d_answer = (a["id"] for a in answers)

    assert vote(api, b_answer, asker, 1).status == 200
    assert vote(api, b_answer, carl, 1).status == 200
    assert vote(api, question["id"], bea, 1).status == 200
    assert vote(api, c_answer, dana, 1).status == 200
    downvote = vote(api, d_answer, eli, -1)
    assert downvote.status == 200 and downvote.body["score"] == -1

    accepted = api.post(f"/community/answers/{b_answer}/accept", {"member_id": str(asker.pk)})
    assert accepted.status == 200, accepted.body
    assert accepted.body["accepted_answer_id"] == b_answer

    # Points: the default program gives 1 a question, 1 an answer, 10 for the accepted answer.
    assert [balance(api, m) for m in (asker, bea, carl, dana, eli)] == [1, 11, 1, 1, 0]
    # Reputation starts at 1: question upvoted +5, answer upvoted +10, accepted +15, accepting +2, down -2.
    assert [reputation(m) for m in (asker, bea, carl, dana)] == [1 + 5 + 2, 1 + 20 + 15, 1 + 10, 1 - 2]
    community_activities = Activity.objects.filter(source="community").order_by("recorded_at")
    assert [a.type for a in community_activities] == [
        "question_asked",
        "answer_posted",
        "answer_posted",
        "answer_posted",
        "answer_accepted",
    ]

    thread = api.get(f"/community/questions/{question['id']}")
    assert thread.status == 200
    assert [a["id"] for a in thread.body["answers"]] == [b_answer, c_answer, d_answer]
    assert [a["is_accepted"] for a in thread.body["answers"]] == [True, False, False]
    assert [a["score"] for a in thread.body["answers"]] == [2, 1, -1]
    assert thread.body["answer_count"] == 3 and thread.body["score"] == 1

    # Accepting the same answer again changes nothing; a member who is not the asker may not accept.
    again = api.post(f"/community/answers/{b_answer}/accept", {"member_id": str(asker.pk)})
    assert again.status == 200
    refused = api.post(f"/community/answers/{c_answer}/accept", {"member_id": str(carl.pk)})
    assert refused.status == 403 and refused.body["error"]["code"] == "not_the_asker"
    assert [balance(api, m) for m in (asker, bea, carl)] == [1, 11, 1]
    assert [reputation(m) for m in (asker, bea, carl)] == [8, 36, 11]

    # Taking a vote back takes back exactly the reputation it gave.
    assert vote(api, b_answer, asker, 0).status == 200
    assert reputation(bea) == 26
    assert not Vote.objects.filter(post_id=b_answer, member=asker).exists()


def test_vote_rules(api: ApiClient, general: Any, make_member: Callable[..., Member]) -> None:
    asker, newcomer = make_member("A"), make_member("B")
    question = ask(api, asker)

    own = vote(api, question["id"], asker, 1)
    assert own.status == 403 and own.body["error"]["code"] == "own_post"
    down = vote(api, question["id"], newcomer, -1)
    assert down.status == 403 and down.body["error"]["code"] == "reputation_too_low"
    assert Vote.objects.count() == 0 and Post.objects.get(pk=question["id"]).score == 0
    assert reputation(asker) == 1

    # One vote per member per post: voting again replaces it, and changing it moves the reputation.
    CommunityProfile.objects.update_or_create(
        member=newcomer, defaults={"brand": newcomer.brand, "reputation": 500}
    )
    assert vote(api, question["id"], newcomer, 1).body["score"] == 1
    assert vote(api, question["id"], newcomer, 1).body["score"] == 1
    assert reputation(asker) == 6
    assert vote(api, question["id"], newcomer, -1).body["score"] == -1
    assert reputation(asker) == 1 - 2
    assert Vote.objects.filter(member=newcomer).count() == 1
    bad = vote(api, question["id"], newcomer, 2)
    assert bad.status == 422


def test_reputation_daily_cap_does_not_count_accepted_answers(
    api: ApiClient, general: Any, make_member: Callable[..., Member]
) -> None:
    asker, helper = make_member("A"), make_member("H")
    question = ask(api, asker)
    answer = reply(api, question["id"], helper, "תשובה מועילה מאוד")
    for index in range(25):
        voter = make_member(f"V{index}")
        assert vote(api, answer["id"], voter, 1).status == 200
    assert reputation(helper) == 1 + 200  # 25 upvotes are 250, the cap is 200
    assert api.post(f"/community/answers/{answer['id']}/accept", {"member_id": str(asker.pk)}).status == 200
    assert reputation(helper) == 1 + 200 + 15
    capped = ReputationEvent.objects.filter(member=helper, event="answer_upvoted")
    assert sorted({event.points for event in capped}) == [0, 10]


def test_reputation_table_is_editable_per_brand(
    api: ApiClient, general: Any, make_member: Callable[..., Member]
) -> None:
    rules = api.get("/community/reputation-rules")
    assert {r["event"]: r["points"] for r in rules.body} == {
        "accepting_answer": 2,
        "answer_accepted": 15,
        "answer_upvoted": 10,
        "post_downvoted": -2,
        "question_upvoted": 5,
        "spam_removed": -100,
    }
    changed = api.call("PUT", "/community/reputation-rules/question_upvoted", {"points": 7})
    assert changed.status == 200 and changed.body == {"event": "question_upvoted", "points": 7}
    asker, voter = make_member("A"), make_member("B")
    question = ask(api, asker)
    vote(api, question["id"], voter, 1)
    assert reputation(asker) == 8


def test_brand_answers_are_marked_and_staff_accepts(
    api: ApiClient, general: Any, make_member: Callable[..., Member], make_api: Callable[..., ApiClient]
) -> None:
    asker = make_member("A")
    question = ask(api, asker)
    official = api.post(
        f"/community/questions/{question['id']}/answers",
        {"as_brand": True, "body": "שלום, כאן צוות המועדון."},
    )
    assert official.status == 201
    assert official.body["author"] == {
        "member_id": None,
        "name": "קפה טוב",
        "by_brand": True,
        "reputation": None,
    }
    pos = make_api(general.brand, "pos")
    refused = pos.post(f"/community/questions/{question['id']}/answers", {"as_brand": True, "body": "x"})
    assert refused.status == 403
    accepted = api.post(f"/community/answers/{official.body['id']}/accept", {})
    assert accepted.status == 200 and accepted.body["accepted_answer_id"] == official.body["id"]
    assert reputation(asker) == 1  # staff accepting gives the asker nothing


def test_badges_are_earned_once_and_shown_on_the_profile(
    api: ApiClient, general: Any, make_member: Callable[..., Member]
) -> None:
    from django.utils import timezone

    from kesher.community.services import badges_helpful_month

    asker, helper = make_member("A"), make_member("H")
    question = ask(api, asker)
    answer = reply(api, question["id"], helper, "כך עושים את זה")
    api.post(f"/community/answers/{answer['id']}/accept", {"member_id": str(asker.pk)})
    voters = [make_member(f"V{i}") for i in range(10)]
    for voter in voters:
        vote(api, question["id"], voter, 1)
    assert badges_helpful_month(brand=general.brand, month=timezone.localtime()) == helper

    def codes(member: Member) -> list[str]:
        profile = api.get(f"/community/members/{member.pk}")
        assert profile.status == 200
        return sorted(badge["code"] for badge in profile.body["badges"])

    assert codes(helper) == ["first_accepted", "first_answer", "helpful_month"]
    assert codes(asker) == ["good_question"]
    names = {b["code"]: b["name"] for b in api.get(f"/community/members/{helper.pk}").body["badges"]}
    assert names["first_answer"] == "תשובה ראשונה"
    # Earned once: another answer does not award "first answer" again.
    other = ask(api, make_member("B"), title="שאלה נוספת כאן")
    reply(api, other["id"], helper, "עוד תשובה שלי")
    assert codes(helper) == ["first_accepted", "first_answer", "helpful_month"]
