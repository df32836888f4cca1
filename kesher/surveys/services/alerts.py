"""Detractor alerts: the follow-up list staff work through (the service inbox's case, until it exists)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict
from kesher.surveys.models import AlertStatus, SurveyAlert


@transaction.atomic
def alert_resolve(*, alert: SurveyAlert, note: str = "", actor: Actor = SYSTEM) -> SurveyAlert:
    locked = SurveyAlert.objects.select_for_update().select_related("brand").get(pk=alert.pk)
    if locked.status != AlertStatus.OPEN:
        raise Conflict("This alert was already followed up", code="alert_done")
    locked.status, locked.note, locked.done_at = AlertStatus.DONE, note.strip()[:500], timezone.now()
    locked.save(update_fields=["status", "note", "done_at"])
    audit_record(
        brand=locked.brand,
        actor=actor,
        action="survey.alert_resolve",
        target_type="survey_alert",
        target_id=locked.pk,
        data={"survey_id": str(locked.survey_id), "note": locked.note},
    )
    return locked
