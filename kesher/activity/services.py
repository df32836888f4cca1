"""Recording activities: validate, write once, run the immediate consumers, queue the rest after commit."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.db import transaction
from django.utils import timezone

from kesher.activity.models import Activity, OutboxEntry
from kesher.activity.registry import consumers_for, registry, validate_attributes
from kesher.brands.models import Brand
from kesher.core.bulk import row_insert_new, rows_in, rows_insert_new, rows_insert_values, rows_update
from kesher.core.errors import Conflict, KesherError, ValidationFailed
from kesher.core.events import event_emit, event_type
from kesher.members.models import Member, MemberStatus

FUTURE_TOLERANCE = timedelta(minutes=10)  # till clocks drift; a purchase dated tomorrow is a mistake
ACTIVITY_RECORDED = event_type("activity.recorded", "An activity was recorded for a member")


def _announce(activity: Activity) -> None:
    """The activity.recorded event (heard after the commit; no query)."""
    event_emit(
        brand_id=activity.brand_id,
        type=ACTIVITY_RECORDED,
        data={
            "activity_id": str(activity.pk),
            "member_id": str(activity.member_id),
            "type": activity.type,
            "source": activity.source,
            "occurred_at": activity.occurred_at.isoformat(),
            "attributes": activity.attributes,
            "points_awarded": activity.points_awarded,
            "balance_after": activity.balance_after,
        },
    )


def _existing(
    brand: Brand, source: str, idempotency_key: str | None, external_id: str | None
) -> Activity | None:
    if idempotency_key is not None:
        found = Activity.objects.filter(brand=brand, source=source, idempotency_key=idempotency_key).first()
        if found is not None:
            return found
    if external_id is not None:
        return Activity.objects.filter(brand=brand, source=source, external_id=external_id).first()
    return None


def _checked(
    brand: Brand,
    member: Member,
    type: str,
    attributes: dict[str, Any],
    occurred_at: datetime | None,
    now: datetime,
) -> tuple[dict[str, Any], datetime]:
    """Validated attributes and the moment it happened, or the refusal."""
    clean = validate_attributes(type, attributes)
    occurred_at = occurred_at or now
    if timezone.is_naive(occurred_at):
        raise ValidationFailed("occurred_at must include a time zone offset", field="occurred_at")
    if occurred_at > now + FUTURE_TOLERANCE:
        raise ValidationFailed("occurred_at is in the future", field="occurred_at")
    if member.brand_id != brand.pk:
        raise ValidationFailed("member belongs to another brand", field="member_id")
    if member.status in (MemberStatus.BLOCKED, MemberStatus.ERASED):
        raise Conflict(f"The member is {member.status}", field="member_id", code="member_inactive")
    return clean, occurred_at


def activity_record(
    *,
    brand: Brand,
    member: Member,
    type: str,
    attributes: dict[str, Any],
    occurred_at: datetime | None = None,
    source: str = "api",
    idempotency_key: str | None = None,
    external_id: str | None = None,
    request_hash: str | None = None,
) -> tuple[Activity, bool]:
    """Record one activity. Returns (activity, created); a replay returns the first one unchanged.

    `request_hash` (a fingerprint of the API request) is kept with the idempotency key: a later request
    under the same key with another fingerprint is refused (422 idempotency_key_reused).
    """
    clean, occurred_at = _checked(brand, member, type, attributes, occurred_at, timezone.now())

    with transaction.atomic():
        activity = Activity(
            brand=brand,
            member=member,
            type=type,
            source=source,
            idempotency_key=idempotency_key,
            external_id=external_id,
            occurred_at=occurred_at,
            attributes=clean,
            request_hash=request_hash if idempotency_key is not None else None,
        )
        # ON CONFLICT DO NOTHING: a duplicate (even a concurrent one, which PostgreSQL waits for) inserts
        # nothing, and the committed first one is the answer.
        if not row_insert_new(activity):
            replay = _existing(brand, source, idempotency_key, external_id)
            if replay is None:
                raise Conflict("The activity could not be recorded; try again", code="activity_conflict")
            if (
                request_hash is not None
                and replay.idempotency_key == idempotency_key
                and replay.request_hash not in (None, request_hash)
            ):
                raise ValidationFailed(
                    "This Idempotency-Key was already used with a different request",
                    field="Idempotency-Key",
                    code="idempotency_key_reused",
                )
            return replay, False
        for _name, handle in consumers_for(type, immediate=True):
            handle(activity)
        rows_update(Activity, [activity], ["points_awarded", "balance_after"])
        _announce(activity)
        deferred = [name for name, _ in consumers_for(type, immediate=False)]
        if deferred:
            _defer([(activity.pk, deferred)])
    return activity, True


def signup_record(*, member: Member, source: str, at: datetime, referrer: Member | None) -> None:
    """A new member joined: record their `signup` (member_create runs this through kesher.members.hooks)."""
    activity_record(
        brand=member.brand,
        member=member,
        type="signup",
        source=source,
        occurred_at=at,
        attributes={"referral_code": referrer.referral_code if referrer else None},
        idempotency_key=None,
    )


def _defer(owed: list[tuple[Any, list[str]]]) -> None:
    """Start the deferred consumers of just-recorded activities once this transaction commits.

    Embedded (no broker, tasks run in-process): they run right after the commit. With a broker: an
    outbox entry per activity is written in this transaction, and after the commit a relay is asked for
    (at most once a second per process), which publishes the outbox in batches.
    """
    from kesher.activity.tasks import consumers_publish, outbox_kick

    if current_app.conf.task_always_eager:
        now_owed = [(str(activity_id), names) for activity_id, names in owed]
        transaction.on_commit(lambda: consumers_publish(now_owed))
        return
    rows_insert_values(OutboxEntry, ("activity_id", "consumers"), owed)
    transaction.on_commit(outbox_kick)


# --- many at once (bulk) ---------------------------------------------------------------------------


@dataclass
class Draft:
    """One activity of a bulk call, its member already found."""

    member: Member
    type: str
    attributes: dict[str, Any]
    occurred_at: datetime | None = None
    source: str = "api"
    idempotency_key: str | None = None
    external_id: str | None = None

    def keys(self) -> list[tuple[str, str, str]]:
        found = []
        if self.idempotency_key is not None:
            found.append((self.source, "key", self.idempotency_key))
        if self.external_id is not None:
            found.append((self.source, "ref", self.external_id))
        return found


@dataclass
class Outcome:
    activity: Activity | None = None
    created: bool = False
    error: KesherError | None = None


def _batchable(type_name: str) -> bool:
    return all(name in registry.batch_by_name for name, _ in consumers_for(type_name, immediate=True))


def _existing_many(brand: Brand, drafts: list[Draft]) -> dict[tuple[str, str, str], Activity]:
    """Activities already recorded under any of the drafts' keys, one query per source and key kind."""
    keys: dict[str, set[str]] = {}
    references: dict[str, set[str]] = {}
    for draft in drafts:
        if draft.idempotency_key is not None:
            keys.setdefault(draft.source, set()).add(draft.idempotency_key)
        if draft.external_id is not None:
            references.setdefault(draft.source, set()).add(draft.external_id)
    found: list[Activity] = []
    for source, values in keys.items():
        found += rows_in(Activity, "idempotency_key", values, brand_id=brand.pk, source=source)
    for source, values in references.items():
        found += rows_in(Activity, "external_id", values, brand_id=brand.pk, source=source)
    by_key: dict[tuple[str, str, str], Activity] = {}
    for activity in found:
        if activity.idempotency_key is not None:
            by_key[(activity.source, "key", activity.idempotency_key)] = activity
        if activity.external_id is not None:
            by_key[(activity.source, "ref", activity.external_id)] = activity
    return by_key


