"""Visibility for every kind of reader: anonymous, member, a member of another tier, staff, another brand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kesher.brands.models import Brand
from kesher.community import access
from kesher.community.models import CommunitySettings, Post, Space
from kesher.community.services import Author, answer_post, question_ask, space_create
from kesher.conftest import ApiClient
from kesher.members.models import Member

pytestmark = pytest.mark.django_db

SPACES = {"general": "public", "club": "members", "gold": "tiers", "team": "staff"}


@pytest.fixture
def tiers() -> Iterator[dict[Any, str]]:
    """Member id -> tier name, standing in for the loyalty tiers until they exist."""
    table: dict[Any, str] = {}
    access.tier_resolver_set(lambda member: [table[member.pk]] if member.pk in table else [])
    yield table
    access.tier_resolver_set(access.loyalty_tier_names)


@pytest.fixture
def world(
    brand: Brand,
    general: Space,
    other_general: Space,
    make_member: Callable[..., Member],
    tiers: dict[Any, str],
) -> dict[str, Any]:
    CommunitySettings.objects.filter(brand=brand).update(min_seconds_between_posts=0)
    spaces = {"general": general}
    for slug in ("club", "gold", "team"):
        spaces[slug] = space_create(
            brand=brand,
            slug=slug,
            name=slug,
            visibility=SPACES[slug],
            tiers=["gold"] if slug == "gold" else [],
        )
    writer_member = make_member("W", reputation=100)
    tiers[writer_member.pk] = "gold"
    writer = Author(member=writer_member)
    staff = Author(by_brand=True)
    questions = {}
    for slug, space in spaces.items():
        author = staff if slug == "team" else writer
        # Each question carries the word "מבצע" and its space's name, to be found by search.
        questions[slug] = question_ask(
            space=space, author=author, title=f"מבצע בחלל {slug}", body=f"גוף {slug}"
        )
        answer_post(question=questions[slug], author=staff, body=f"תשובה על המבצע {slug}")
    gold_member, silver_member = make_member("G"), make_member("S")
    tiers[gold_member.pk], tiers[silver_member.pk] = "gold", "silver"
    return {
        "spaces": spaces,
        "questions": questions,
        "member": make_member("M"),
        "gold": gold_member,
        "silver": silver_member,
        "stranger": make_member("X", of=other_general.brand),
    }


def readers(
    world: dict[str, Any], make_api: Callable[..., ApiClient], brand: Brand, other_brand: Brand
) -> Any:
    pos, staff, foreign = make_api(brand, "pos"), make_api(brand, "manage"), make_api(other_brand, "all")
    return {
        "anonymous": (pos, ""),
        "member": (pos, f"member_id={world['member'].pk}"),
        "silver tier": (pos, f"member_id={world['silver'].pk}"),
        "gold tier": (pos, f"member_id={world['gold'].pk}"),
        "staff": (staff, ""),
        "other brand": (foreign, ""),
    }


EXPECTED = {
    "anonymous": {"general"},
    "member": {"general", "club"},
    "silver tier": {"general", "club"},
    "gold tier": {"general", "club", "gold"},
    "staff": {"general", "club", "gold", "team"},
    "other brand": set(),
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_each_reader_sees_exactly_their_spaces_everywhere(
    who: str,
    world: dict[str, Any],
    make_api: Callable[..., ApiClient],
    brand: Brand,
    other_brand: Brand,
) -> None:
    client, query = readers(world, make_api, brand, other_brand)[who]
    expected = EXPECTED[who]
    sep = f"&{query}" if query else ""

    spaces = client.get(f"/community/spaces?{query}")
    assert spaces.status == 200
    ours = {str(space.pk): slug for slug, space in world["spaces"].items()}
    assert {ours[s["id"]] for s in spaces.body if s["id"] in ours} == expected

    for slug, question in world["questions"].items():
        thread = client.get(f"/community/questions/{question.pk}?{query}")
        assert (thread.status == 200) is (slug in expected), (who, slug, thread.status)
        if thread.status == 404:
            assert thread.body["error"]["code"] == "question_not_found"
        listing = client.get(f"/community/questions?space={slug}{sep}")
        if who == "other brand":
            # Its own "general" exists and is empty; ours are not there.
            assert listing.status in (200, 404)
            assert all(item["id"] != str(question.pk) for item in listing.body.get("items", []))
        else:
            assert (listing.status == 200) is (slug in expected), (who, slug)

    found = client.get(f"/community/search?q=מבצע{sep}")
    assert found.status == 200
    assert {hit["question"]["space"] for hit in found.body} == expected
    suggestions = client.get(f"/community/suggestions?title=מבצע{sep}")
    assert {s["title"].split()[-1] for s in suggestions.body} == expected


def test_members_cannot_post_where_they_cannot_read(world: dict[str, Any], api: ApiClient) -> None:
    before = Post.objects.count()
    silver = str(world["silver"].pk)
    asked = api.post(
        "/community/questions", {"member_id": silver, "space": "gold", "title": "שאלה סודית", "body": "x"}
    )
    assert asked.status == 404 and asked.body["error"]["code"] == "space_not_found"
    gold_question = world["questions"]["gold"].pk
    answered = api.post(f"/community/questions/{gold_question}/answers", {"member_id": silver, "body": "y"})
    assert answered.status == 404
    voted = api.post(f"/community/posts/{gold_question}/votes", {"member_id": silver, "value": 1})
    assert voted.status == 404
    assert Post.objects.count() == before


def test_another_brand_key_gets_404_for_everything_of_this_brand(
    world: dict[str, Any], make_api: Callable[..., ApiClient], other_brand: Brand
) -> None:
    foreign = make_api(other_brand, "all")
    question = world["questions"]["general"]
    answer = Post.objects.get(question=question, kind="answer")
    member = str(world["member"].pk)
    stranger = str(world["stranger"].pk)
    calls = [
        foreign.get(f"/community/questions/{question.pk}"),
        foreign.get("/community/spaces/club"),
        foreign.get(f"/community/members/{member}"),
        foreign.post(f"/community/questions/{question.pk}/answers", {"member_id": stranger, "body": "z"}),
        foreign.post(f"/community/posts/{question.pk}/votes", {"member_id": stranger, "value": 1}),
        foreign.post(f"/community/posts/{question.pk}/votes", {"member_id": member, "value": 1}),
        foreign.post(f"/community/answers/{answer.pk}/accept", {}),
        foreign.post(f"/community/posts/{question.pk}/flags", {"member_id": stranger, "reason": "spam"}),
        foreign.post(f"/community/posts/{question.pk}/moderation", {"action": "hide"}),
        foreign.patch(f"/community/posts/{question.pk}", {"as_brand": True, "body": "hacked"}),
        foreign.post(f"/community/questions/{question.pk}/state", {"action": "lock"}),
    ]
    assert [call.status for call in calls] == [404] * len(calls)
    question.refresh_from_db()
    assert question.status == "published" and question.score == 0 and not question.locked
    assert question.body == "גוף general"
    assert foreign.get("/community/search?q=מבצע").body == []


def test_held_posts_are_seen_by_their_author_and_staff_only(
    world: dict[str, Any],
    make_api: Callable[..., ApiClient],
    brand: Brand,
    make_member: Callable[..., Member],
) -> None:
    CommunitySettings.objects.filter(brand=brand).update(banned_words=["קזינו"])
    author = make_member("Spammer")
    held = question_ask(
        space=world["spaces"]["general"], author=Author(member=author), title="בקזינו שלנו", body="בוא"
    )
    assert held.status == "held" and held.hold_reasons == ["banned_words"]
    pos, staff = make_api(brand, "pos"), make_api(brand, "manage")
    assert pos.get(f"/community/questions/{held.pk}").status == 404
    assert pos.get(f"/community/questions/{held.pk}?member_id={world['member'].pk}").status == 404
    assert pos.get(f"/community/questions/{held.pk}?member_id={author.pk}").status == 200
    assert staff.get(f"/community/questions/{held.pk}").status == 200
    assert pos.get("/community/search?q=קזינו").body == []


def test_tier_spaces_follow_the_members_loyalty_tier(
    brand: Brand, general: Space, make_member: Callable[..., Member], make_api: Callable[..., ApiClient]
) -> None:
    from decimal import Decimal

    from kesher.loyalty.models import PointsAccount
    from kesher.loyalty.services import tier_create

    gold = tier_create(brand=brand, name="זהב", threshold=Decimal(1000))
    space = space_create(brand=brand, slug="vip", name="VIP", visibility="tiers", tiers=["זהב"])
    question = question_ask(space=space, author=Author(by_brand=True), title="הטבה לחברי זהב", body="...")
    golden, plain = make_member("G"), make_member("P")
    PointsAccount.objects.filter(member=golden).update(tier=gold)
    pos = make_api(brand, "pos")
    assert pos.get(f"/community/questions/{question.pk}?member_id={golden.pk}").status == 200
    assert pos.get(f"/community/questions/{question.pk}?member_id={plain.pk}").status == 404
