"""Ready-made campaign texts the console offers to start from, in Hebrew and English. Each is an ordinary
campaign template (the tags of template_library.py and the member's fields), edited freely after."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Starter:
    key: str
    label: str | Promise
    advertising: bool
    texts: dict[str, dict[str, str]]  # locale → subject, body


STARTERS = [
    Starter(
        key="welcome",
        label=_("Welcome to the club"),
        advertising=False,
        texts={
            "he": {
                "subject": "ברוכים הבאים למועדון {{ brand }}",
                "body": "שלום {{ first_name }},\n\nשמחים שהצטרפת! מספר הכרטיס שלך: {{ card_number }}.\n"
                "יש לך {{ points }} נקודות.",
            },
            "en": {
                "subject": "Welcome to the {{ brand }} club",
                "body": "Hello {{ first_name }},\n\nWe are glad you joined! Your card number: "
                "{{ card_number }}.\nYou have {{ points }} points.",
            },
        },
    ),
    Starter(
        key="sale",
        label=_("A sale"),
        advertising=True,
        texts={
            "he": {
                "subject": "{{ first_name }}, מבצע לחברי המועדון",
                "body": "שלום {{ first_name }},\n\nהשבוע 20% הנחה לחברי המועדון בלבד.\nנתראה!",
            },
            "en": {
                "subject": "{{ first_name }}, a sale for club members",
                "body": "Hello {{ first_name }},\n\nThis week 20% off, for club members only.\nSee you!",
            },
        },
    ),
    Starter(
        key="points",
        label=_("Points reminder"),
        advertising=True,
        texts={
            "he": {
                "subject": "יש לך {{ points }} נקודות",
                "body": "שלום {{ first_name }},\n\nצברת {{ points }} נקודות. "
                "{% if points_expiring %}{{ points_expiring }} מהן יפוגו בקרוב.{% endif %}",
            },
            "en": {
                "subject": "You have {{ points }} points",
                "body": "Hello {{ first_name }},\n\nYou have {{ points }} points. "
                "{% if points_expiring %}{{ points_expiring }} of them expire soon.{% endif %}",
            },
        },
    ),
]
