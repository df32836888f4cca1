"""`{% member_insights_block member %}`: the member's insights on their console page (loyalty/member.html)."""

from __future__ import annotations

from typing import Any

from django import template

from kesher.insights import rules
from kesher.insights.models import MemberSummary, Persona
from kesher.insights.selectors import member_insights
from kesher.members.models import Member

register = template.Library()


@register.inclusion_tag("insights/_member_block.html")
def member_insights_block(member: Member) -> dict[str, Any]:
    figures = member_insights(member=member)
    summary = MemberSummary.objects.filter(member_id=member.pk).first()
    persona = None
    if summary is not None and summary.persona is not None:
        persona = Persona.objects.filter(brand_id=member.brand_id, number=summary.persona).first()
    return {
        "figures": figures,
        "stage": dict(rules.FUNNEL_STAGES).get(figures["funnel_stage"], figures["funnel_stage"]),
        "segment": dict(rules.RFM_SEGMENTS).get(figures["rfm"]["segment"], figures["rfm"]["segment"]),
        "tracks": [(rule.label, figures["tracks"][rule.track]) for rule in rules.TRACKS],
        "summary": summary,
        "persona": persona,
        "churn_pct": None if figures["churn_risk"] is None else round(100 * figures["churn_risk"]),
    }
