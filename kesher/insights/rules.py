"""The rules of the engagement tracks and the funnel, as tables keyed by activity type name (issue 17).

A rule names activity types by name, so a type another part declares later (reviews, ideas, surveys)
counts as soon as it is registered; a rule for a type that no activity carries is simply never met.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class TrackRule:
    """A track's score: each activity of a listed type adds its weight, the sum is capped at 100."""

    track: str
    label: object
    weights: dict[str, int]
    explanation: object


TRACKS: tuple[TrackRule, ...] = (
    TrackRule(
        "access",
        _("Access"),
        {"visit": 10, "signup": 10, "points_expiring": 0},
        _("Portal and content use: 10 points a visit and for signing up."),
    ),
    TrackRule(
        "engage",
        _("Engage"),
        {"social_share": 20, "photo_posted": 20, "review_helpful": 10, "message_clicked": 5},
        _("Reactions, shares, content created: 20 a share or photo, 10 a helpful vote got, 5 a click."),
    ),
    TrackRule(
        "customize",
        _("Customize"),
        {"birthday": 20, "purchase": 5},
        _("Profile and preferences, personal products: 20 for a birthday given, 5 a purchase."),
    ),
    TrackRule(
        "connect",
        _("Connect"),
        {"question_asked": 15, "answer_posted": 15, "answer_accepted": 25, "referral": 25},
        _("Community participation: 15 a question or answer, 25 an accepted answer or a referral."),
    ),
    TrackRule(
        "collaborate",
        _("Collaborate"),
        {
            "idea_submitted": 25,
            "idea_supported": 5,
            "beta_joined": 20,
            "beta_task_completed": 15,
            "review_published": 20,
            "survey_answered": 10,
        },
        _("Ideas, beta programs, reviews: 25 an idea, 20 a beta joined or a review, 15 a beta task."),
    ),
)

TRACK_NAMES = tuple(rule.track for rule in TRACKS)

# Advocacy: what counts towards the ranked list of advocates, and the funnel's advocacy stage.
ADVOCACY_WEIGHTS: dict[str, int] = {
    "referral": 5,  # recorded when the referred friend made their first purchase: a referral that bought
    "answer_accepted": 3,
    "review_helpful": 2,
    "social_share": 1,
}

# Consideration: engaged before buying (anything but a purchase, a return and the system's own types).
NOT_ENGAGEMENT = frozenset({"purchase", "return", "signup", "birthday", "points_expiring"})

# Not a sign of an active member: what the system records about them rather than what they do.
PASSIVE_TYPES = frozenset(
    {
        "signup",
        "birthday",
        "points_expiring",
        "message_delivered",
        "message_bounced",
        "message_unsubscribed",
        "message_complained",
        "message_converted",
    }
)

FUNNEL_STAGES: tuple[tuple[str, object], ...] = (
    ("awareness", _("Awareness")),
    ("consideration", _("Consideration")),
    ("purchase", _("Purchase")),
    ("loyalty", _("Loyalty")),
    ("advocacy", _("Advocacy")),
)
LOYALTY_WINDOW_DAYS = 365  # loyalty: two purchases or more within the last year
ADVOCACY_WINDOW_DAYS = 365  # advocacy: an advocacy activity within the last year


def track_scores(*, counts: dict[str, int]) -> dict[str, int]:
    """Each track's score 0-100 from the member's count of activities a type."""
    return {
        rule.track: min(100, sum(weight * counts.get(name, 0) for name, weight in rule.weights.items()))
        for rule in TRACKS
    }


def funnel_stage(
    *, purchases_in_window: int, purchases_ever: int, advocacy_in_window: int, engaged: int
) -> str:
    """The member's stage now. Stages are states, not steps: a lapsed buyer drops from loyalty to
    purchase, an advocate who stops advocating falls back, so members move in and out of each."""
    if advocacy_in_window > 0 and purchases_ever > 0:
        return "advocacy"
    if purchases_in_window >= 2:
        return "loyalty"
    if purchases_ever > 0:
        return "purchase"
    if engaged > 0:
        return "consideration"
    return "awareness"


# RFM: quintile scores 1-5 and the usual named segments (after the widely used R x FM grid).
RFM_SEGMENTS: tuple[tuple[str, object], ...] = (
    ("champions", _("Champions")),
    ("loyal", _("Loyal")),
    ("potential_loyalist", _("Potential loyalist")),
    ("new", _("New customers")),
    ("at_risk", _("At risk")),
    ("cant_lose", _("Can't lose them")),
    ("hibernating", _("Hibernating")),
    ("lost", _("Lost")),
    ("prospect", _("Prospect")),
)


def rfm_segment(*, recency: int, frequency: int, monetary: int) -> str:
    """The named segment of quintile scores (0 for each means no purchase yet: a prospect)."""
    if frequency == 0:
        return "prospect"
    fm = (frequency + monetary) / 2
    if recency >= 4 and fm >= 4:
        return "champions"
    if recency >= 3 and fm >= 3:
        return "loyal"
    if recency >= 4 and fm < 2:
        return "new"
    if recency >= 3:
        return "potential_loyalist"
    if recency <= 2 and fm >= 4:
        return "cant_lose" if recency == 1 else "at_risk"
    if recency == 2:
        return "hibernating" if fm < 3 else "at_risk"
    return "lost"
