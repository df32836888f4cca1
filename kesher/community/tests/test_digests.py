"""The email digest of follows, through a real SMTP server: the member's name, RTL Hebrew, only what they
may see, one digest per period however often the task runs, and a one-click unsubscribe without login."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from django.test import Client

from kesher.brands.models import Brand
from kesher.community import digests
from kesher.community.models import CommunitySettings, DigestSend, DigestSettings, Post, Space
from kesher.community.services import (
    Author,
    answer_post,
    follow_set,
    post_hide,
    question_ask,
    space_create,
)
from kesher.community.tasks import digest_send
from kesher.core.audit import SYSTEM
from kesher.members.models import Member

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("Asia/Jerusalem"))  # a Tuesday


@dataclass
class Sink:
    received: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received.append(bytes(envelope.content))
        return "250 Message accepted"

    def messages(self) -> list[EmailMessage]:
        parsed = [email.message_from_bytes(raw, policy=email.policy.default) for raw in self.received]
        return [message for message in parsed if isinstance(message, EmailMessage)]


@pytest.fixture
def smtp(settings: Any) -> Iterator[Sink]:
    """A real SMTP server on a free port, and Django's SMTP backend pointed at it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    settings.DEFAULT_FROM_EMAIL = "Kesher <club@kesher.test>"
    settings.KESHER_BASE_URL = "https://club.kesher.test"
    try:
        yield sink
    finally:
        controller.stop()


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def publish_at(when: datetime) -> None:
    """Posts were written now; date them into the digest's window."""
    Post.objects.filter(published_at__isnull=False).update(published_at=when)


@pytest.fixture
def community(general: Space, make_member: Callable[..., Member]) -> dict[str, Any]:
    brand = general.brand
    CommunitySettings.objects.filter(brand=brand).update(min_seconds_between_posts=0)
    staff_room = space_create(brand=brand, slug="staff-room", name="חדר צוות", visibility="staff")
    noa = make_member("נועה", email="noa@example.org")
    dan = make_member("Dan", email="dan@example.org", locale="en")
    other = make_member("אורי")
    question = question_ask(
        space=general, author=Author(member=other), title="איך צוברים נקודות?", body="שאלה", tags=["נקודות"]
    )
    follow_set(member=noa, question=question)
    follow_set(member=dan, space=general)
    answer_post(question=question, author=Author(member=other), body="בכל קנייה בקופה")
    answer_post(question=question, author=Author(member=noa), body="התשובה שלי")  # her own: not in her digest
    spam = answer_post(question=question, author=Author(member=other), body="פרסומת זולה")
    post_hide(post=spam, actor=SYSTEM, spam=True)
    # Staff-only: followers of the tag never hear of it.
    question_ask(
        space=staff_room,
        author=Author(by_brand=True),
        title="נקודות לצוות בלבד",
        body="סודי",
        tags=["נקודות"],
    )
    from kesher.community.models import Tag

    follow_set(member=noa, tag=Tag.objects.get(brand=brand, name="נקודות"))
    publish_at(NOON - timedelta(hours=2))
    return {"brand": brand, "noa": noa, "dan": dan, "question": question}


