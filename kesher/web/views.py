"""Pages: the landing page, the member portal and the health check."""

from __future__ import annotations

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from kesher.loyalty import selectors as loyalty
from kesher.members.models import Member


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html")


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    user_id = int(request.user.pk or 0)  # login_required: never anonymous here
    memberships = list(Member.objects.filter(user_id=user_id).select_related("brand").order_by("brand__name"))
    cards = []
    for member in memberships:
        qr = segno.make(member.card_number, micro=False)
        cards.append(
            {
                "member": member,
                "qr": mark_safe(qr.svg_inline(scale=4, dark="#1f2937", light="#ffffff")),
                "points": loyalty.points_summary(member=member),
                "ledger": loyalty.ledger_page(member=member, limit=10).entries,
                "rewards": loyalty.rewards_available(brand=member.brand)[:6],
                "wallet": [c for c in loyalty.coupon_wallet(member=member) if c.status == "issued"],
            }
        )
    return render(request, "web/portal.html", {"cards": cards})


def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # a health check reports, it does not raise
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.BROKER_URL:
        from config.celery import app

        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"error: {exc.__class__.__name__}"
    else:
        checks["broker"] = "in-process"
    healthy = all(value in ("ok", "in-process") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503)
