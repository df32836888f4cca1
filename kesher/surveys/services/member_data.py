"""The surveys part's data about a member: export, erasure (the statistics stay, anonymous) and merging."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kesher.members.merging import MergeRecord, Step
from kesher.members.models import Member
from kesher.surveys.models import (
    SurveyAlert,
    SurveyAnswer,
    SurveyInvitation,
    SurveyRespondent,
    SurveyResponse,
)


def surveys_member_export(*, member: Member) -> dict[str, Any]:
    responses = []
    for response in SurveyResponse.objects.filter(member=member).prefetch_related("answers__question"):
        responses.append(
            {
                "survey_id": str(response.survey_id),
                "answered_at": response.created_at.isoformat(),
                "store": response.store,
                "sku": response.sku,
                "answers": [
                    {
                        "question": answer.question.text(member.locale),
                        "number": answer.number,
                        "choices": answer.choices,
                        "text": answer.text,
                    }
                    for answer in response.answers.all()
                ],
            }
        )
    return {
        # Anonymous surveys keep only that the member answered, never which answers were theirs.
        "answered": [
            {"survey_id": str(row.survey_id), "on": row.answered_on.isoformat()}
            for row in SurveyRespondent.objects.filter(member=member).order_by("answered_on", "id")
        ],
        "responses": responses,
        "invitations": [
            {
                "survey_id": str(row.survey_id),
                "at": row.created_at.isoformat(),
                "status": row.status,
                "reason": row.reason,
                "channel": row.channel,
            }
            for row in SurveyInvitation.objects.filter(member=member).order_by("created_at", "id")
        ],
    }


@transaction.atomic
def surveys_member_erase(*, member: Member) -> None:
    """Scores and choices stay in the results without the member; their words (which may name them) go."""
    named = SurveyResponse.objects.filter(member=member)
    SurveyAnswer.objects.filter(response__in=named).exclude(text="").update(text="", terms="")
    SurveyAlert.objects.filter(member=member).update(member=None, comment="")
    named.update(member=None)
    SurveyInvitation.objects.filter(member=member).delete()
    SurveyRespondent.objects.filter(member=member).delete()


@transaction.atomic
def surveys_members_merge(*, source: Member, target: Member) -> list[Step]:
    """The duplicate's answers move to the member kept; where both answered a survey, the kept member's
    answer is the one that stays (the duplicate's named response is removed, its copy kept in the steps for
    an undo, and so is its who-answered row; an anonymous one cannot be told apart and stays in the
    statistics)."""
    record = MergeRecord()
    both = set(SurveyRespondent.objects.filter(member=target).values_list("survey_id", flat=True)) & set(
        SurveyRespondent.objects.filter(member=source).values_list("survey_id", flat=True)
    )
    twice = SurveyResponse.objects.filter(member=source, survey_id__in=both)
    record.remove(SurveyAnswer.objects.filter(response__in=twice))
    record.remove(SurveyAlert.objects.filter(response__in=twice))
    record.remove(twice)
    record.remove(SurveyRespondent.objects.filter(member=source, survey_id__in=both))
    for model in (SurveyRespondent, SurveyResponse, SurveyAlert, SurveyInvitation):
        record.move(model.objects.filter(member=source), "member_id", old=source.pk, new=target.pk)
    return record.steps
