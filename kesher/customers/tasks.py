"""Background work of the customers part: thin wrappers that take ids and are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from kesher.customers.services import member_duplicates_check as check
from kesher.members.models import Member


@shared_task(name="kesher.customers.tasks.member_duplicates_check")
def member_duplicates_check(member_id: str) -> int:
    member = Member.objects.filter(pk=member_id).select_related("brand").first()
    return 0 if member is None else check(member=member)
