"""Reads for campaigns: who a segment holds, who a campaign may reach, and what happened to its messages."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from kesher.activity.models import Activity
from kesher.brands.models import Brand
from kesher.campaigns.lists import member_list_query
from kesher.campaigns.models import (
    UNSENT_STATUSES,
    Campaign,
    CampaignChannel,
    CampaignVariant,
    EmailSuppression,
    EventKind,
    Journey,
    JourneyRun,
    Message,
    MessageEvent,
    MessageStatus,
    MessagingSettings,
    RunStatus,
    Segment,
    consent_channel,
)
from kesher.campaigns.rules import (
    ActivityRule,
    ConsentRule,
    FieldRule,
    GroupRule,
    InterestsRule,
    JoinedRule,
    ListRule,
    LocaleRule,
    NoPurchaseRule,
    PointsRule,
    PurchasedRule,
    Rules,
    rules_parse,
)
from kesher.core.errors import NotFound, ValidationFailed
from kesher.loyalty.models import PointsLot, Reward
from kesher.members.models import ConsentEvent, Member, MemberStatus

REACHABLE_STATUSES = (MemberStatus.ACTIVE, MemberStatus.PROSPECT)
EXPIRING_WINDOW = timedelta(days=30)


def messaging_settings(*, brand: Brand) -> MessagingSettings:
    """The brand's messaging settings; unsaved defaults when it never changed them."""
    found = MessagingSettings.objects.filter(brand=brand).first()
    return found if found is not None else MessagingSettings(brand=brand)


# --- segments ----------------------------------------------------------------------------------------


def _json_list_has(name: str, tag: str) -> Q:
    if connection.features.supports_json_field_contains:
        return Q(**{f"{name}__contains": [tag]})
    # SQLite keeps JSON as text with Python's separators; a quoted tag matches one whole element.
    return Q(**{f"{name}__icontains": f'"{tag}"'})


def _field_q(rule: FieldRule) -> Q:
    name: str = str(rule.field)
    if rule.op == "empty":
        return Q(**{f"{name}__isnull": True}) | Q(**{name: ""})
    if rule.op == "not_empty":
        return ~(Q(**{f"{name}__isnull": True}) | Q(**{name: ""}))
    if rule.op == "in":
        values = rule.value if isinstance(rule.value, list) else [rule.value or ""]
        return Q(**{f"{name}__in": values})
    value = rule.value if isinstance(rule.value, str) else ""
    if rule.op == "contains":
        return Q(**{f"{name}__icontains": value})
    if rule.op == "ne":
        return ~Q(**{name: value})
    return Q(**{name: value})


def _activities(types: list[str], since: datetime) -> QuerySet[Activity]:
    return Activity.objects.filter(member=OuterRef("pk"), type__in=types, occurred_at__gte=since)


def _condition_q(rule: Any, now: datetime) -> Q:
    if isinstance(rule, FieldRule):
        return _field_q(rule)
    if isinstance(rule, LocaleRule):
        return Q(locale=rule.locale)
    if isinstance(rule, InterestsRule):
        result = Q()
        if rule.any:
            any_of = Q()
            for tag in rule.any:
                any_of |= _json_list_has("interests", tag)
            result &= any_of
        for tag in rule.all:
            result &= _json_list_has("interests", tag)
        return result
    if isinstance(rule, ConsentRule):
        return Q(**{f"consent_{rule.channel}": rule.granted})
    if isinstance(rule, PurchasedRule):
        bought = _activities(["purchase"], now - timedelta(days=rule.within_days))
        if rule.sku:
            bought = bought.filter(_item_q("sku", rule.sku))
        if rule.category:
            bought = bought.filter(_item_q("category", rule.category))
        return Q(Exists(bought))
    if isinstance(rule, NoPurchaseRule):
        return ~Q(Exists(_activities(["purchase"], now - timedelta(days=rule.for_days))))
    if isinstance(rule, PointsRule):
        result = Q()
        if rule.above is not None:
            result &= Q(points__balance__gt=rule.above)
        if rule.below is not None:
            result &= Q(points__balance__lt=rule.below)
        return result
    if isinstance(rule, ActivityRule):
        recent = _activities(rule.types, now - timedelta(days=rule.within_days))
        if rule.min_count == 1:
            return Q(Exists(recent))
        counted = recent.order_by().values("member").annotate(n=Count("pk")).values("n")
        return Q(Exists(counted.filter(n__gte=rule.min_count)))
    if isinstance(rule, JoinedRule):
        result = Q()
        if rule.within_days is not None:
            result &= Q(joined_at__gte=now - timedelta(days=rule.within_days))
        if rule.before_days is not None:
            result &= Q(joined_at__lt=now - timedelta(days=rule.before_days))
        return result
    if isinstance(rule, ListRule):
        listed = member_list_query(rule.source, rule.name)
        return Q(pk__in=listed) if listed is not None else Q(pk__in=[])
    if isinstance(rule, GroupRule):
        grouped = _group_q(rule.match, rule.conditions, now)
        return ~grouped if rule.negate else grouped
    raise TypeError(f"no query for {type(rule).__name__}")  # the schema admits nothing else