def test_the_digest_arrives_by_smtp_with_the_name_in_rtl_hebrew_and_only_visible_posts(
    smtp: Sink, community: dict[str, Any]
) -> None:
    run = digests.digests_send_due(now=NOON)
    assert (run.sent, run.failed) == (2, 0)
    by_to = {str(message["To"]): message for message in smtp.messages()}
    assert set(by_to) == {"noa@example.org", "dan@example.org"}

    hebrew = by_to["noa@example.org"]
    assert str(hebrew["From"]).strip() == "קפה טוב <club@kesher.test>"
    assert str(hebrew["Subject"]).strip() == "חדש בקהילה של קפה טוב: 2 עדכונים"
    html, text = html_of(hebrew), text_of(hebrew)
    assert '<html lang="he" dir="rtl">' in html
    assert "שלום נועה," in html and "שלום נועה," in text
    assert html.count('data-test="digest-item"') == 2  # the new question (followed tag) and its answer
    assert "בכל קנייה בקופה" in html and "איך צוברים נקודות?" in html
    for unseen in ("פרסומת זולה", "התשובה שלי", "נקודות לצוות בלבד", "סודי"):
        assert unseen not in html and unseen not in text
    unsubscribe = str(hebrew["List-Unsubscribe"]).strip().strip("<>")
    assert unsubscribe.startswith("https://club.kesher.test/community/cafe/digest/stop/")
    assert str(hebrew["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert unsubscribe in text

    english = by_to["dan@example.org"]
    html = html_of(english)
    assert '<html lang="en" dir="ltr">' in html and "Hello Dan," in html
    assert str(english["Subject"]).strip() == "New in the קפה טוב community: 3 updates"
    assert html.count('data-test="digest-item"') == 3  # the question and both answers in his followed space
    assert "התשובה שלי" in html and "פרסומת זולה" not in html


def test_exactly_one_digest_per_period_however_often_the_task_runs(
    smtp: Sink, community: dict[str, Any], make_member: Callable[..., Member]
) -> None:
    assert digests.digests_send_due(now=NOON).sent == 2
    again = digests.digests_send_due(now=NOON + timedelta(hours=3))
    assert (again.sent, again.skipped) == (0, 2)
    assert len(smtp.received) == 2
    # A new answer later that day waits for tomorrow's digest, which holds only it.
    answer_post(question=community["question"], author=Author(member=make_member("רון")), body="גם באתר")
    publish_at_new = NOON + timedelta(hours=4)
    Post.objects.filter(body="גם באתר").update(published_at=publish_at_new)
    tomorrow = digests.digests_send_due(now=NOON + timedelta(days=1))
    assert tomorrow.sent == 2
    latest = [m for m in smtp.messages() if str(m["To"]) == "noa@example.org"][-1]
    assert html_of(latest).count('data-test="digest-item"') == 1 and "גם באתר" in html_of(latest)
    assert sorted(
        DigestSend.objects.filter(member=community["noa"]).values_list("period", "status", "items")
    ) == [
        ("2026-03-10", "sent", 2),
        ("2026-03-11", "sent", 1),
    ]
    # Before 08:00 local time nothing goes out.
    early = datetime(2026, 3, 12, 7, 0, tzinfo=ZoneInfo("Asia/Jerusalem"))
    assert digests.digests_send_due(now=early).sent == 0


def test_the_celery_task_run_twice_sends_once(
    smtp: Sink, community: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digests, "SEND_FROM_HOUR", 0)
    from django.utils import timezone

    publish_at(timezone.now() - timedelta(minutes=5))
    assert digest_send.apply().get() == 2
    assert digest_send.apply().get() == 0
    assert len(smtp.received) == 2


def test_weekly_and_off_are_respected_and_the_link_unsubscribes_in_one_click(
    smtp: Sink, community: dict[str, Any]
) -> None:
    noa, dan = community["noa"], community["dan"]
    digests.digest_frequency_set(member=dan, frequency="weekly")
    assert digests.digests_send_due(now=NOON).sent == 2
    assert (
        digests.digests_send_due(now=NOON + timedelta(days=1)).sent == 0
    )  # Noa: nothing new; Dan: same week
    assert DigestSend.objects.get(member=dan).period == "W2026-03-08"

    message = next(m for m in smtp.messages() if str(m["To"]) == "noa@example.org")
    link = str(message["List-Unsubscribe"]).strip().strip("<>").removeprefix("https://club.kesher.test")
    page = Client().get(link)  # a mail scanner following the link changes nothing
    assert page.status_code == 200 and 'data-test="confirm-digest-unsubscribe"' in page.content.decode()
    assert DigestSettings.objects.filter(member=noa).count() == 0
    # RFC 8058: the provider POSTs "List-Unsubscribe=One-Click" with no session and no CSRF token.
    done = Client(enforce_csrf_checks=True).post(link, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and 'data-test="digest-stopped"' in done.content.decode()
    assert DigestSettings.objects.get(member=noa).frequency == "off"
    forged = Client().post(re.sub(r"stop/[^/]+/", "stop/forged:token/", link))
    assert forged.status_code == 404

    answer_post(question=community["question"], author=Author(member=dan), body="עוד תשובה")
    Post.objects.filter(body="עוד תשובה").update(published_at=NOON + timedelta(days=2, hours=-1))
    run = digests.digests_send_due(now=NOON + timedelta(days=2))
    assert run.sent == 0
    assert not DigestSend.objects.filter(member=noa, period="2026-03-12").exists()


def test_members_choose_the_digest_in_their_notification_settings(
    community: dict[str, Any], brand: Brand
) -> None:
    from django.contrib.auth import get_user_model

    noa = community["noa"]
    user = get_user_model().objects.create_user(username="noa", email="noa@example.org")
    Member.objects.filter(pk=noa.pk).update(user=user)
    client = Client()
    client.force_login(user)
    page = client.get("/community/cafe/notifications/").content.decode()
    assert 'data-test="digest-daily" checked' in page
    assert client.post("/community/cafe/notifications/digest/", {"frequency": "weekly"}).status_code == 302
    assert DigestSettings.objects.get(member=noa).frequency == "weekly"
    assert (
        'data-test="digest-weekly" checked' in client.get("/community/cafe/notifications/").content.decode()
    )
    client.post("/community/cafe/notifications/digest/", {"frequency": "hourly"})
    assert DigestSettings.objects.get(member=noa).frequency == "weekly"
