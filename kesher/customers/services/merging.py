"""Merging a duplicate member into another across every part, and undoing it."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kesher.brands.models import Brand
from kesher.core.audit import Actor, audit_record
from kesher.core.errors import Conflict, NotFound, ValidationFailed
from kesher.core.events import event_emit, event_type
from kesher.customers.models import DuplicatePair, MemberMerge
from kesher.members.hooks import members_merge_run
from kesher.members.merging import merge_steps_undo
from kesher.members.models import Member, MemberStatus

MEMBERS_MERGED = event_type(
    "members.merged", "A duplicate member was merged into another (or the merge undone)"
)


def _locked_pair(brand: Brand, source_id: Any, target_id: Any) -> tuple[Member, Member]:
    if str(source_id) == str(target_id):
        raise ValidationFailed("a member cannot be merged into itself", field="target_id")
    # Both rows locked in key order: two merges of the same pair queue here instead of deadlocking.
    rows = {
        str(m.pk): m
        for m in Member.objects.select_for_update()
        .filter(brand=brand, pk__in=[source_id, target_id])
        .order_by("pk")
    }
    source, target = rows.get(str(source_id)), rows.get(str(target_id))
    if source is None:
        raise NotFound("No such member", field="source_id", code="member_not_found")
    if target is None:
        raise NotFound("No such member", field="target_id", code="member_not_found")
    return source, target


def _pair_key(a: Any, b: Any) -> tuple[uuid.UUID, uuid.UUID]:
    first, second = sorted([str(a), str(b)])
    return uuid.UUID(first), uuid.UUID(second)


def members_merge(*, brand: Brand, source_id: Any, target_id: Any, actor: Actor) -> MemberMerge:
    """Move everything the duplicate `source` has in every part to `target` (consent: the stricter wins),
    block the duplicate, keep what moved so it can be undone, audit it and emit `members.merged`."""
    try:
        with transaction.atomic():
            source, target = _locked_pair(brand, source_id, target_id)
            if MemberMerge.objects.filter(source=source, undone_at__isnull=True).exists():
                raise Conflict("This member is already merged into another", code="member_merged")
            if MemberMerge.objects.filter(source=target, undone_at__isnull=True).exists():
                raise Conflict(
                    "The target was merged into another member", code="member_merged", field="target_id"
                )
            if source.status == MemberStatus.ERASED or target.status == MemberStatus.ERASED:
                raise Conflict("An erased member cannot be merged", code="member_erased")
            # A merger that returns no list of steps did something an undo cannot play back: the merge is
            # kept, but marked so that `merge_undo` refuses it instead of undoing half of it.
            results = members_merge_run(source=source, target=target)
            raw: list[tuple[str, list[dict[str, Any]]]] = [
                (name, list(steps) if isinstance(steps, list) else []) for name, steps in results
            ]
            moves = [
                {"part": name, "steps": steps, "undoable": isinstance(result, list)}
                for (name, steps), (_, result) in zip(raw, results, strict=True)
            ]
            merge = MemberMerge.objects.create(
                brand=brand, source=source, target=target, moves=moves, actor=actor.label
            )
            a, b = _pair_key(source.pk, target.pk)
            DuplicatePair.objects.filter(brand=brand, member_a_id=a, member_b_id=b).update(
                status=DuplicatePair.Status.MERGED, decided_at=timezone.now()
            )
            moved = sum(len(step.get("ids", [])) for _, steps in raw for step in steps)
            audit_record(
                brand=brand,
                actor=actor,
                action="members.merge",
                target_type="member",
                target_id=target.pk,
                data={"merge_id": str(merge.pk), "source_id": str(source.pk), "rows_moved": moved},
            )
            event_emit(
                brand_id=brand.pk,
                type=MEMBERS_MERGED,
                data={"merge_id": str(merge.pk), "source_id": str(source.pk), "target_id": str(target.pk)},
            )
            return merge
    except IntegrityError:
        # The partial unique index on the merge: a concurrent merge of the same duplicate committed first.
        raise Conflict("This member is already merged into another", code="member_merged") from None


def merge_undo(*, brand: Brand, merge_id: Any, actor: Actor) -> MemberMerge:
    """Put back every row the merge moved and every field it changed, newest part first."""
    with transaction.atomic():
        merge = MemberMerge.objects.select_for_update().filter(brand=brand, pk=merge_id).first()
        if merge is None:
            raise NotFound("No such merge", code="merge_not_found")
        if merge.undone_at is not None:
            raise Conflict("This merge is already undone", code="merge_undone")
        if MemberMerge.objects.filter(source=merge.target, undone_at__isnull=True).exists():
            raise Conflict("Undo the later merge of the target first", code="merge_not_last")
        _locked_pair(brand, merge.source_id, merge.target_id)
        # Merges recorded before parts said whether they could be undone carry no flag: undoable then.
        stuck = [part["part"] for part in merge.moves if not part.get("undoable", True)]
        if stuck:
            raise Conflict(
                "This merge cannot be undone: a part recorded no steps (" + ", ".join(stuck) + ")",
                code="merge_not_undoable",
            )
        for part in reversed(merge.moves):
            merge_steps_undo(part["steps"])
        merge.undone_at = timezone.now()
        merge.save(update_fields=["undone_at"])
        a, b = _pair_key(merge.source_id, merge.target_id)
        DuplicatePair.objects.filter(brand=brand, member_a_id=a, member_b_id=b).update(
            status=DuplicatePair.Status.OPEN, decided_at=None
        )
        audit_record(
            brand=brand,
            actor=actor,
            action="members.merge_undo",
            target_type="member",
            target_id=merge.target_id,
            data={"merge_id": str(merge.pk), "source_id": str(merge.source_id)},
        )
        event_emit(
            brand_id=brand.pk,
            type=MEMBERS_MERGED,
            data={
                "merge_id": str(merge.pk),
                "source_id": str(merge.source_id),
                "target_id": str(merge.target_id),
                "undone": True,
            },
        )
        return merge


def pair_dismiss(*, brand: Brand, pair_id: Any, actor: Actor) -> DuplicatePair:
    """Staff say the two are different people: the pair leaves the queue and is not proposed again."""
    with transaction.atomic():
        pair = DuplicatePair.objects.select_for_update().filter(brand=brand, pk=pair_id).first()
        if pair is None:
            raise NotFound("No such duplicate pair", code="pair_not_found")
        if pair.status != DuplicatePair.Status.OPEN:
            raise Conflict("This pair was already decided", code="pair_decided")
        pair.status = DuplicatePair.Status.DISMISSED
        pair.decided_at = timezone.now()
        pair.save(update_fields=["status", "decided_at"])
        audit_record(
            brand=brand,
            actor=actor,
            action="members.duplicate_dismiss",
            target_type="member",
            target_id=pair.member_a_id,
            data={
                "pair_id": str(pair.pk),
                "other_id": str(pair.member_b_id),
                "probability": pair.probability,
            },
        )
        return pair
