"""Campaign throughput on PostgreSQL: render and queue one personal email for each of 100,000 members, then
deliver to a local SMTP server as one worker does. Prints the figures as JSON.

    python -m kesher.campaigns.benchmark            # 100,000 members, 5,000 delivered
    BENCH_QUICK=1 python -m kesher.campaigns.benchmark

It works in a scratch database (BENCH_PG_URL, default postgresql://root@127.0.0.1:5432) that it drops after.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import socket
import sys
import time
from typing import Any
from unittest import mock

SCRATCH_DB = "kesher_bench_campaigns"
PROCESSES = int(os.environ.get("BENCH_CAMPAIGN_PROCESSES", "2"))


def _pg_base() -> str:
    return os.environ.get("BENCH_PG_URL", "postgresql://root@127.0.0.1:5432").rstrip("/")


def _recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{_pg_base()}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {SCRATCH_DB}")


def _drop_database() -> None:
    import psycopg

    with psycopg.connect(f"{_pg_base()}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB} WITH (FORCE)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _smtp_sink(port: int, received: Any, stop: Any) -> None:
    """A local SMTP server in its own process (as a real mail server would be), counting what it accepts."""
    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with received.get_lock():
                received.value += 1
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    stop.wait()
    controller.stop()


def _smtp_ceiling(port: int, campaign: Any) -> int:
    """How fast the local SMTP server takes one of these emails, already built, over one connection: the
    most any sender can reach against it here."""
    import smtplib

    from kesher.campaigns import selectors
    from kesher.campaigns.models import Message
    from kesher.campaigns.services.composing import email_build

    message = Message.objects.filter(campaign=campaign).select_related("brand").first()
    assert message is not None
    email = email_build(message, selectors.messaging_settings(brand=campaign.brand))
    raw = email.message().as_bytes(linesep="\r\n")  # smtplib sends bytes as they are
    count = 500
    with smtplib.SMTP("127.0.0.1", port) as client:
        started = time.perf_counter()
        for _ in range(count):
            client.sendmail("bench@kesher.test", [message.to], raw)
        return round(count / (time.perf_counter() - started))


def _deliver(ids: list[Any], processes: int) -> float:
    """Deliver `ids` in batches as Celery's delivery tasks would, from `processes` forked processes."""
    from django.db import connections

    from kesher.campaigns import services
    from kesher.campaigns.services.sending import DELIVER_BATCH

    batches = [ids[start : start + DELIVER_BATCH] for start in range(0, len(ids), DELIVER_BATCH)]

    def work(share: list[list[Any]]) -> None:
        for batch in share:
            services.messages_deliver(message_ids=batch, claim_token=f"bench-{batch[0]}")
        connections.close_all()

    connections.close_all()  # each process opens its own connection
    started = time.perf_counter()
    children = [
        multiprocessing.Process(target=work, args=(batches[index::processes],)) for index in range(processes)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join()
    return time.perf_counter() - started


def _seed(members: int) -> Any:
    """Members with consent proof and points, written in bulk (the services would take minutes here)."""
    from django.utils import timezone

    from kesher.brands.services import brand_create
    from kesher.loyalty.models import PointsAccount
    from kesher.members.models import ConsentEvent, Member

    brand = brand_create(slug="bench", name="קפה בנצ׳")
    now = timezone.now()
    interests = [["fashion"], ["baby"], ["coffee", "books"], []]
    names = ["נועה", "דניאל", "Maya", "יוסי", "", "Emma", "אורי", "Liam"]
    rng = random.Random(7)
    for start in range(0, members, 5000):
        batch = [
            Member(
                brand=brand,
                email=f"m{i}@bench.example",
                phone=f"+97250{i:07d}",
                first_name=names[i % len(names)],
                last_name="",
                locale="en" if i % 5 == 0 else "he",
                interests=interests[i % len(interests)],
                joined_at=now,
                card_number=f"8{i:011d}",
                referral_code=f"R{i:09d}",
                consent_email=True,
            )
            for i in range(start, min(start + 5000, members))
        ]
        Member.objects.bulk_create(batch, batch_size=5000)
        ConsentEvent.objects.bulk_create(
            [
                ConsentEvent(
                    brand=brand, member=m, channel="email", granted=True, source="bench", occurred_at=now
                )
                for m in batch
            ],
            batch_size=5000,
        )
        PointsAccount.objects.bulk_create(
            [PointsAccount(member=m, brand=brand, balance=rng.randint(0, 5000)) for m in batch],
            batch_size=5000,
        )
    return brand


def main() -> int:
    quick = os.environ.get("BENCH_QUICK") == "1"
    members = int(os.environ.get("BENCH_CAMPAIGN_MEMBERS", "10000" if quick else "100000"))
    deliveries = int(os.environ.get("BENCH_CAMPAIGN_DELIVERIES", "1000" if quick else "5000"))
    _recreate_database()
    smtp_port = _free_port()
    received = multiprocessing.Value("i", 0)
    stop = multiprocessing.Event()
    sink = multiprocessing.Process(target=_smtp_sink, args=(smtp_port, received, stop), daemon=True)
    sink.start()
    os.environ["KESHER_DATABASE_URL"] = f"{_pg_base()}/{SCRATCH_DB}"
    os.environ["KESHER_EMAIL_URL"] = f"smtp://127.0.0.1:{smtp_port}"
    os.environ["KESHER_LOG_LEVEL"] = "WARNING"
    os.environ.pop("KESHER_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from kesher.campaigns import services
    from kesher.campaigns.models import Message

    results: dict[str, Any] = {"members": members}
    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        brand = _seed(members)
        results["seed_seconds"] = round(time.perf_counter() - started, 1)
        campaign = services.campaign_create(
            brand=brand,
            name="bench",
            channel="email",
            subject="{{ first_name }}, מבצע אביב במיוחד בשבילך",
            body="שלום {{ first_name }},\n\nיש לך {{ points|intcomma }} נקודות.\n\n{{ block }}\n\n"
            "לפרטים: https://shop.example.org/spring",
            advertising=True,
            translations={
                "en": {"subject": "{{ first_name }}, spring sale", "body": "Hi {{ first_name }}! {{ block }}"}
            },
            blocks=[
                {"interests": ["fashion"], "text": "טרנדים חדשים לעונה"},
                {"interests": ["baby"], "text": "מדריך להורים טריים"},
                {"interests": [], "text": "חדש אצלנו השבוע"},
            ],
        )
        with mock.patch("kesher.campaigns.services.sending.queuing_start"):
            services.campaign_send(campaign=campaign)
        with mock.patch("kesher.campaigns.services.sending.messages_dispatch"):
            started = time.perf_counter()
            queued = services.campaign_queue(campaign_id=campaign.pk)
            elapsed = time.perf_counter() - started
        results.update(
            queued=queued, queue_seconds=round(elapsed, 1), queue_per_second=round(queued / elapsed)
        )

        ids = list(
            Message.objects.filter(campaign=campaign)
            .order_by("pk")
            .values_list("pk", flat=True)[: 2 * deliveries]
        )
        results["smtp_server_ceiling_per_second"] = _smtp_ceiling(smtp_port, campaign)
        # One process is one worker slot; `kesher worker` on this 2-core machine runs 2 (Celery's default).
        for processes, part in ((1, ids[:deliveries]), (PROCESSES, ids[deliveries:])):
            before = received.value
            elapsed = _deliver(part, processes)
            results[f"deliver_{processes}_process"] = {
                "delivered": received.value - before,
                "seconds": round(elapsed, 1),
                "per_second": round((received.value - before) / elapsed),
            }
    finally:
        stop.set()
        sink.join(timeout=10)
        from django.db import connections

        connections.close_all()
        _drop_database()
    print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
