"""What staff read for the codes a member's record holds: activity types and consent sources."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTIVITY_TYPES: dict[str, Promise] = {
    "purchase": _("Purchase"),
    "return": _("Return"),
    "visit": _("Store visit"),
    "signup": _("Joined the club"),
    "social_share": _("Shared on a social network"),
    "referral": _("Referred a friend who bought"),
    "birthday": _("Birthday"),
    "points_expiring": _("Points about to expire"),
    "question_asked": _("Asked in the community"),
    "answer_posted": _("Answered in the community"),
    "answer_accepted": _("Answer accepted"),
    "message_delivered": _("Message delivered"),
    "message_bounced": _("Message bounced"),
    "message_opened": _("Message opened"),
    "message_clicked": _("Link in a message clicked"),
    "message_unsubscribed": _("Unsubscribed from a message"),
    "message_forwarded": _("Message forwarded"),
    "message_complained": _("Message marked as spam"),
    "message_converted": _("Bought after a message"),
}

CONSENT_SOURCES: dict[str, Promise] = {
    "api": _("Through the API"),
    "portal": _("In the member's portal"),
    "join": _("On the join page"),
    "import": _("Imported"),
    "unsubscribe_link": _("Unsubscribe link"),
    "sms_reply": _("By SMS reply"),
    "complaint": _("Spam complaint at the mail provider"),
    "web": _("On the website"),
    "check_in": _("At a store check-in"),
    "demo": _("Demo data"),
    "staff": _("By staff"),
}


def activity_label(code: str) -> str:
    """A type another part registered without a label here reads as words, never as its code."""
    label = ACTIVITY_TYPES.get(code)
    return str(label) if label is not None else code.replace("_", " ").capitalize()


def consent_source_label(code: str) -> str:
    label = CONSENT_SOURCES.get(code)
    return str(label) if label is not None else code.replace("_", " ")
