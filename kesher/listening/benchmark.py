"""Listening speed benchmark: 100,000 mentions taken in with sentiment, topics, influence, the author's
member and routing to the inbox, as a connector takes them (checked, then `mentions_ingest` a batch of
1,000 at a time), on PostgreSQL.

    KESHER_DATABASE_URL=postgresql://.../kesher_bench_listening python -m kesher.listening.benchmark

The texts are the labelled Hebrew and English sentences of the analyser's own sets (kesher/listening/
analysis/data), each made distinct with a number and, for one in fifty, a legal threat or a safety word so
that routing opens cases. One mention in five is by a club member, found by email. Prints the time, the
rate, what was routed, this process's CPU and the load, then the machine's reference (pgbench) measured in
the same run. The target: 100,000 under 60 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import time
from datetime import timedelta
from pathlib import Path

import django

from kesher.core.benchmarking import reference_line

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

BRAND_SLUG = "bench-listening"
DATA = Path(__file__).resolve().parent / "analysis" / "data"
SOURCES = ("x", "facebook", "instagram", "tiktok", "forum")
ALARMS = {
    "he": ["אני אתבע אתכם", "זה מסוכן, הילד נפגע"],
    "en": ["I will sue you", "this is dangerous, my kid got hurt"],
}
TARGET_SECONDS = 60.0


def _sentences() -> list[tuple[str, str]]:
    """(language, text) from the analyser's labelled sets."""
    found = []
    for language in ("he", "en"):
        for name in (f"labelled_{language}.tsv", f"heldout_{language}.tsv"):
            with (DATA / name).open(encoding="utf-8") as handle:
                found += [(language, row[0]) for row in csv.reader(handle, delimiter="\t") if row and row[0]]
    return found


def _members(brand, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    """`count` club members with emails (made once); their emails."""
    from django.utils import timezone

    from kesher.members.models import Member

    joined = timezone.now()
    have = Member.objects.filter(brand=brand).count()
    if have < count:
        Member.objects.bulk_create(
            [
                Member(
                    brand=brand,
                    email=f"voice{n}@bench.example",
                    first_name=f"Voice {n}",
                    joined_at=joined,
                    card_number=f"7{n:015d}",
                    referral_code=f"L{n:011d}",
                )
                for n in range(have, count)
            ],
            batch_size=2000,
        )
    return [f"voice{n}@bench.example" for n in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    django.setup()
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from kesher.brands.models import Brand
    from kesher.brands.services import brand_create
    from kesher.listening.models import Mention
    from kesher.listening.services import MentionIn, mention_clean, mentions_ingest
    from kesher.listening.services.ingest import MAX_BATCH
    from kesher.service.models import Case

    brand = Brand.objects.filter(slug=BRAND_SLUG).first() or brand_create(
        slug=BRAND_SLUG, name="Bench listening", default_locale="he"
    )
    Case.objects.filter(brand=brand).delete()  # a run starts from an empty stream
    Mention.objects.filter(brand=brand).delete()
    emails = _members(brand, args.members)
    sentences = _sentences()
    rng = random.Random(args.seed)
    now = timezone.now()
    run = int(time.time())
    print(
        f"listening benchmark: {args.mentions:,} mentions on {connection.vendor}, batches of {MAX_BATCH:,}, "
        f"{len(sentences):,} distinct sentences; load {os.getloadavg()[0]:.1f}",
        flush=True,
    )

    def item(n: int) -> MentionIn:
        language, text = rng.choice(sentences)
        if n % 50 == 0:
            text = f"{text} {rng.choice(ALARMS[language])}"
        return MentionIn(
            source=rng.choice(SOURCES),
            external_id=f"{run}-{n}",
            text=f"{text} #{n}",
            posted_at=now - timedelta(seconds=n),
            url=f"https://social.example/p/{run}-{n}",
            author_handle=f"user{rng.randrange(50_000)}",
            author_name="",
            author_followers=int(rng.paretovariate(1.2) * 50),
            shares=rng.randrange(0, 30),
            engagement=rng.randrange(0, 200),
            author_email=rng.choice(emails) if n % 5 == 0 else "",
        )

    started, cpu = time.monotonic(), time.process_time()
    added = 0
    for first in range(0, args.mentions, MAX_BATCH):
        batch = [mention_clean(item(n)) for n in range(first, min(first + MAX_BATCH, args.mentions))]
        added += mentions_ingest(brand=brand, items=batch).added
    took, used = time.monotonic() - started, time.process_time() - cpu

    by_sentiment = dict(Mention.objects.filter(brand=brand).values_list("sentiment").annotate(n=Count("id")))
    linked = Mention.objects.filter(brand=brand, member__isnull=False).count()
    cases = Case.objects.filter(brand=brand).count()
    print(
        f"  ingest: {added:,} mentions in {took:.1f} s ({added / took:,.0f} mentions/s; this process's CPU "
        f"{used:.1f} s; load {os.getloadavg()[0]:.1f}) — target: {args.mentions:,} under "
        f"{TARGET_SECONDS * args.mentions / 100_000:.0f} s",
        flush=True,
    )
    print(
        f"  sentiment {by_sentiment}; {linked:,} linked to a member; {cases:,} cases opened in the inbox",
        flush=True,
    )
    print(reference_line(), flush=True)
    if added != args.mentions:
        raise SystemExit(f"{args.mentions - added} mentions were not taken in")


if __name__ == "__main__":
    main()
