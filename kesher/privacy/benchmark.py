"""Privacy speed benchmark: what logging a staff look costs, and a member's full download.

    KESHER_DATABASE_URL=postgresql://.../kesher_bench_privacy \
        python -m kesher.privacy.benchmark [--looks 5000]

Makes a brand "bench-privacy" with one member who has a purchase (once; later runs reuse it),
then times `access_record` (one insert per look, as the console page, the counter and the export write it)
and `member_data_export` (every part's exporter).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--looks", type=int, default=5000)
    parser.add_argument("--exports", type=int, default=200)
    args = parser.parse_args()
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from kesher.activity.services import activity_record
    from kesher.brands.models import Brand
    from kesher.brands.services import brand_create
    from kesher.core.audit import Actor
    from kesher.members.services import member_create
    from kesher.privacy.services import access_record, member_data_export

    call_command("migrate", interactive=False, verbosity=0)
    brand = Brand.objects.filter(slug="bench-privacy").first() or brand_create(
        slug="bench-privacy", name="Bench"
    )
    member = brand.members.first() or member_create(
        brand=brand, email="bench@example.org", first_name="Bench"
    )
    if not member.activities.filter(type="purchase").exists():
        activity_record(brand=brand, member=member, type="purchase", attributes={"amount": "50.00"})
    user = get_user_model().objects.filter(
        username="bench-staff"
    ).first() or get_user_model().objects.create_user(username="bench-staff", email="staff@example.org")
    actor = Actor(user=user)
    started = time.perf_counter()
    for _ in range(args.looks):
        access_record(brand=brand, actor=actor, member_id=member.pk, kind="console")
    per_look = (time.perf_counter() - started) / args.looks * 1000
    timings = []
    for _ in range(args.exports):
        one = time.perf_counter()
        member_data_export(member=member)
        timings.append((time.perf_counter() - one) * 1000)
    timings.sort()
    print(f"access log write: {per_look:.3f} ms per look ({args.looks} looks, autocommit)")
    print(
        f"member export: p50 {statistics.median(timings):.2f} ms, "
        f"p95 {timings[int(len(timings) * 0.95) - 1]:.2f} ms ({args.exports} exports)"
    )


if __name__ == "__main__":
    main()
