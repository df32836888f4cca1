"""Reads of the customers part, each inside one brand."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from kesher.brands.models import Brand
from kesher.customers.models import DuplicatePair, ImportJob, MemberMerge


def duplicate_pairs(
    *, brand: Brand, min_probability: float = 0.0, status: str = DuplicatePair.Status.OPEN, limit: int = 100
) -> list[DuplicatePair]:
    """The brand's pairs in this state, most probable first, with both members read in the same query."""
    pairs = DuplicatePair.objects.filter(brand=brand, status=status, probability__gte=min_probability)
    return list(pairs.select_related("member_a", "member_b").order_by("-probability", "pk")[:limit])


def duplicate_pair_get(*, brand: Brand, pair_id: Any) -> DuplicatePair | None:
    return (
        DuplicatePair.objects.filter(brand=brand, pk=pair_id).select_related("member_a", "member_b").first()
    )


def merges_recent(*, brand: Brand, limit: int = 20) -> QuerySet[MemberMerge]:
    return (
        MemberMerge.objects.filter(brand=brand)
        .select_related("source", "target")
        .order_by("-merged_at")[:limit]
    )


def import_jobs(*, brand: Brand, limit: int = 20) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(brand=brand).order_by("-created_at")[:limit]


def import_job_get(*, brand: Brand, job_id: Any) -> ImportJob | None:
    return ImportJob.objects.filter(brand=brand, pk=job_id).first()
