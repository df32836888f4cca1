"""Every write for journeys (automations): creating, pausing and installing them, members entering once per
occurrence, and advancing each run step by step, each step in one transaction while the run is claimed."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext
from hdate.hebrew_date import HebrewDate

from kesher.activity.models import Activity
from kesher.activity.registry import ANY, consumer, registry
from kesher.brands.models import Brand
from kesher.campaigns import rendering, selectors, services
from kesher.campaigns.journey_library import LIBRARY
from kesher.campaigns.journey_steps import (
    ConditionStep,
    NotifyStep,
    PointsStep,
    SendStep,
    Step,
    TagStep,
    WaitStep,
    steps_parse,
)
from kesher.campaigns.models import (
    UNSENT_STATUSES,
    Campaign,
    CampaignChannel,
    CampaignStatus,
    ConsentBasis,
    EventKind,
    Journey,
    JourneyRun,
    JourneyStatus,
    JourneyTrigger,
    Message,
    MessageEvent,
    MessageStatus,
    RunStatus,
    consent_channel,
)
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, KesherError, NotFound, ValidationFailed
from kesher.loyalty.models import PointsAccount, Reward
from kesher.loyalty.selectors import points_summary
from kesher.loyalty.services import surprise_grant
from kesher.members.models import ConsentEvent, Member, MemberStatus
from kesher.members.selectors import members_born_on
from kesher.members.services import member_update

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=10)  # a run claimed longer ago than this was left by a dead worker
ADVANCE_LIMIT = 1000
DATE_TRIGGERS = (
    JourneyTrigger.BIRTHDAY,
    JourneyTrigger.HEBREW_BIRTHDAY,
    JourneyTrigger.JOIN_ANNIVERSARY,
    JourneyTrigger.INACTIVITY,
)
REACHABLE = (MemberStatus.ACTIVE, MemberStatus.PROSPECT)


# --- journeys ----------------------------------------------------------------------------------------


@transaction.atomic
def journey_create(
    *,
    brand: Brand,
    name: str,
    trigger: str,
    steps: list[dict[str, Any]],
    trigger_activity: str = "",
    inactivity_days: int | None = None,
    kind: str = "",
    status: str = JourneyStatus.ACTIVE,
    actor: Actor = SYSTEM,
) -> Journey:
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed("name is required", field="name")
    if trigger not in JourneyTrigger.values:
        raise ValidationFailed(f"trigger must be one of {', '.join(JourneyTrigger.values)}", field="trigger")
    if trigger == JourneyTrigger.ACTIVITY:
        if trigger_activity not in registry.types:
            raise ValidationFailed(f"Unknown activity type {trigger_activity!r}", field="trigger_activity")
    else:
        trigger_activity = ""
    if trigger == JourneyTrigger.INACTIVITY:
        if not inactivity_days or inactivity_days < 1:
            raise ValidationFailed("inactivity_days must be at least 1", field="inactivity_days")
    else:
        inactivity_days = None
    if status not in JourneyStatus.values:
        raise ValidationFailed("status must be active or paused", field="status")
    parsed = steps_parse(steps)
    _check_coupon_rewards(brand, parsed)
    if Journey.objects.filter(brand=brand, name=name).exists():
        raise Conflict(f"A journey named {name!r} already exists", field="name", code="duplicate_journey")
    journey = Journey.objects.create(
        brand=brand,
        name=name,
        kind=kind,
        trigger=trigger,
        trigger_activity=trigger_activity,
        inactivity_days=inactivity_days,
        status=status,
        steps=[step.model_dump(mode="json", exclude_defaults=False) for step in parsed],
    )
    audit_record(
        brand=brand,
        actor=actor,
        action="journey.create",
        target_type="journey",
        target_id=journey.pk,
        data={"name": name, "trigger": trigger, "trigger_activity": trigger_activity, "kind": kind},
    )
    _triggers_changed(brand.pk)
    return journey


def _check_coupon_rewards(brand: Brand, steps: list[Step]) -> None:
    """A send step's coupon reward must be one of the brand's own rewards (another brand's is not found)."""
    for index, step in enumerate(steps):
        if not isinstance(step, SendStep) or step.coupon_reward is None:
            continue
        if not Reward.objects.filter(pk=step.coupon_reward, brand=brand).exists():
            raise NotFound("No such reward", field=f"steps.{index}.coupon_reward", code="reward_not_found")


@transaction.atomic
def journey_status_set(*, journey: Journey, status: str, actor: Actor = SYSTEM) -> Journey:
    """Pause (runs stay where they are and wait) or resume (they go on from there)."""
    if status not in JourneyStatus.values:
        raise ValidationFailed("status must be active or paused", field="status")
    changed = Journey.objects.filter(pk=journey.pk).exclude(status=status).update(status=status)
    journey.refresh_from_db()
    if changed:
        _triggers_changed(journey.brand_id)
        audit_record(
            brand=journey.brand,
            actor=actor,
            action="journey.pause" if status == JourneyStatus.PAUSED else "journey.resume",
            target_type="journey",
            target_id=journey.pk,
            data={"name": journey.name},
        )
    return journey


def _new_index(origin_to_new: dict[int, int], old: int, old_count: int, new_count: int) -> int:
    """Where a run waiting before old step `old` goes on: that step where it went, or else the next one
    after it that is kept (past the end: the run finishes at its next advance)."""
    for k in range(old, old_count):
        if k in origin_to_new:
            return origin_to_new[k]
    return new_count


@transaction.atomic
def journey_steps_update(
    *, journey: Journey, steps: list[dict[str, Any]], origins: list[int | None], actor: Actor = SYSTEM
) -> Journey:
    """Replace the steps (added, removed, reordered, changed). `origins[i]` is the old index of new step
    i (None: a new step). Runs waiting in the journey go on from the same step where it moved (or the next
    kept one); a send step's campaign, and so its funnel, moves with its step, and the campaign of a
    removed step leaves the journey with its messages. Refused while a run is mid-step."""
    locked = Journey.objects.select_for_update().get(pk=journey.pk)
    parsed = steps_parse(steps)
    _check_coupon_rewards(journey.brand, parsed)
    if len(origins) != len(parsed):
        raise ValidationFailed("origins must name one old index (or none) per step", field="origins")
    old_count = len(locked.steps)
    kept = [origin for origin in origins if origin is not None]
    if len(set(kept)) != len(kept) or any(not 0 <= origin < old_count for origin in kept):
        raise ValidationFailed("origins must be distinct old step numbers", field="origins")
    if JourneyRun.objects.filter(journey=locked, status=RunStatus.RUNNING).exists():
        raise Conflict("A run is taking a step now; try again in a moment", code="journey_running")
    origin_to_new = {origin: index for index, origin in enumerate(origins) if origin is not None}
    new_steps = [step.model_dump(mode="json", exclude_defaults=False) for step in parsed]
    # Step campaigns: out of the way first (the unique step number), then to their new place.
    campaigns = list(Campaign.objects.filter(journey=locked, journey_step__isnull=False))
    for campaign in campaigns:
        new = origin_to_new.get(campaign.journey_step)  # type: ignore[arg-type]
        if new is None or new_steps[new]["type"] != "send":
            Campaign.objects.filter(pk=campaign.pk).update(journey=None, journey_step=None)
        else:
            Campaign.objects.filter(pk=campaign.pk).update(journey_step=1000 + new)
    for campaign in Campaign.objects.filter(journey=locked, journey_step__gte=1000):
        step = new_steps[campaign.journey_step - 1000]  # type: ignore[operator]
        Campaign.objects.filter(pk=campaign.pk).update(
            journey_step=campaign.journey_step - 1000,  # type: ignore[operator]
            channel=step["channel"],
            locale=step["locale"],
            subject=step["subject"],
            body=step["body"],
            translations=step["translations"],
            advertising=step["advertising"],
            coupon_reward_id=step["coupon_reward"],
        )
    waiting = JourneyRun.objects.filter(journey=locked, status=RunStatus.WAITING)
    for old in sorted(set(waiting.values_list("step", flat=True))):
        new = _new_index(origin_to_new, old, old_count, len(new_steps))
        if new != old:
            waiting.filter(step=old).update(step=1000 + new)
    for value in sorted(set(waiting.filter(step__gte=1000).values_list("step", flat=True))):
        waiting.filter(step=value).update(step=value - 1000)
    Journey.objects.filter(pk=locked.pk).update(steps=new_steps)
    journey.refresh_from_db()
    audit_record(
        brand=journey.brand,
        actor=actor,
        action="journey.update",
        target_type="journey",
        target_id=journey.pk,
        data={"name": journey.name, "steps": [step["type"] for step in new_steps], "origins": origins},
    )
    return journey


def journey_install(*, brand: Brand, kind: str, actor: Actor = SYSTEM) -> Journey:
    """Switch on a ready-made journey, its texts in the brand's language with the other one beside."""
    recipe = LIBRARY.get(kind)
    if recipe is None:
        raise ValidationFailed(f"kind must be one of {', '.join(sorted(LIBRARY))}", field="kind")
    if Journey.objects.filter(brand=brand, kind=kind).exists():
        raise Conflict("This ready-made journey is already installed", field="kind", code="journey_installed")
    with translation.override(brand.default_locale):
        name = gettext(recipe.name)
    return journey_create(
        brand=brand,
        name=name,
        kind=kind,
        trigger=recipe.trigger,
        trigger_activity=recipe.trigger_activity,
        inactivity_days=recipe.inactivity_days,
        steps=recipe.steps(brand.default_locale),
        actor=actor,
    )


# --- entering ----------------------------------------------------------------------------------------


def journey_enter(
    *, journey: Journey, member: Member, occurrence: str, now: datetime | None = None
) -> JourneyRun | None:
    """Start the member on the journey for this occurrence; None when they entered it before."""
    try:
        with transaction.atomic():
            return JourneyRun.objects.create(
                brand_id=journey.brand_id,
                journey=journey,
                member=member,
                occurrence=occurrence[:64],
                next_at=now or timezone.now(),
            )
    except IntegrityError:
        return None


@consumer(ANY, name="campaigns.journeys")
def journeys_on_activity(activity: Activity) -> None:
    """Deferred consumer: an activity starts the brand's active journeys triggered by its type, once per
    activity, and takes each new run through its first steps right away."""
    if activity.type not in _trigger_types(activity.brand_id):
        return
    journeys = list(
        Journey.objects.filter(
            brand_id=activity.brand_id,
            status=JourneyStatus.ACTIVE,
            trigger=JourneyTrigger.ACTIVITY,
            trigger_activity=activity.type,
        )
    )
    if not journeys:
        return
    member = Member.objects.get(pk=activity.member_id)
    for journey in journeys:
        run = journey_enter(journey=journey, member=member, occurrence=str(activity.pk))
        if run is not None:
            journey_run_advance(run_id=run.pk)


TRIGGERS_TTL = 60  # seconds a process may go on using the list of activity types that start journeys


def _triggers_key(brand_id: Any) -> str:
    return f"campaigns:journey-triggers:{brand_id}"


def _trigger_types(brand_id: Any) -> set[str]:
    """The activity types that start one of the brand's active journeys: every activity asks, so the
    answer is cached (and dropped whenever a journey is created, paused or resumed)."""
    found = cache.get(_triggers_key(brand_id))
    if found is None:
        found = set(
            Journey.objects.filter(
                brand_id=brand_id, status=JourneyStatus.ACTIVE, trigger=JourneyTrigger.ACTIVITY
            ).values_list("trigger_activity", flat=True)
        )
        cache.set(_triggers_key(brand_id), found, TRIGGERS_TTL)
    return set(found)


def _triggers_changed(brand_id: Any) -> None:
    key = _triggers_key(brand_id)
    transaction.on_commit(lambda: cache.delete(key))


def _local_today(brand: Brand, now: datetime) -> date:
    return now.astimezone(ZoneInfo(brand.time_zone)).date()


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _on_this_day(name: str, today: date) -> Q:
    q = Q(**{f"{name}__month": today.month, f"{name}__day": today.day})
    if today.month == 2 and today.day == 28 and not _is_leap(today.year):
        q |= Q(**{f"{name}__month": 2, f"{name}__day": 29})  # a 29 February celebrates on the 28th
    return q


def journeys_start_dates(*, now: datetime | None = None) -> int:
    """Start runs for the date triggers (birthday by either calendar, anniversary of joining, no purchase
    for N days).
    Safe to run any number of times a day: the occurrence key (the year; for inactivity, the day of the
    last purchase) lets a member enter once."""
    now = now or timezone.now()
    started = 0
    journeys = Journey.objects.filter(status=JourneyStatus.ACTIVE, trigger__in=DATE_TRIGGERS).select_related(
        "brand"
    )
    for journey in journeys:
        today = _local_today(journey.brand, now)
        members = Member.objects.filter(brand_id=journey.brand_id, status__in=REACHABLE)
        pairs: list[tuple[uuid.UUID, str]]
        if journey.trigger == JourneyTrigger.BIRTHDAY:
            # An index lookup on the birthday key (29 February celebrates on the 28th in common years).
            found = (
                members_born_on(brand_id=journey.brand_id, day=today, calendar="gregorian")
                .filter(status__in=REACHABLE)
                .values_list("pk", flat=True)
            )
            pairs = [(pk, str(today.year)) for pk in found]
        elif journey.trigger == JourneyTrigger.HEBREW_BIRTHDAY:
            # Once a Hebrew year: the occurrence is the Hebrew year (e.g. "hebrew:5787").
            found = (
                members_born_on(brand_id=journey.brand_id, day=today, calendar="hebrew")
                .filter(status__in=REACHABLE)
                .values_list("pk", flat=True)
            )
            hebrew_year = HebrewDate.from_gdate(today).year
            pairs = [(pk, f"hebrew:{hebrew_year}") for pk in found]
        elif journey.trigger == JourneyTrigger.JOIN_ANNIVERSARY:
            found = (
                members.filter(_on_this_day("joined_at", today))
                .filter(joined_at__lt=now - timedelta(days=300))
                .values_list("pk", flat=True)
            )
            pairs = [(pk, str(today.year)) for pk in found]
        else:
            last_purchase = (
                Activity.objects.filter(member=OuterRef("pk"), type="purchase")
                .order_by("-occurred_at")
                .values("occurred_at")[:1]
            )
            since = now - timedelta(days=journey.inactivity_days or 90)
            rows = (
                members.annotate(
                    last=Coalesce(Subquery(last_purchase), "joined_at", output_field=DateTimeField())
                )
                .filter(last__lt=since)
                .values_list("pk", "last")
            )
            pairs = [(pk, f"since:{last.date().isoformat()}") for pk, last in rows]
        before = JourneyRun.objects.filter(journey=journey).count()
        JourneyRun.objects.bulk_create(
            [
                JourneyRun(
                    brand_id=journey.brand_id, journey=journey, member_id=pk, occurrence=key, next_at=now
                )
                for pk, key in pairs
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        started += JourneyRun.objects.filter(journey=journey).count() - before
    return started


# --- advancing ---------------------------------------------------------------------------------------


def journeys_tick(*, now: datetime) -> int:
    """What beat runs every minute: start the date-triggered runs (once an hour, whichever process comes
    first) and advance the due runs; how many runs were advanced."""
    if cache.add(f"campaigns:journeys:dates:{now:%Y%m%d%H}", 1, timeout=7200):
        journeys_start_dates(now=now)
    return journeys_advance(now=now)


def _due(now: datetime) -> Q:
    return Q(status=RunStatus.WAITING, next_at__lte=now) | Q(
        status=RunStatus.RUNNING, claimed_at__lt=now - CLAIM_TIMEOUT
    )


def journeys_advance(*, now: datetime | None = None, limit: int = ADVANCE_LIMIT) -> int:
    """Take every due run of an active journey as far as it goes (to its next wait or its end)."""
    now = now or timezone.now()
    due = list(
        JourneyRun.objects.filter(_due(now), journey__status=JourneyStatus.ACTIVE)
        .order_by("next_at")
        .values_list("pk", flat=True)[:limit]
    )
    advanced = 0
    for run_id in due:
        try:
            advanced += journey_run_advance(run_id=run_id, now=now)
        except Exception:  # one broken run must not hold up the others; it is retried after CLAIM_TIMEOUT
            log.exception("journey run failed", extra={"run_id": str(run_id)})
    return advanced


def journey_run_advance(*, run_id: uuid.UUID, now: datetime | None = None) -> bool:
    """Claim the run with one atomic update (a second worker, or a second call, then finds nothing to do),
    and carry out its steps up to the next wait. Each step and the move past it commit together."""
    now = now or timezone.now()
    claimed = (
        JourneyRun.objects.filter(_due(now), pk=run_id, journey__status=JourneyStatus.ACTIVE).update(
            status=RunStatus.RUNNING, claimed_at=now
        )
        == 1
    )
    if not claimed:
        return False
    run = JourneyRun.objects.select_related("journey", "journey__brand").get(pk=run_id)
    try:
        steps = steps_parse(run.journey.steps)
    except KesherError as exc:  # steps saved by an older version that no longer validate
        _end(run, RunStatus.EXITED, {"step": run.step, "outcome": "invalid_steps", "error": exc.message}, now)
        return True
    while True:
        index = run.step
        if index >= len(steps):
            _end(run, RunStatus.DONE, None, now)
            return True
        step = steps[index]
        if isinstance(step, WaitStep):
            JourneyRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
                step=index + 1,
                status=RunStatus.WAITING,
                claimed_at=None,
                next_at=now + timedelta(days=step.days, hours=step.hours),
            )
            return True
        with transaction.atomic():
            locked = JourneyRun.objects.select_for_update().filter(
                pk=run.pk, status=RunStatus.RUNNING, step=index
            )
            current = locked.select_related("member", "journey", "journey__brand").first()
            if current is None:  # taken over by another worker
                return False
            try:
                with transaction.atomic():
                    outcome = _perform(current, index, step, now)
            except KesherError as exc:  # refused by another part (e.g. an erased member): say so, go on
                outcome = f"refused:{exc.code}"
            entry = {"step": index, "type": step.type, "outcome": outcome}
            if outcome in {"condition_not_met", "member_inactive"} and not isinstance(step, NotifyStep):
                _end(current, RunStatus.EXITED, entry, now)
                return True
            JourneyRun.objects.filter(pk=run.pk).update(step=index + 1, log=[*current.log, entry])
        run.step = index + 1


def _end(run: JourneyRun, status: str, entry: dict[str, Any] | None, now: datetime) -> None:
    log_entries = [*JourneyRun.objects.get(pk=run.pk).log, *([entry] if entry else [])]
    JourneyRun.objects.filter(pk=run.pk).update(
        status=status, finished_at=now, claimed_at=None, log=log_entries
    )


def _perform(run: JourneyRun, index: int, step: Step, now: datetime) -> str:
    member = run.member
    if isinstance(step, NotifyStep):
        return _notify(run, step)
    if member.status not in REACHABLE:
        return "member_inactive"
    if isinstance(step, ConditionStep):
        if step.consent is not None:
            met = bool(getattr(member, f"consent_{step.consent}"))
        else:
            met = (
                selectors.rules_members(brand=run.journey.brand, rules=step.rules or {}, now=now)
                .filter(pk=member.pk)
                .exists()
            )
        return "met" if met else "condition_not_met"
    if isinstance(step, SendStep):
        return _send(run, index, step, now)
    if isinstance(step, PointsStep):
        granted = surprise_grant(
            brand=run.journey.brand,
            members=[member],
            points=step.points,
            reason=step.reason,
            budget=step.points,
            actor=SYSTEM,
        )
        return "granted" if granted else "not_granted"
    if isinstance(step, TagStep):
        tag = " ".join(step.tag.split()).lower()
        if tag in (member.interests or []):
            return "already_tagged"
        member_update(member=member, changes={"interests": [*(member.interests or []), tag]})
        return "tagged"
    raise AssertionError(f"unknown step {step!r}")


def _context(run: JourneyRun, locale: str, coupon: rendering.CouponValue | None = None) -> dict[str, Any]:
    member = run.member
    ms = selectors.messaging_settings(brand=run.journey.brand)
    try:
        summary = points_summary(member=member)
        points, expiring = summary.balance, summary.expiring_soon
    except PointsAccount.DoesNotExist:
        points, expiring = 0, 0
    return rendering.member_context(
        first_name=member.first_name,
        last_name=member.last_name,
        locale=locale,
        brand=ms.sender_name or run.journey.brand.name,
        interests=member.interests or [],
        points=points,
        points_expiring=expiring,
        card_number=member.card_number,
        coupon=coupon,
    )


def _step_campaign(journey: Journey, index: int, step: SendStep) -> Campaign:
    """The send step's own campaign (created on first use), which holds its messages and funnel."""
    found = (
        Campaign.objects.select_related("brand", "coupon_reward")
        .filter(journey=journey, journey_step=index)
        .first()
    )
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Campaign.objects.create(
                brand_id=journey.brand_id,
                journey=journey,
                journey_step=index,
                name=f"{journey.name} · {index + 1}"[:200],
                channel=step.channel,
                locale=step.locale,
                subject=step.subject,
                body=step.body,
                translations={locale: content.model_dump() for locale, content in step.translations.items()},
                advertising=step.advertising,
                coupon_reward_id=step.coupon_reward,
                # Never a draft: sending it as a campaign to everyone is not possible.
                status=CampaignStatus.SENT,
                created_by="journey",
                queued_at=timezone.now(),
            )
    except IntegrityError:
        return Campaign.objects.get(journey=journey, journey_step=index)


def _send(run: JourneyRun, index: int, step: SendStep, now: datetime) -> str:
    """Queue the member's message with the same rules as a campaign's: an address, consent (and its
    proof) for an advertisement, the weekly cap, the legal mark, quiet hours; delivery sends it once."""
    member = run.member
    brand = run.journey.brand
    ms = selectors.messaging_settings(brand=brand)
    if step.channel == CampaignChannel.PORTAL:
        to = "portal" if member.user_id else ""
    else:
        to = (member.email if step.channel == "email" else member.phone) or ""
    if not to:
        return "no_address"
    if step.channel == "email" and selectors.email_suppressed(brand_id=brand.pk, email=to):
        return "undeliverable"
    consent_event_id = None
    if step.advertising:
        channel = consent_channel(step.channel)
        if not getattr(member, f"consent_{channel}"):
            return "no_consent"
        consent_event_id = (
            ConsentEvent.objects.filter(member=member, channel=channel, granted=True)
            .order_by("-occurred_at", "-id")
            .values_list("id", flat=True)
            .first()
        )
        if consent_event_id is None:
            return "no_consent_proof"
        cap = ms.weekly_advertising_cap
        if cap is not None:
            recent = (
                Message.objects.filter(
                    member=member, advertising=True, created_at__gte=now - timedelta(days=7)
                )
                .exclude(status__in=UNSENT_STATUSES)
                .count()
            )
            if recent >= cap:
                return "frequency_cap"
    if step.coupon_reward is not None and not Reward.objects.filter(pk=step.coupon_reward).exists():
        return "no_coupon"  # the reward left the catalog after the journey was made
    campaign = _step_campaign(run.journey, index, step)
    coupon = None
    if campaign.coupon_reward_id is not None:
        # Issued in this step's transaction, once per (step, run) however often the step is retried; out
        # of stock, the member gets no message rather than one with an empty code, and the run goes on.
        coupon = services.message_coupon_issue(campaign=campaign, member_id=member.pk, journey_run_id=run.pk)
        if coupon is None:
            return "no_coupon"
    contents = services.contents_compile(campaign)
    locale, content = contents.for_locale(member.locale)
    refused = ""
    try:
        rendered = rendering.content_render(content, _context(run, locale, coupon))
    except rendering.RenderRefused as exc:  # past the render's bounds for this member: failed, not sent
        refused, rendered = exc.message[:500], rendering.Rendered(subject="", body="")
    not_before = services.send_time_choose(campaign=campaign, ms=ms, now=now)
    message = Message.objects.create(
        brand=brand,
        campaign=campaign,
        member=member,
        channel=step.channel,
        to=to,
        locale=locale,
        subject=rendering.subject_frame(rendered.subject, advertising=step.advertising)[:400],
        body=rendered.body,
        advertising=step.advertising,
        consent_basis=ConsentBasis.CONSENT if step.advertising else ConsentBasis.SERVICE,
        consent_event_id=consent_event_id,
        not_before=not_before,
        journey_run=run,
        journey_step=index,
        status=MessageStatus.FAILED if refused else MessageStatus.QUEUED,
        error=refused,
    )
    MessageEvent.objects.create(
        brand=brand, campaign=campaign, message=message, kind=EventKind.QUEUED, occurred_at=timezone.now()
    )
    if refused:
        return "render_refused"
    transaction.on_commit(lambda: services.messages_dispatch(message_ids=[message.pk], not_before=not_before))
    return "queued"


def _notify(run: JourneyRun, step: NotifyStep) -> str:
    member = run.member
    context = _context(run, run.journey.brand.default_locale)
    try:
        rendered = rendering.content_render(rendering.content_compile(step.subject, step.body, []), context)
    except rendering.RenderRefused:
        return "render_refused"
    subject = rendered.subject
    who = f"{member.first_name} {member.last_name} · {member.card_number} · {member.pk}"
    body = f"{rendered.body}\n\n{who}".strip()
    address = step.email
    transaction.on_commit(lambda: _mail(address, subject, body))
    return "notified"


def _mail(to: str, subject: str, body: str) -> None:
    try:
        send_mail(subject, body, None, [to])
    except Exception:  # a staff note that cannot leave is logged, never retried into a loop
        log.exception("journey staff notification failed", extra={"to": to})
