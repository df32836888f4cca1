"""The email digest of what a member follows: new questions and answers they may see, daily or weekly.

A digest is a service message the member asked for by following (no advertising), so it does not need
the advertising consent of the Communications Law; it has its own off switch (the portal's notification
settings, and a one-click unsubscribe link without login, RFC 8058). It leaves through the campaigns
part's email channel, with the brand's sender identity. One digest per member and period, at most once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kesher.brands.models import Brand
from kesher.community.access import reader_member, visible_posts_q
from kesher.community.models import DigestSend, DigestSettings, Follow, Post
from kesher.core.errors import ValidationFailed
from kesher.core.markup import plain_text
from kesher.members.models import Member, MemberStatus

log = logging.getLogger(__name__)

SEND_FROM_HOUR = 8  # local time: a digest goes out on the first run after 08:00 of its day (or week)
MAX_ITEMS = 30
UNSUBSCRIBE_SALT = "kesher.community.digest.unsubscribe"
PERIOD_LENGTH: dict[str, timedelta] = {
    DigestSettings.Frequency.DAILY: timedelta(days=1),
    DigestSettings.Frequency.WEEKLY: timedelta(days=7),
}


# --- the member's choice ---------------------------------------------------------------------------


def digest_frequency(member: Member) -> str:
    found = DigestSettings.objects.filter(member=member).values_list("frequency", flat=True).first()
    return found or DigestSettings.Frequency.DAILY


@transaction.atomic
def digest_frequency_set(*, member: Member, frequency: str) -> DigestSettings:
    if frequency not in DigestSettings.Frequency.values:
        raise ValidationFailed("frequency must be off, daily or weekly", field="frequency")
    chosen, _created = DigestSettings.objects.update_or_create(
        member=member, defaults={"brand_id": member.brand_id, "frequency": frequency}
    )
    return chosen


def unsubscribe_token(member: Member) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(member.pk))


def unsubscribe_member(token: str) -> Member | None:
    """The member a digest's unsubscribe link names, or None for a token not made here."""
    try:
        member_id = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return Member.objects.select_related("brand").filter(pk=member_id).first()


def unsubscribe_url(member: Member) -> str:
    path = reverse("community:digest_unsubscribe", args=[member.brand.slug, unsubscribe_token(member)])
    return f"{settings.KESHER_BASE_URL.rstrip('/')}{path}"


# --- what goes in ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestItem:
    post: Post
    question: Post
    url: str
    snippet: str


def _question_url(question: Post) -> str:
    args: list[Any] = [question.brand.slug, question.pk]
    path = (
        reverse("community:question", args=[*args, question.slug])
        if question.slug
        else reverse("community:question_short", args=args)
    )
    return f"{settings.KESHER_BASE_URL.rstrip('/')}{path}"


def digest_items(*, member: Member, since: datetime, until: datetime) -> list[DigestItem]:
    """New questions and answers, published in [since, until), in what the member follows and may see."""
    follows = list(
        Follow.objects.filter(member=member).values_list("kind", "question_id", "tag_id", "space_id")
    )
    questions = [q for kind, q, _t, _s in follows if kind == Follow.Kind.QUESTION]
    tags = [t for kind, _q, t, _s in follows if kind == Follow.Kind.TAG]
    spaces = [s for kind, _q, _t, s in follows if kind == Follow.Kind.SPACE]
    if not follows:
        return []
    reader = reader_member(member)
    new_questions = Q(kind=Post.Kind.QUESTION) & (Q(space_id__in=spaces) | Q(tags__in=tags))
    new_answers = (
        Q(kind=Post.Kind.ANSWER)
        & (Q(question_id__in=questions) | Q(question__space_id__in=spaces) | Q(question__tags__in=tags))
        & visible_posts_q(reader, prefix="question__")
        & Q(question__status=Post.Status.PUBLISHED)
    )
    ids = (
        Post.objects.filter(visible_posts_q(reader), new_questions | new_answers)
        .filter(status=Post.Status.PUBLISHED, published_at__gte=since, published_at__lt=until)
        .exclude(author=member)
        .values_list("pk", flat=True)
        .distinct()
    )
    posts = (
        Post.objects.filter(pk__in=list(ids))
        .select_related("question", "question__brand", "brand")
        .order_by("published_at", "pk")[:MAX_ITEMS]
    )
    items = []
    for post in posts:
        question = post.question if post.question is not None else post
        snippet = plain_text(post.body_html)
        items.append(
            DigestItem(
                post=post,
                question=question,
                url=_question_url(question),
                snippet=snippet if len(snippet) <= 200 else snippet[:199] + "…",
            )
        )
    return items


# --- sending ---------------------------------------------------------------------------------------


def _period(frequency: str, local: datetime) -> str:
    if frequency == DigestSettings.Frequency.WEEKLY:
        # Weeks start on Sunday, as the Israeli working week does.
        sunday = local.date() - timedelta(days=(local.weekday() + 1) % 7)
        return f"W{sunday.isoformat()}"
    return local.date().isoformat()


def _sender(brand: Brand) -> tuple[str, str, str]:
    """(display name, address, reply-to) from the brand's messaging settings in the campaigns part."""
    from kesher.campaigns.selectors import messaging_settings
    from kesher.campaigns.services import sender_address

    ms = messaging_settings(brand=brand)
    return ms.sender_name or brand.name, sender_address(ms), ms.reply_to


