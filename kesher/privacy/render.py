"""A member's data as a page a person can read: every section as labelled lists and tables (an edge-free
helper: it only shapes the JSON the services gathered into safe HTML)."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

SECTIONS: dict[str, Promise] = {
    "profile": _("Your details"),
    "consents": _("Your consents, with their proof"),
    "activities": _("What you did"),
    "loyalty": _("Points, coupons and referrals"),
    "campaigns": _("Messages we sent you"),
    "community": _("Your posts, votes and follows in the community"),
}
LABELS: dict[str, Promise] = {
    "id": _("Id"),
    "external_id": _("External id"),
    "email": _("Email"),
    "phone": _("Phone"),
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "birthday": _("Birthday"),
    "locale": _("Language"),
    "interests": _("Interests"),
    "status": _("Status"),
    "joined_at": _("Joined"),
    "source": _("Source"),
    "card_number": _("Card number"),
    "referral_code": _("Referral code"),
    "consents": _("Consent now"),
    "channel": _("Channel"),
    "granted": _("Agreed"),
    "wording": _("Wording shown"),
    "origin": _("From where"),
    "occurred_at": _("When"),
    "type": _("Type"),
    "attributes": _("Details"),
    "points_awarded": _("Points"),
    "balance": _("Balance"),
    "pending": _("Pending"),
    "lifetime_earned": _("Earned in all"),
    "lifetime_redeemed": _("Redeemed in all"),
    "tier": _("Tier"),
    "lots": _("Points lots"),
    "ledger": _("Ledger"),
    "coupons": _("Coupons"),
    "redemptions": _("Redemptions"),
    "referrals_made": _("Friends you referred"),
    "referred_by_a_friend": _("Referred by a friend"),
    "messages": _("Messages"),
    "journey_runs": _("Journeys"),
    "posts": _("Posts"),
    "votes": _("Votes"),
    "follows": _("Follows"),
}


def _label(key: str) -> str:
    return str(LABELS.get(key, key.replace("_", " ")))


def value_html(value: Any) -> SafeString:
    if value is None or value == "" or value == [] or value == {}:
        return mark_safe("—")
    if isinstance(value, bool):
        return format_html("{}", _("yes") if value else _("no"))
    if isinstance(value, dict):
        rows = format_html_join(
            "", '<dt>{}</dt><dd dir="auto">{}</dd>', ((_label(k), value_html(v)) for k, v in value.items())
        )
        return format_html('<dl class="facts">{}</dl>', rows)
    if isinstance(value, list):
        if all(isinstance(item, dict) for item in value):
            keys = list(dict.fromkeys(key for item in value for key in item))
            head = format_html_join("", '<th scope="col">{}</th>', ((_label(k),) for k in keys))
            body = format_html_join(
                "",
                "<tr>{}</tr>",
                (
                    (
                        format_html_join(
                            "", '<td dir="auto">{}</td>', ((value_html(item.get(k)),) for k in keys)
                        ),
                    )
                    for item in value
                ),
            )
            return format_html(
                '<div class="table-scroll"><table class="table"><thead><tr>{}</tr></thead>'
                "<tbody>{}</tbody></table></div>",
                head,
                body,
            )
        return format_html("{}", ", ".join(str(item) for item in value))
    return format_html("<bdi>{}</bdi>", value)


def sections_html(sections: dict[str, Any]) -> list[tuple[str, str, SafeString]]:
    """(key, title, body) for each section, in the order a person reads them."""
    order = [key for key in SECTIONS if key in sections] + sorted(set(sections) - set(SECTIONS))
    return [(key, str(SECTIONS.get(key, key)), value_html(sections[key])) for key in order]