def _item_q(key: str, value: str) -> Q:
    if connection.features.supports_json_field_contains:
        return Q(attributes__items__contains=[{key: value}])
    return Q(attributes__icontains=f'"{key}": "{value}"')


def _group_q(match: str, conditions: list[Any], now: datetime) -> Q:
    result = Q()
    for condition in conditions:
        q = _condition_q(condition, now)
        result = (result & q) if match == "all" else (result | q)
    return result


def rules_members(
    *, brand: Brand, rules: Rules | dict[str, Any], now: datetime | None = None
) -> QuerySet[Member]:
    """Members of the brand the rules select (every status but erased; campaigns narrow further)."""
    parsed = rules if isinstance(rules, Rules) else rules_parse(rules)
    members = Member.objects.filter(brand=brand).exclude(status=MemberStatus.ERASED)
    if parsed.conditions:
        members = members.filter(_group_q(parsed.match, parsed.conditions, now or timezone.now()))
    return members


@dataclass(frozen=True)
class AudienceCount:
    members: int
    reachable: dict[str, int]  # by channel: an address, an active membership and consent


def rules_count(*, brand: Brand, rules: Rules | dict[str, Any]) -> AudienceCount:
    members = rules_members(brand=brand, rules=rules)
    counts = members.aggregate(
        members=Count("pk"),
        email=Count(
            "pk",
            filter=Q(status__in=REACHABLE_STATUSES, consent_email=True, email__isnull=False),
        ),
        sms=Count("pk", filter=Q(status__in=REACHABLE_STATUSES, consent_sms=True, phone__isnull=False)),
    )
    return AudienceCount(
        members=counts["members"], reachable={"email": counts["email"], "sms": counts["sms"]}
    )


def segment_get(*, brand: Brand, segment_id: str | uuid.UUID) -> Segment:
    try:
        return Segment.objects.get(brand=brand, pk=uuid.UUID(str(segment_id)))
    except (ValueError, Segment.DoesNotExist):
        raise NotFound(f"No segment with id {segment_id}", code="segment_not_found") from None


def segment_list(*, brand: Brand) -> list[Segment]:
    return list(Segment.objects.filter(brand=brand).order_by("name"))


# --- campaigns ---------------------------------------------------------------------------------------


def campaign_get(*, brand: Brand, campaign_id: str | uuid.UUID) -> Campaign:
    try:
        return Campaign.objects.select_related("segment").get(brand=brand, pk=uuid.UUID(str(campaign_id)))
    except (ValueError, Campaign.DoesNotExist):
        raise NotFound(f"No campaign with id {campaign_id}", code="campaign_not_found") from None


def campaign_list(*, brand: Brand, limit: int = 100) -> list[Campaign]:
    # A journey's send steps keep their own campaigns; they are shown with their journey.
    return list(
        Campaign.objects.filter(brand=brand, journey__isnull=True)
        .prefetch_related("variants")
        .order_by("-created_at")[:limit]
    )