def digest_email(*, member: Member, items: list[DigestItem], send: DigestSend) -> EmailMultiAlternatives:
    """The digest as an email: HTML and text, right-to-left in Hebrew, one-click unsubscribe headers."""
    brand = member.brand
    name, address, reply_to = _sender(brand)
    unsubscribe = unsubscribe_url(member)
    locale = member.locale or brand.default_locale
    with translation.override(locale):
        context: dict[str, Any] = {
            "brand": brand,
            "sender": name,
            "member": member,
            "items": items,
            "direction": "rtl" if translation.get_language_info(locale)["bidi"] else "ltr",
            "language": locale,
            "weekly": send.period.startswith("W"),
            "unsubscribe_url": unsubscribe,
        }
        subject = _("New in the %(brand)s community: %(count)s updates") % {
            "brand": name,
            "count": len(items),
        }
        context["subject"] = subject
        text = render_to_string("community/email/digest.txt", context)
        html = render_to_string("community/email/digest.html", context)
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=formataddr((name, address)),
        to=[member.email or ""],
        reply_to=[reply_to] if reply_to else None,
        headers={
            "Message-ID": f"<digest-{send.pk}@{address.rpartition('@')[2] or 'kesher.local'}>",
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "X-Kesher-Digest": send.period,
        },
    )
    email.attach_alternative(html, "text/html")
    return email


@dataclass
class DigestRun:
    sent: int = 0
    empty: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _claim(member: Member, period: str, since: datetime, until: datetime) -> DigestSend | None:
    """The period's row, created once: a second run (or a concurrent one) finds it and sends nothing."""
    try:
        with transaction.atomic():
            return DigestSend.objects.create(
                brand_id=member.brand_id, member=member, period=period, since=since, until=until
            )
    except IntegrityError:
        return None


def _due_members(brand: Brand) -> list[Member]:
    followers = Follow.objects.filter(brand=brand).values("member_id")
    return list(
        Member.objects.filter(
            brand=brand,
            pk__in=followers,
            status__in=[MemberStatus.ACTIVE, MemberStatus.PROSPECT],
            email__isnull=False,
        )
        .exclude(email="")
        .exclude(community_digest__frequency=DigestSettings.Frequency.OFF)
        .select_related("brand")
        .order_by("pk")
    )


def digests_send_due(*, now: datetime | None = None, brand: Brand | None = None) -> DigestRun:
    """Send every digest that is due (daily or weekly, after 08:00 local time); safe to run any time."""
    now = now or timezone.now()
    run = DigestRun()
    brands = [brand] if brand is not None else list(Brand.objects.all())
    for each in brands:
        local = now.astimezone(ZoneInfo(each.time_zone))
        if local.hour < SEND_FROM_HOUR:
            continue
        members = _due_members(each)
        frequencies = dict(
            DigestSettings.objects.filter(member__in=members).values_list("member_id", "frequency")
        )
        ready: list[tuple[Member, DigestSend, list[DigestItem]]] = []
        for member in members:
            frequency = frequencies.get(member.pk, DigestSettings.Frequency.DAILY)
            period = _period(frequency, local)
            if DigestSend.objects.filter(member=member, period=period).exists():
                run.skipped += 1
                continue
            latest = (
                DigestSend.objects.filter(member=member)
                .order_by("-until")
                .values_list("until", flat=True)
                .first()
            )
            earliest = now - PERIOD_LENGTH[frequency]
            since = max(latest, earliest) if latest is not None else earliest
            send = _claim(member, period, since, now)
            if send is None:
                run.skipped += 1
                continue
            items = digest_items(member=member, since=since, until=now)
            if not items:
                DigestSend.objects.filter(pk=send.pk).update(status=DigestSend.Status.EMPTY)
                run.empty += 1
                continue
            ready.append((member, send, items))
        if ready:
            _deliver(ready, run)
    return run


def _deliver(ready: list[tuple[Member, DigestSend, list[DigestItem]]], run: DigestRun) -> None:
    from kesher.campaigns.channels import EmailChannel, NotSent, Refused

    def give_back(send: DigestSend, error: str) -> None:
        # Nothing left this server: the period is free again, so the next run tries again.
        DigestSend.objects.filter(pk=send.pk).delete()
        run.failed += 1
        run.errors.append(error[:300])

    try:
        channel = EmailChannel().__enter__()
    except NotSent as exc:
        for _member, send, _items in ready:
            give_back(send, str(exc))
        return
    try:
        for member, send, items in ready:
            try:
                channel.send(digest_email(member=member, items=items, send=send))
            except NotSent as exc:
                give_back(send, str(exc))
                continue
            except Refused as exc:
                DigestSend.objects.filter(pk=send.pk).update(
                    status=DigestSend.Status.FAILED, error=str(exc)[:300]
                )
                run.failed += 1
                continue
            except Exception as exc:  # it may have left: never sent twice
                log.exception("digest %s may not have been sent", send.pk)
                DigestSend.objects.filter(pk=send.pk).update(
                    status=DigestSend.Status.FAILED, error=str(exc)[:300]
                )
                run.failed += 1
                continue
            DigestSend.objects.filter(pk=send.pk).update(
                status=DigestSend.Status.SENT, items=len(items), sent_at=timezone.now()
            )
            run.sent += 1
    finally:
        channel.__exit__(None, None, None)
