"""The member's own page: the blocks of the portal's home for one club card, each read in a query or two.

Points and the next tier, the coupons and the catalog come from the portal's view itself; here are the
blocks made for this member: points expiring (how many, when), rewards they can afford soon and products
(the recommendations part's stored lists), articles for their interests (the magazine, unread ones),
unanswered questions they could answer (for members with a helpful reputation) and the community threads
they follow. A block with nothing to show is left out, or says what would fill it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from kesher.community.access import Reader, visible_posts_q
from kesher.community.models import CommunityProfile, CommunitySettings, Follow, Post
from kesher.community.services.defaults import DEFAULT_PRIVILEGES
from kesher.loyalty.models import PointsLot, Reward
from kesher.magazine.models import Article
from kesher.magazine.selectors import article_reader_score, articles_for_reader, interest_weights
from kesher.members.models import Member
from kesher.recs.selectors import recommendations_for

# Points expiring within this many days are listed by date.
EXPIRING_DAYS = 60
# Reputation that marks a helpful member, by default: the brand's "post without review" privilege.
HELPFUL_PRIVILEGE = "post_without_review"
SHOWN = 3  # articles, questions, rewards and products: a glance, not a list


@dataclass(frozen=True)
class Expiring:
    on: datetime
    points: int


@dataclass(frozen=True)
class RewardSoon:
    reward: Reward
    missing: int
    reason: str


@dataclass(frozen=True)
class Product:
    sku: str
    title: str
    reason: str


@dataclass(frozen=True)
class Thread:
    question: Post
    url: str


@dataclass
class HomeBlocks:
    expiring: list[Expiring] = field(default_factory=list)
    rewards: list[RewardSoon] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    has_interests: bool = False
    helpful: bool = False
    questions: list[Thread] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)


def points_expiring(*, member: Member, now: datetime) -> list[Expiring]:
    """Spendable points with an expiry in the coming days, summed per day, soonest first."""
    rows = (
        PointsLot.objects.filter(
            account_id=member.pk,
            state=PointsLot.State.AVAILABLE,
            remaining__gt=0,
            expires_at__isnull=False,
            expires_at__lte=now + timedelta(days=EXPIRING_DAYS),
        )
        .annotate(day=TruncDate("expires_at"))
        .values("day")
        .annotate(points=Sum("remaining"))
        .order_by("day")[:5]
    )
    found = []
    for row in rows:
        day = row["day"]
        at = datetime(day.year, day.month, day.day, tzinfo=timezone.get_current_timezone())
        found.append(Expiring(on=at, points=int(row["points"])))
    return found


def rewards_soon(*, member: Member, balance: int, catalog: list[Reward]) -> list[RewardSoon]:
    """The recommended rewards (what they can afford now and soon), with the points still missing; short
    of three, the catalog's rewards nearest their balance fill in."""
    by_id = {str(reward.pk): reward for reward in catalog}
    chosen: list[RewardSoon] = []
    for item in recommendations_for(member=member, kind="rewards", limit=SHOWN):
        reward = by_id.get(item.id)
        if reward is not None:
            missing = max(reward.cost_points - balance, 0)
            chosen.append(RewardSoon(reward=reward, missing=missing, reason=item.reason_text))
    taken = {item.reward.pk for item in chosen}
    nearest = sorted(
        (reward for reward in catalog if reward.pk not in taken),
        key=lambda reward: (reward.cost_points <= balance, abs(reward.cost_points - balance)),
    )
    chosen += [
        RewardSoon(reward=reward, missing=max(reward.cost_points - balance, 0), reason="")
        for reward in nearest
    ]
    return chosen[:SHOWN]


def products_for(*, member: Member) -> list[Product]:
    return [
        Product(sku=item.id, title=item.title or item.id, reason=item.reason_text)
        for item in recommendations_for(member=member, kind="products", limit=SHOWN)
    ]


def articles_for_interests(*, member: Member) -> list[Article]:
    """Unread articles about the member's interests (stated, or learned from what they read)."""
    stated = set(member.interests or [])
    learned = interest_weights(member=member)
    if not stated and not learned:
        return []
    now = timezone.now()
    unread = articles_for_reader(brand=member.brand, member=member, learned=learned, only_unread=True)
    return [
        article
        for article in unread
        if any(tag in stated or tag in learned for tag in article.interests or [])
        and article_reader_score(article, stated=stated, learned=learned, now=now) > 1
    ][:SHOWN]


def _question_url(question: Post) -> str:
    return reverse("community:question", args=[question.brand.slug, question.pk, question.slug or "-"])


def is_helpful(*, member: Member) -> bool:
    reputation = CommunityProfile.objects.filter(member=member).values_list("reputation", flat=True).first()
    privileges = CommunitySettings.objects.filter(brand_id=member.brand_id).values_list(
        "privileges", flat=True
    )
    threshold = int((privileges.first() or {}).get(HELPFUL_PRIVILEGE, DEFAULT_PRIVILEGES[HELPFUL_PRIVILEGE]))
    return (reputation or 0) >= threshold


def questions_to_answer(*, member: Member, reader: Reader) -> list[Thread]:
    """Unanswered questions of others the member may see, those tagged with their interests first."""
    interests = set(member.interests or [])
    rows = list(
        Post.objects.filter(
            visible_posts_q(reader),
            kind=Post.Kind.QUESTION,
            status=Post.Status.PUBLISHED,
            answer_count=0,
            closed_at__isnull=True,
        )
        .exclude(author=member)
        .select_related("brand")
        .prefetch_related("tags")
        .order_by("-created_at", "-pk")[:30]
    )
    rows.sort(key=lambda q: not any(tag.name in interests for tag in q.tags.all()))
    return [Thread(question=q, url=_question_url(q)) for q in rows[:SHOWN]]


def threads_followed(*, member: Member, reader: Reader) -> list[Thread]:
    """The questions the member follows, the latest active first."""
    follows = (
        Follow.objects.filter(member=member, kind=Follow.Kind.QUESTION)
        .filter(visible_posts_q(reader, prefix="question__"))
        .select_related("question", "question__brand")
        .order_by("-question__last_activity_at")[:5]
    )
    return [Thread(question=f.question, url=_question_url(f.question)) for f in follows if f.question]


def home_blocks(*, member: Member, balance: int, catalog: list[Reward], reader: Reader) -> HomeBlocks:
    now = timezone.now()
    helpful = is_helpful(member=member)
    return HomeBlocks(
        expiring=points_expiring(member=member, now=now),
        rewards=rewards_soon(member=member, balance=balance, catalog=catalog),
        products=products_for(member=member),
        articles=articles_for_interests(member=member),
        has_interests=bool(member.interests),
        helpful=helpful,
        questions=questions_to_answer(member=member, reader=reader) if helpful else [],
        threads=threads_followed(member=member, reader=reader),
    )