def address_field(channel: str) -> str:
    """The member's field a message on this channel goes to (a portal notice: their portal login)."""
    if channel == CampaignChannel.EMAIL:
        return "email"
    if channel == CampaignChannel.SMS:
        return "phone"
    return "user_id"


def _has_address_q(channel: str) -> Q:
    """Members a message on this channel can reach: an address (not one mail bounced from for good), or
    for a portal notice a portal login."""
    if channel == CampaignChannel.PORTAL:
        return Q(user__isnull=False)
    name = address_field(channel)
    found = Q(**{f"{name}__isnull": False}) & ~Q(**{name: ""})
    if channel == CampaignChannel.EMAIL:
        suppressed = EmailSuppression.objects.filter(brand_id=OuterRef("brand_id"), email=OuterRef("email"))
        found &= ~Q(Exists(suppressed))
    return found


def email_suppressed(*, brand_id: Any, email: str) -> bool:
    return EmailSuppression.objects.filter(brand_id=brand_id, email=email).exists()


@dataclass(frozen=True)
class SuppressionPage:
    suppressions: list[EmailSuppression]
    next_cursor: str | None


def _suppression_cursor(email: str) -> str:
    return base64.urlsafe_b64encode(email.encode()).decode().rstrip("=")


def _suppression_after(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        email = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (ValueError, TypeError):  # binascii.Error and UnicodeDecodeError are ValueErrors
        email = ""
    if "@" not in email or _suppression_cursor(email) != cursor:
        raise ValidationFailed("cursor is not one this server gave out", field="cursor")
    return email


def suppression_list(*, brand: Brand, cursor: str | None = None, limit: int = 50) -> SuppressionPage:
    """The brand's suppressed addresses in address order; the cursor is the last address of a page, so
    pages stay stable while bounces add rows."""
    found = EmailSuppression.objects.filter(brand=brand).order_by("email")
    if cursor:
        found = found.filter(email__gt=_suppression_after(cursor))
    rows = list(found[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return SuppressionPage(
        suppressions=rows, next_cursor=_suppression_cursor(rows[-1].email) if has_more and rows else None
    )


def campaign_segment_members(*, campaign: Campaign) -> QuerySet[Member]:
    rules = campaign.segment.rules if campaign.segment is not None else {}
    return rules_members(brand=campaign.brand, rules=rules)


def campaign_audience(*, campaign: Campaign) -> QuerySet[Member]:
    """The members this campaign may reach: in its segment, active, with an address and (for an
    advertisement) consent for its channel. The consent grant relied on is annotated as consent_event_id."""
    members = campaign_segment_members(campaign=campaign).filter(
        _has_address_q(campaign.channel), status__in=REACHABLE_STATUSES
    )
    if campaign.advertising:
        channel = consent_channel(campaign.channel)
        grant = ConsentEvent.objects.filter(member=OuterRef("pk"), channel=channel, granted=True).order_by(
            "-occurred_at", "-id"
        )
        members = members.filter(**{f"consent_{channel}": True}).annotate(
            consent_event_id=Subquery(grant.values("id")[:1])
        )
    return members


@dataclass(frozen=True)
class AudienceBreakdown:
    in_segment: int
    reachable: int
    no_address: int
    no_consent: int
    inactive: int


def campaign_audience_breakdown(*, campaign: Campaign) -> AudienceBreakdown:
    """Who the campaign would reach now, and why the others would be left out: the count before sending."""
    has_address = _has_address_q(campaign.channel)
    active = Q(status__in=REACHABLE_STATUSES)
    consent = Q(**{f"consent_{consent_channel(campaign.channel)}": True}) if campaign.advertising else Q()
    counts = campaign_segment_members(campaign=campaign).aggregate(
        total=Count("pk"),
        inactive=Count("pk", filter=~active),
        no_address=Count("pk", filter=active & ~has_address),
        no_consent=Count("pk", filter=active & has_address & ~consent)
        if campaign.advertising
        else Count("pk", filter=Q(pk__isnull=True)),
        reachable=Count("pk", filter=active & has_address & consent),
    )
    return AudienceBreakdown(
        in_segment=counts["total"],
        reachable=counts["reachable"],
        no_address=counts["no_address"],
        no_consent=counts["no_consent"],
        inactive=counts["inactive"],
    )


def _key_range(name: str, after: uuid.UUID | None, upto: uuid.UUID) -> Q:
    return Q(**{f"{name}__lte": upto}) & (Q(**{f"{name}__gt": after}) if after is not None else Q())


def points_expiring_by_member(
    *, brand: Brand, after: uuid.UUID | None, upto: uuid.UUID, now: datetime
) -> dict[uuid.UUID, int]:
    """Points expiring within 30 days for members whose keys are in (after, upto]."""
    rows = (
        PointsLot.objects.filter(
            _key_range("account__member_id", after, upto),
            brand=brand,
            state=PointsLot.State.AVAILABLE,
            expires_at__isnull=False,
            expires_at__lte=now + EXPIRING_WINDOW,
        )
        .values("account__member_id")
        .annotate(total=Sum("remaining"))
    )
    return {row["account__member_id"]: row["total"] or 0 for row in rows}


def advertisements_this_week(
    *, brand: Brand, after: uuid.UUID | None, upto: uuid.UUID, exclude_campaign: Campaign
) -> dict[uuid.UUID, int]:
    """Advertisements each member with a key in (after, upto] got, or has waiting, in the last 7 days."""
    since = timezone.now() - timedelta(days=7)
    rows = (
        Message.objects.filter(
            _key_range("member_id", after, upto), brand=brand, advertising=True, created_at__gte=since
        )
        .exclude(campaign=exclude_campaign)
        .exclude(status__in=UNSENT_STATUSES)
        .values("member_id")
        .annotate(n=Count("pk"))
    )
    return {row["member_id"]: row["n"] for row in rows}


# --- measurement -------------------------------------------------------------------------------------

FUNNEL = [kind for kind in EventKind.values]


@dataclass
class CampaignStats:
    status: str
    messages: int
    funnel: dict[str, int]
    statuses: dict[str, int]
    excluded: dict[str, int]
    rates: dict[str, float] = field(default_factory=dict)

    @property
    def progress(self) -> float:
        """The share of messages that left (sent, delivered, bounced, failed or withheld)."""
        waiting = self.statuses.get(MessageStatus.QUEUED, 0) + self.statuses.get(MessageStatus.SENDING, 0)
        return 1.0 if self.messages == 0 else round((self.messages - waiting) / self.messages, 4)


def campaign_stats(*, campaign: Campaign) -> CampaignStats:
    """The funnel: for each event kind, how many messages reached it (a message opened twice counts once)."""
    by_kind = dict(
        MessageEvent.objects.filter(campaign=campaign)
        .values("kind")
        .annotate(n=Count("message_id", distinct=True))
        .values_list("kind", "n")
    )
    statuses = dict(
        Message.objects.filter(campaign=campaign)
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    funnel = {kind: by_kind.get(kind, 0) for kind in FUNNEL}
    messages = sum(statuses.values())
    sent = funnel[EventKind.SENT]
    rates: dict[str, float] = {}
    if sent:
        for kind in (
            EventKind.DELIVERED,
            EventKind.OPENED,
            EventKind.CLICKED,
            EventKind.FORWARDED,
            EventKind.UNSUBSCRIBED,
            EventKind.CONVERTED,
        ):
            rates[str(kind)] = round(funnel[kind] / sent, 4)
    return CampaignStats(
        status=campaign.status,
        messages=messages,
        funnel=funnel,
        statuses={status: statuses.get(status, 0) for status in MessageStatus.values},
        excluded=dict(campaign.exclusions or {}),
        rates=rates,
    )


def campaign_timeline(*, campaign: Campaign, buckets: int = 24) -> list[dict[str, Any]]:
    """Opens and clicks per hour since the campaign was queued, for the campaign page's chart."""
    start = campaign.queued_at or campaign.created_at
    rows = MessageEvent.objects.filter(
        campaign=campaign, kind__in=[EventKind.SENT, EventKind.OPENED, EventKind.CLICKED]
    ).values_list("kind", "occurred_at")
    table = [{"hour": hour, "sent": 0, "opened": 0, "clicked": 0} for hour in range(buckets)]
    for kind, at in rows.iterator():
        hour = int((at - start).total_seconds() // 3600)
        if 0 <= hour < buckets:
            table[hour][kind] += 1
    return table


def message_for_token(message_id: uuid.UUID) -> Message | None:
    return Message.objects.select_related("member", "campaign", "brand").filter(pk=message_id).first()


def segment_has_member(segment_id: Any, member: Member) -> bool:
    """Whether the member is in the brand's saved segment now (an unknown segment holds nobody)."""
    segment = Segment.objects.filter(brand_id=member.brand_id, pk=segment_id).first()
    if segment is None:
        return False
    return rules_members(brand=member.brand, rules=segment.rules).filter(pk=member.pk).exists()


def segment_audience(brand: Brand, segment_id: Any) -> QuerySet[Member]:
    """The members in the brand's saved segment now (loyalty's surprises to a segment); 404 if unknown."""
    return rules_members(brand=brand, rules=segment_get(brand=brand, segment_id=segment_id).rules)


# --- journeys ----------------------------------------------------------------------------------------


def journey_list(*, brand: Brand) -> list[Journey]:
    return list(Journey.objects.filter(brand=brand).order_by("name"))


def journey_get(*, brand: Brand, journey_id: str | uuid.UUID) -> Journey:
    found = Journey.objects.filter(brand=brand, pk=journey_id).first()
    if found is None:
        raise NotFound("No such journey", code="journey_not_found")
    return found


def journey_run_counts(*, journeys: list[Journey]) -> dict[uuid.UUID, dict[str, int]]:
    """Runs per journey by status, in one query: {journey_id: {"waiting": 3, "done": 10, ...}}."""
    counts: dict[uuid.UUID, dict[str, int]] = {
        journey.pk: {status: 0 for status in RunStatus.values} for journey in journeys
    }
    rows = (
        JourneyRun.objects.filter(journey__in=[journey.pk for journey in journeys])
        .values("journey_id", "status")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        counts[row["journey_id"]][row["status"]] = row["n"]
    return counts


# --- A/B variants ------------------------------------------------------------------------------------


def campaign_variant_stats(*, campaign: Campaign) -> list[dict[str, Any]]:
    """Each variant's test group: messages, sent, opened and clicked (messages reaching each), their rates
    over the sent, and which variant won."""
    variants = list(CampaignVariant.objects.filter(campaign=campaign).order_by("position"))
    if not variants:
        return []
    messages = dict(
        Message.objects.filter(campaign=campaign, variant__isnull=False)
        .values("variant_id")
        .annotate(n=Count("pk"))
        .values_list("variant_id", "n")
    )
    events: dict[tuple[Any, str], int] = {}
    rows = (
        MessageEvent.objects.filter(
            campaign=campaign,
            message__variant__isnull=False,
            kind__in=[EventKind.SENT, EventKind.OPENED, EventKind.CLICKED],
        )
        .values("message__variant_id", "kind")
        .annotate(n=Count("message_id", distinct=True))
    )
    for row in rows:
        events[(row["message__variant_id"], row["kind"])] = row["n"]
    out = []
    for variant in variants:
        sent = events.get((variant.pk, EventKind.SENT), 0)
        opened = events.get((variant.pk, EventKind.OPENED), 0)
        clicked = events.get((variant.pk, EventKind.CLICKED), 0)
        out.append(
            {
                "id": variant.pk,
                "name": variant.name,
                "subject": variant.subject,
                "messages": messages.get(variant.pk, 0),
                "sent": sent,
                "opened": opened,
                "clicked": clicked,
                "open_rate": round(opened / sent, 4) if sent else 0.0,
                "click_rate": round(clicked / sent, 4) if sent else 0.0,
                "winner": campaign.ab_winner_id == variant.pk,
            }
        )
    return out


# --- portal notices ----------------------------------------------------------------------------------


def notice_shown_q() -> Q:
    """The portal notices that may be shown now: a service notice always, an advertising one only while
    the member consents to advertising (by email: docs/campaigns.md). Consent withdrawn after the notice
    was sent hides it from then on; granted again, it shows again."""
    consent = f"member__consent_{consent_channel(CampaignChannel.PORTAL)}"
    return Q(advertising=False) | Q(**{consent: True})


def _notices(user_id: Any) -> QuerySet[Message]:
    return (
        Message.objects.filter(
            member__user_id=user_id,
            channel=CampaignChannel.PORTAL,
            status__in=[MessageStatus.SENT, MessageStatus.DELIVERED],
        )
        .filter(notice_shown_q())
        .exclude(member__status=MemberStatus.ERASED)
    )


def portal_notices(*, user_id: Any, limit: int = 50) -> list[Message]:
    """The notices shown to a signed-in member (in every club they belong to), newest first; each carries
    `read` (an opened event)."""
    opened = MessageEvent.objects.filter(message=OuterRef("pk"), kind=EventKind.OPENED)
    return list(
        _notices(user_id)
        .select_related("brand")
        .annotate(read=Exists(opened))
        .order_by("-sent_at", "-created_at")[:limit]
    )


def portal_unread_count(*, user_id: Any) -> int:
    opened = MessageEvent.objects.filter(message=OuterRef("pk"), kind=EventKind.OPENED)
    return _notices(user_id).exclude(Exists(opened)).count()


def journey_coupon_rewards(*, journey: Journey) -> dict[str, Reward]:
    """The rewards the journey's send steps give a coupon of, by id (as the steps keep it), in one query."""
    ids = {str(step["coupon_reward"]) for step in journey.steps if step.get("coupon_reward")}
    if not ids:
        return {}
    return {str(reward.pk): reward for reward in Reward.objects.filter(brand_id=journey.brand_id, pk__in=ids)}


# --- results -----------------------------------------------------------------------------------------

RESULT_KINDS = (
    EventKind.SENT,
    EventKind.DELIVERED,
    EventKind.OPENED,
    EventKind.CLICKED,
    EventKind.CONVERTED,
    EventKind.UNSUBSCRIBED,
)


def _amount(data: Any) -> Decimal:
    try:
        return Decimal(str((data or {}).get("amount") or "0"))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def campaign_results(*, campaign: Campaign) -> dict[str, Any]:
    """What the campaign achieved, in all and per A/B variant: messages reaching each of RESULT_KINDS
    (counted once a message), and the revenue of the purchases its conversions credit to it."""
    rows = (
        MessageEvent.objects.filter(campaign=campaign, kind__in=RESULT_KINDS)
        .values("message__variant_id", "kind")
        .annotate(n=Count("message_id", distinct=True))
    )
    totals = {str(kind): 0 for kind in RESULT_KINDS}
    by_variant: dict[Any, dict[str, int]] = {}
    for row in rows:
        totals[row["kind"]] += row["n"]
        if row["message__variant_id"] is not None:
            by_variant.setdefault(row["message__variant_id"], {})[row["kind"]] = row["n"]
    revenue = Decimal(0)
    revenue_by_variant: dict[Any, Decimal] = {}
    conversions = MessageEvent.objects.filter(campaign=campaign, kind=EventKind.CONVERTED).values_list(
        "message__variant_id", "data"
    )
    for variant_id, data in conversions.iterator():
        revenue += _amount(data)
        if variant_id is not None:
            revenue_by_variant[variant_id] = revenue_by_variant.get(variant_id, Decimal(0)) + _amount(data)
    variants = [
        {
            "name": variant.name,
            "winner": campaign.ab_winner_id == variant.pk,
            "counts": {str(kind): by_variant.get(variant.pk, {}).get(kind, 0) for kind in RESULT_KINDS},
            "revenue": revenue_by_variant.get(variant.pk, Decimal(0)),
        }
        for variant in CampaignVariant.objects.filter(campaign=campaign).order_by("position")
    ]
    return {"counts": totals, "revenue": revenue, "variants": variants}