# Activity's columns in the model's order, up to the last one a new activity is given: _new_activity
# passes them by position (cheaper than by name); a test checks the order still holds.
_NEW_ACTIVITY_COLUMNS = (
    "id",
    "brand_id",
    "member_id",
    "type",
    "source",
    "idempotency_key",
    "request_hash",
    "external_id",
    "occurred_at",
    "recorded_at",
    "attributes",
)


_make_activity: Callable[..., Activity] = Activity  # by position, which django-stubs reads wrongly


def _new_activity(brand: Brand, draft: Draft, clean: dict[str, Any], occurred_at: datetime) -> Activity:
    """The activity to insert, as Activity(brand=..., member=..., ...) makes it, its brand and member in
    place: values by position and the relations' cache set directly, a third of the cost."""
    values: tuple[Any, ...] = (
        uuid.uuid4(),
        brand.pk,
        draft.member.pk,
        draft.type,
        draft.source,
        draft.idempotency_key,
        None,  # request_hash: only for a single activity's Idempotency-Key header
        draft.external_id,
        occurred_at,
        None,  # recorded_at: stamped when inserted
        clean,
    )
    activity = _make_activity(*values)
    activity._state.fields_cache["brand"] = brand
    activity._state.fields_cache["member"] = draft.member
    return activity


