"""Plain-language sentences for what members see: a ledger entry reads as something that happened to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext, ngettext

from kesher.loyalty.models import LedgerEntry


@dataclass(frozen=True)
class HistoryLine:
    sentence: str
    detail: str
    points: int  # signed
    at: datetime

    @property
    def amount(self) -> int:
        return abs(self.points)


def _store(entry: LedgerEntry) -> str:
    activity = entry.activity
    if activity is None or not isinstance(activity.attributes, dict):
        return ""
    store = activity.attributes.get("store")
    return store if isinstance(store, str) else ""


def history_line(entry: LedgerEntry) -> HistoryLine:
    """What the entry means, in the reader's language. Rule names made by the program are translated;
    names a brand typed itself come back unchanged from gettext."""
    n = abs(entry.points)
    shown = intcomma(n)  # n picks the plural form; the sentence shows it grouped (1,250)
    description = gettext(entry.description) if entry.description else ""
    detail = description
    if entry.kind == LedgerEntry.Kind.EARN and getattr(entry, "pending", False):
        sentence = ngettext(
            "You earned %(n)s point, on its way", "You earned %(n)s points, on their way", n
        ) % {"n": shown}
        store = _store(entry)
        if store:
            detail = gettext("%(reason)s · at %(store)s") % {"reason": description, "store": store}
    elif entry.kind == LedgerEntry.Kind.EARN:
        sentence = ngettext("You earned %(n)s point", "You earned %(n)s points", n) % {"n": shown}
        store = _store(entry)
        if store:
            detail = gettext("%(reason)s · at %(store)s") % {"reason": description, "store": store}
    elif entry.kind == "release":
        sentence = ngettext(
            "%(n)s point on the way became yours to spend", "%(n)s points on the way became yours to spend", n
        ) % {"n": shown}
    elif entry.kind == "transfer" and entry.points >= 0:
        sentence = ngettext("%(n)s point moved to this card", "%(n)s points moved to this card", n) % {
            "n": shown
        }
    elif entry.kind == "transfer":
        sentence = ngettext("%(n)s point moved to another card", "%(n)s points moved to another card", n) % {
            "n": shown
        }
    elif entry.kind == LedgerEntry.Kind.REDEEM:
        sentence = ngettext("You spent %(n)s point on a reward", "You spent %(n)s points on a reward", n) % {
            "n": shown
        }
    elif entry.kind == LedgerEntry.Kind.EXPIRE:
        sentence = ngettext("%(n)s point expired", "%(n)s points expired", n) % {"n": shown}
        detail = ""
    elif (
        entry.kind == LedgerEntry.Kind.REVERSE
        and entry.activity is not None
        and entry.activity.type == "return"
    ):
        sentence = ngettext(
            "%(n)s point was taken back after a return", "%(n)s points were taken back after a return", n
        ) % {"n": shown}
    elif entry.kind == LedgerEntry.Kind.REVERSE:  # an award that no longer stands; the detail says why
        sentence = ngettext("%(n)s point was taken back", "%(n)s points were taken back", n) % {"n": shown}
    elif entry.points >= 0:
        sentence = ngettext("The club team added %(n)s point", "The club team added %(n)s points", n) % {
            "n": shown
        }
    else:
        sentence = ngettext(
            "The club team took off %(n)s point", "The club team took off %(n)s points", n
        ) % {"n": shown}
    # When it happened to the member: a purchase keeps its till time even if the till sent it late.
    at = entry.activity.occurred_at if entry.activity is not None else entry.created_at
    return HistoryLine(sentence=sentence, detail=detail, points=entry.points, at=at)
