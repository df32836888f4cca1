"""The journey editor of the staff console: steps added, removed, moved and changed in one form, checked
when saved (journey_steps.py) and saved by journeys.journey_steps_update. Moving and adding happen on
the page (the form comes back with the change, nothing saved) until the author saves."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from kesher.campaigns import journeys
from kesher.campaigns.views import JOURNEY_EDITORS, _staff_journey
from kesher.core.audit import Actor
from kesher.core.errors import KesherError

STEP_TYPES = ("wait", "condition", "send", "points", "tag", "notify")
TEXT_FIELDS = (
    "days",
    "hours",
    "consent",
    "rules",
    "channel",
    "locale",
    "subject",
    "body",
    "other_subject",
    "other_body",
    "coupon_reward",
    "points",
    "reason",
    "tag",
    "email",
)


def _row(origin: int | None, step: dict[str, Any]) -> dict[str, Any]:
    """A saved step as the form's row of text fields."""
    row: dict[str, Any] = {"origin": origin, "type": step.get("type", "")}
    for name in TEXT_FIELDS:
        row[name] = ""
    for name in (
        "days",
        "hours",
        "consent",
        "channel",
        "locale",
        "subject",
        "body",
        "points",
        "reason",
        "tag",
        "email",
    ):
        value = step.get(name)
        row[name] = "" if value is None else str(value)
    if step.get("rules") is not None:
        row["rules"] = json.dumps(step["rules"], ensure_ascii=False)
    row["coupon_reward"] = str(step.get("coupon_reward") or "")
    row["advertising"] = bool(step.get("advertising"))
    translations = step.get("translations") or {}
    for locale, content in translations.items():
        row["other_locale"] = locale
        row["other_subject"] = content.get("subject", "")
        row["other_body"] = content.get("body", "")
    return row


def _rows_from_post(data: QueryDict) -> list[dict[str, Any]]:
    rows = []
    try:
        count = min(int(data.get("count", "0")), 100)
    except ValueError:
        count = 0
    for i in range(count):
        kind = data.get(f"s{i}_type", "")
        if kind not in STEP_TYPES:
            continue
        origin = data.get(f"s{i}_origin", "")
        row: dict[str, Any] = {"origin": int(origin) if origin.isdigit() else None, "type": kind}
        for name in TEXT_FIELDS:
            row[name] = data.get(f"s{i}_{name}", "")
        row["advertising"] = data.get(f"s{i}_advertising") == "on"
        rows.append(row)
    return rows


def _number(value: str) -> Any:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return value  # the step's check says what is wrong with it


def _step(row: dict[str, Any]) -> dict[str, Any]:
    """A form row as the step journey_steps.py checks."""
    kind = row["type"]
    if kind == "wait":
        return {"type": "wait", "days": _number(row["days"]) or 0, "hours": _number(row["hours"]) or 0}
    if kind == "condition":
        if row["rules"].strip():
            try:
                rules = json.loads(row["rules"])
            except ValueError:
                rules = {"error": "not JSON"}
            return {"type": "condition", "rules": rules}
        return {"type": "condition", "consent": row["consent"] or None}
    if kind == "send":
        locale = row["locale"] or "he"
        step: dict[str, Any] = {
            "type": "send",
            "channel": row["channel"],
            "locale": locale,
            "subject": row["subject"],
            "body": row["body"],
            "advertising": row["advertising"],
            "translations": {},
            "coupon_reward": row["coupon_reward"] or None,
        }
        if row["other_body"].strip():
            other = "en" if locale == "he" else "he"
            step["translations"] = {other: {"subject": row["other_subject"], "body": row["other_body"]}}
        return step
    if kind == "points":
        return {"type": "points", "points": _number(row["points"]), "reason": row["reason"]}
    if kind == "tag":
        return {"type": "tag", "tag": row["tag"]}
    return {"type": "notify", "email": row["email"], "subject": row["subject"], "body": row["body"]}


def _blank(kind: str) -> dict[str, Any]:
    row = _row(None, {"type": kind})
    if kind == "wait":
        row["days"] = "1"
    if kind == "send":
        row.update(channel="email", locale="he")
    if kind == "condition":
        row["consent"] = "email"
    return row


def _apply(rows: list[dict[str, Any]], op: str, new_type: str) -> list[dict[str, Any]]:
    """Add, remove or move a row (on the page only)."""
    if op == "add" and new_type in STEP_TYPES:
        return [*rows, _blank(new_type)]
    action, _, raw = op.partition(":")
    if not raw.isdigit() or not 0 <= int(raw) < len(rows):
        return rows
    index = int(raw)
    rows = list(rows)
    if action == "remove":
        del rows[index]
    elif action == "up" and index > 0:
        rows[index - 1], rows[index] = rows[index], rows[index - 1]
    elif action == "down" and index < len(rows) - 1:
        rows[index + 1], rows[index] = rows[index], rows[index + 1]
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def journey_edit(request: HttpRequest, journey_id: Any) -> HttpResponse:
    journey = _staff_journey(request, journey_id, JOURNEY_EDITORS)
    error = None
    status = 200
    if request.method == "GET":
        rows = [_row(index, step) for index, step in enumerate(journey.steps)]
    else:
        rows = _rows_from_post(request.POST)
        op = request.POST.get("op", "save")
        if op != "save":
            rows = _apply(rows, op, request.POST.get("new_type", ""))
        else:
            try:
                journeys.journey_steps_update(
                    journey=journey,
                    steps=[_step(row) for row in rows],
                    origins=[row["origin"] for row in rows],
                    actor=Actor(user=request.user),  # type: ignore[arg-type]
                )
            except KesherError as exc:
                error, status = exc.message, exc.status
            else:
                flash.success(request, gettext("The journey's steps are saved."))
                return redirect("campaigns:staff_journey", journey_id=journey.pk)
    return render(
        request,
        "campaigns/staff/journey_edit.html",
        {"journey": journey, "rows": rows, "count": len(rows), "types": STEP_TYPES, "error": error},
        status=status,
    )