def activities_record_many(*, brand: Brand, drafts: list[Draft]) -> list[Outcome]:
    """Record many activities in one transaction; each succeeds or fails alone, replays answer the first.

    Types whose immediate consumers all have a batch form are inserted together and handed to those batch
    consumers (a few queries for the lot); the others go one by one through activity_record.
    """
    now = timezone.now()
    outcomes = [Outcome() for _ in drafts]
    valid: list[tuple[int, Draft, dict[str, Any], datetime]] = []
    for index, draft in enumerate(drafts):
        try:
            clean, occurred_at = _checked(
                brand, draft.member, draft.type, draft.attributes, draft.occurred_at, now
            )
        except KesherError as refusal:
            outcomes[index].error = refusal
            continue
        valid.append((index, draft, clean, occurred_at))

    with transaction.atomic():
        existing = _existing_many(brand, [draft for _, draft, _, _ in valid])
        first_in_call: dict[tuple[str, str, str], int] = {}
        repeats: list[tuple[int, int]] = []
        rows: list[tuple[int, Draft, Activity]] = []
        batchable: dict[str, bool] = {}
        for index, draft, clean, occurred_at in valid:
            keys = draft.keys()
            replay = next((existing[key] for key in keys if key in existing), None)
            if replay is not None:
                outcomes[index].activity = replay
                continue
            earlier = next((first_in_call[key] for key in keys if key in first_in_call), None)
            if earlier is not None:
                repeats.append((index, earlier))
                continue
            for key in keys:
                first_in_call[key] = index
            if draft.type not in batchable:
                batchable[draft.type] = _batchable(draft.type)
            if not batchable[draft.type]:
                try:
                    with transaction.atomic():
                        activity, created = activity_record(
                            brand=brand,
                            member=draft.member,
                            type=draft.type,
                            attributes=draft.attributes,
                            occurred_at=occurred_at,
                            source=draft.source,
                            idempotency_key=draft.idempotency_key,
                            external_id=draft.external_id,
                        )
                    outcomes[index].activity, outcomes[index].created = activity, created
                except KesherError as refusal:
                    outcomes[index].error = refusal
                continue
            rows.append((index, draft, _new_activity(brand, draft, clean, occurred_at)))

        try:
            with transaction.atomic():
                _record_batch(brand, rows, outcomes)
        except KesherError:
            # A consumer refused one of them (say, points past a bound): each goes alone, so only it fails.
            for index, draft, activity in rows:
                outcomes[index] = Outcome()
                try:
                    with transaction.atomic():
                        outcomes[index].activity, outcomes[index].created = activity_record(
                            brand=brand,
                            member=draft.member,
                            type=draft.type,
                            attributes=draft.attributes,
                            occurred_at=activity.occurred_at,
                            source=draft.source,
                            idempotency_key=draft.idempotency_key,
                            external_id=draft.external_id,
                        )
                except KesherError as refusal:
                    outcomes[index].error = refusal

    for index, earlier in repeats:
        outcomes[index].activity, outcomes[index].error = outcomes[earlier].activity, outcomes[earlier].error
    return outcomes


def _record_batch(brand: Brand, rows: list[tuple[int, Draft, Activity]], outcomes: list[Outcome]) -> None:
    """Insert the new activities of a bulk call together and hand them to the batch consumers."""
    inserted = rows_insert_new(Activity, [activity for _, _, activity in rows])
    won: list[Activity] = []
    for index, draft, activity in rows:
        if activity.pk in inserted:
            outcomes[index].activity, outcomes[index].created = activity, True
            won.append(activity)
        else:  # a concurrent call committed the same key first
            outcomes[index].activity = _existing(
                brand, draft.source, draft.idempotency_key, draft.external_id
            )
    types = {activity.type for activity in won}
    immediate = {type: [name for name, _ in consumers_for(type, immediate=True)] for type in types}
    deferred = {type: [name for name, _ in consumers_for(type, immediate=False)] for type in types}
    names: list[str] = []
    for activity in won:
        for name in immediate[activity.type]:
            if name not in names:
                names.append(name)
    for name in names:
        handled = [activity for activity in won if name in immediate[activity.type]]
        registry.batch_by_name[name](handled)
    rows_update(Activity, won, ["points_awarded", "balance_after"])
    for activity in won:
        _announce(activity)

    owed = [(activity.pk, list(deferred[activity.type])) for activity in won if deferred[activity.type]]
    if owed:
        _defer(owed)
