"""Ready-made journeys a brand switches on. Texts are written in English here and translated to Hebrew in
locale/he; a journey is installed with the brand's language as its main text and the other beside it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from kesher.campaigns.models import JourneyTrigger

LOCALES = ("he", "en")


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


def _send(channel: str, text: Text, *, advertising: bool) -> Callable[[str], dict[str, Any]]:
    def build(main: str) -> dict[str, Any]:
        by_locale = {}
        for locale in LOCALES:
            with translation.override(locale):
                by_locale[locale] = {
                    "subject": gettext(text.subject) if channel == "email" else "",
                    "body": gettext(text.body),
                }
        other = {locale: content for locale, content in by_locale.items() if locale != main}
        return {
            "type": "send",
            "channel": channel,
            "locale": main,
            "subject": by_locale[main]["subject"],
            "body": by_locale[main]["body"],
            "translations": other,
            "advertising": advertising,
        }

    return build


def _fixed(step: dict[str, Any]) -> Callable[[str], dict[str, Any]]:
    return lambda _main: step


@dataclass(frozen=True)
class Recipe:
    name: str
    trigger: str
    parts: tuple[Callable[[str], dict[str, Any]], ...]
    trigger_activity: str = ""
    inactivity_days: int | None = None

    def steps(self, main_locale: str) -> list[dict[str, Any]]:
        return [part(main_locale) for part in self.parts]


WELCOME = Text(
    gettext_noop("Welcome to {{ brand }}, {{ first_name }}"),
    gettext_noop(
        "Hello {{ first_name }},\n\nWelcome to the {{ brand }} club! Your card number is {{ card_number }}. "
        "Every purchase earns you points, and points become gifts."
    ),
)
TIPS = Text(
    gettext_noop("Three ways to get more from {{ brand }}"),
    gettext_noop(
        "Hello {{ first_name }},\n\n1. Show your card number at every purchase.\n2. Tell us your interests "
        "to get offers that fit you.\n3. Ask and answer in the community to earn points.\n\n"
        "You have {{ points }} points."
    ),
)
BIRTHDAY = Text(
    gettext_noop("Happy birthday, {{ first_name }}!"),
    gettext_noop(
        "Happy birthday, {{ first_name }}!\n\nWe added 50 points to your account as a gift from {{ brand }}. "
        "You now have {{ points }} points."
    ),
)
VISIT_THANKS = Text(
    "",
    gettext_noop("Thank you for visiting us today, {{ first_name }}! We hope to see you again soon."),
)
VISIT_OFFER = Text(
    "",
    gettext_noop(
        "{{ first_name }}, a small thank-you for yesterday's visit: "
        "a 10 percent discount on your next purchase at {{ brand }} this week."
    ),
)
WIN_BACK = Text(
    gettext_noop("We miss you, {{ first_name }}"),
    gettext_noop(
        "Hello {{ first_name }},\n\nIt has been a while since we saw you at {{ brand }}. Come back this "
        "month and get double points on your purchase. You have {{ points }} points waiting."
    ),
)
POINTS_EXPIRY = Text(
    gettext_noop("{{ first_name }}, your points are about to expire"),
    gettext_noop(
        "Hello {{ first_name }},\n\n{{ points_expiring }} of your {{ points }} points at {{ brand }} expire "
        "soon. Use them before they are gone."
    ),
)
SURVEY = Text(
    gettext_noop("How was your purchase, {{ first_name }}?"),
    gettext_noop(
        "Hello {{ first_name }},\n\nThank you for buying at {{ brand }}. "
        "How satisfied were you, from 1 to 5? "
        "Just reply to this email with a number and a word about it; we read every answer."
    ),
)

LIBRARY: dict[str, Recipe] = {
    "welcome": Recipe(
        name=gettext_noop("Welcome series"),
        trigger=JourneyTrigger.ACTIVITY,
        trigger_activity="signup",
        parts=(
            _send("email", WELCOME, advertising=False),
            _fixed({"type": "wait", "days": 2}),
            _send("email", TIPS, advertising=True),
        ),
    ),
    "birthday": Recipe(
        name=gettext_noop("Birthday greeting with a gift"),
        trigger=JourneyTrigger.BIRTHDAY,
        parts=(
            _fixed({"type": "points", "points": 50, "reason": "Birthday gift"}),
            _send("email", BIRTHDAY, advertising=True),
        ),
    ),
    "post_visit": Recipe(
        name=gettext_noop("Thank you for visiting"),
        trigger=JourneyTrigger.ACTIVITY,
        trigger_activity="visit",
        parts=(
            _send("sms", VISIT_THANKS, advertising=False),
            _fixed({"type": "wait", "days": 1}),
            _send("sms", VISIT_OFFER, advertising=True),
        ),
    ),
    "win_back": Recipe(
        name=gettext_noop("Win back after 90 days"),
        trigger=JourneyTrigger.INACTIVITY,
        inactivity_days=90,
        parts=(_send("email", WIN_BACK, advertising=True),),
    ),
    "points_expiry": Recipe(
        name=gettext_noop("Points expiry reminder"),
        trigger=JourneyTrigger.ACTIVITY,
        trigger_activity="points_expiring",
        parts=(_send("email", POINTS_EXPIRY, advertising=False),),
    ),
    "satisfaction_survey": Recipe(
        name=gettext_noop("Satisfaction survey after a purchase"),
        trigger=JourneyTrigger.ACTIVITY,
        trigger_activity="purchase",
        parts=(_fixed({"type": "wait", "days": 1}), _send("email", SURVEY, advertising=False)),
    ),
}
