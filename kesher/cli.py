"""The `kesher` command: run the server and workers, set up brands and keys, load demo data, verify."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence

from kesher.customers.commands import commands_add
from kesher.listening.commands import commands_add as listening_commands_add
from kesher.recs.commands import commands_add as recs_commands_add


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def cmd_migrate(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1 if args.verbose else 0)
    print("database is up to date")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if args.demo_if_empty:
        from kesher.brands.models import Brand

        if not Brand.objects.exists():
            from kesher.demo import demo_load

            demo_load()
    base = f"http://{args.host}:{args.port}"
    print(f"Kesher is starting at {base}/")
    from kesher.brands.models import Brand

    print(f"  member portal   {base}/portal/")
    print(f"  cashier         {base}/cashier/")
    for brand in Brand.objects.order_by("name")[:5]:
        pages = f"console {base}/console/{brand.slug}/   community {base}/community/{brand.slug}/"
        print(f"  {brand.slug:<15} {pages}")
    print(f"  admin           {base}/admin/")
    print(f"  API docs        {base}/api/v1/docs   (OpenAPI: {base}/api/v1/openapi.json)")
    print(f"  health          {base}/healthz")
    from kesher.demo import DEMO_LOGINS, DEMO_PEOPLE

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") or args.demo_if_empty:
        print("Demo logins (password: {}):".format(DEMO_LOGINS["password"]))
        for (who, email), person in zip(DEMO_LOGINS["users"], DEMO_PEOPLE, strict=True):
            print(f"  {who:<24} {email:<38} {person.try_this}")
    sys.stdout.flush()
    # Granian: a Rust HTTP server with keep-alive that calls the WSGI application from its threads; per
    # request it cost a quarter less CPU than gunicorn's sync workers (measured: 1.5 against 2.1 ms for
    # a member read), which read and parse HTTP in Python and open a connection for every request.
    granian = shutil.which("granian") or os.path.join(os.path.dirname(sys.executable), "granian")
    argv = [
        granian,
        "--interface",
        "wsgi",
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--workers",
        str(args.workers),
        "--blocking-threads",
        str(args.threads),
        "--respawn-failed-workers",
        "--access-log" if args.access_log else "--no-access-log",
        "config.wsgi:application",
    ]
    os.execv(granian, argv)
    return 0  # not reached


def cmd_worker(args: argparse.Namespace) -> int:
    from config.celery import app

    argv = ["worker", "--loglevel", "INFO", "--concurrency", str(args.concurrency)]
    if args.beat:
        argv.append("--beat")
    app.worker_main(argv)
    return 0


def cmd_tick(args: argparse.Namespace) -> int:
    """Time-driven work, for cron in the embedded mode (Celery beat does it when a broker is configured):
    points (release, expiry, warnings, birthdays), held campaign messages, journeys, A/B decisions,
    community digests and badges, webhook deliveries due (retries), ideas past their stage's deadline,
    review requests due, prospects past their brand's retention, the listening connectors' new mentions.
    Each step is safe to run as often as cron likes."""
    from kesher.activity.tasks import outbox_relay
    from kesher.campaigns.tasks import ab_tests_decide_task, journeys_advance_task, messages_dispatch_due_task
    from kesher.community.tasks import badges_helpful_month_all, digest_send
    from kesher.ideas.tasks import ideas_expire_task
    from kesher.listening.tasks import listening_poll
    from kesher.loyalty.tasks import loyalty_tick, tiers_review_all
    from kesher.privacy.tasks import retention_run_all_task
    from kesher.reviews.tasks import review_requests_daily
    from kesher.webhooks.tasks import webhooks_dispatch_task

    done = loyalty_tick()
    done["messages_handed_over"] = messages_dispatch_due_task()
    done["journey_steps"] = journeys_advance_task()
    done["ab_tests_decided"] = ab_tests_decide_task()
    done["digests_sent"] = digest_send()
    done["helpful_month_badges"] = badges_helpful_month_all()
    done["outbox_relayed"] = outbox_relay()
    done["webhooks_sent"] = webhooks_dispatch_task()
    done["ideas_expired"] = ideas_expire_task()
    done["review_requests_sent"] = sum(run["sent"] for run in review_requests_daily().values())
    done["prospects_erased"] = retention_run_all_task()
    done["mentions_taken_in"] = listening_poll()["added"]
    if args.tiers:
        done["tier_changes"] = tiers_review_all()
    if args.insights:
        from kesher.insights.services import insights_refresh_all

        done["insights_brands"] = insights_refresh_all()
    print(" ".join(f"{name}={value}" for name, value in done.items()))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from kesher.demo import demo_load

    demo_load(members_per_brand=args.members)
    return 0


def cmd_brand_create(args: argparse.Namespace) -> int:
    from kesher.brands.services import brand_create
    from kesher.core.errors import KesherError

    try:
        brand = brand_create(slug=args.slug, name=args.name, default_locale=args.locale)
    except KesherError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"brand {brand.slug} created ({brand.id})")
    return 0


def cmd_apikey_create(args: argparse.Namespace) -> int:
    from kesher.brands.selectors import brand_get
    from kesher.brands.services import api_key_create
    from kesher.core.errors import KesherError

    try:
        issued = api_key_create(
            brand=brand_get(slug=args.brand),
            scope=args.scope,
            name=args.name,
            rate_limit_per_minute=args.rate_limit,
        )
    except KesherError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"API key for {args.brand} with scope {args.scope}; it is shown only now:")
    print(issued.raw_key)
    return 0


def cmd_apikey_revoke(args: argparse.Namespace) -> int:
    from kesher.brands.models import ApiKey
    from kesher.brands.services import api_key_revoke

    api_key = ApiKey.objects.filter(prefix=args.prefix).first()
    if api_key is None:
        print(f"error: no key with prefix {args.prefix}", file=sys.stderr)
        return 1
    api_key_revoke(api_key=api_key)
    print(f"key {args.prefix} revoked")
    return 0


def cmd_ledger_verify(args: argparse.Namespace) -> int:
    from kesher.brands.selectors import brand_get
    from kesher.loyalty.services import ledger_verify

    brand = brand_get(slug=args.brand) if args.brand else None
    breaches = ledger_verify(brand=brand)
    for line in breaches:
        print(f"BREACH {line}")
    if breaches:
        print(f"ledger verify: {len(breaches)} breaches", file=sys.stderr)
        return 1
    print("ledger verify: every invariant holds")
    return 0


def cmd_login_locked(args: argparse.Namespace) -> int:
    from kesher.members.lockout import locks_list

    locks = locks_list()
    for lock in locks:
        when = f"{lock.last_attempt:%Y-%m-%d %H:%M}"
        print(f"{lock.login or '-':<40} {lock.address or '-':<40} {lock.failures:>4} {when}")
    print(f"{len(locks)} logins or addresses with wrong passwords counted now")
    return 0


def cmd_login_unlock(args: argparse.Namespace) -> int:
    from kesher.core.audit import SYSTEM
    from kesher.members.lockout import lock_release

    if not args.login and not args.address:
        print("error: name a login (--login) or an address (--address)", file=sys.stderr)
        return 1
    removed = lock_release(login=args.login, address=args.address, actor=SYSTEM)
    print(f"unlocked: {removed} counted attempts removed")
    return 0


def cmd_insights_clv_fit(args: argparse.Namespace) -> int:
    import json

    import pandas as pd

    from kesher.core.errors import KesherError
    from kesher.insights.clv import clv_fit

    try:
        frame = pd.read_csv(args.file)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    frame.columns = [str(name).strip() for name in frame.columns]
    try:
        print(json.dumps(clv_fit(frame=frame)))
    except KesherError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


def cmd_insights_refresh(args: argparse.Namespace) -> int:
    from kesher.insights.services import insights_refresh_all

    print(f"insights recomputed for {insights_refresh_all()} brands")
    return 0


def cmd_privacy_retention(args: argparse.Namespace) -> int:
    from kesher.brands.models import Brand
    from kesher.privacy.services import retention_run, retention_run_all

    if args.brand:
        brand = Brand.objects.filter(slug=args.brand).first()
        if brand is None:
            print(f"no brand {args.brand!r}", file=sys.stderr)
            return 2
        results = [retention_run(brand=brand, dry_run=args.dry_run)]
    else:
        results = retention_run_all(dry_run=args.dry_run)
    for result in results:
        if result.days is None:
            print(f"{result.brand.slug}: keeps prospects (no retention period set)")
        elif args.dry_run:
            print(
                f"{result.brand.slug}: {len(result.due)} prospects older than {result.days} days "
                "would be erased"
            )
        else:
            print(f"{result.brand.slug}: {result.erased} prospects older than {result.days} days erased")
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kesher", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kesher", description="Kesher customer club")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("migrate", help="bring the database schema up to date")
    p.add_argument("--verbose", action="store_true")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("run", help="serve Kesher with granian (WSGI)")
    p.add_argument("--host", default=os.environ.get("KESHER_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.add_argument(
        "--workers",
        type=int,
        # one a core, at most 4: each thread of each worker holds a database connection
        default=int(os.environ.get("KESHER_WEB_WORKERS", str(min(os.cpu_count() or 2, 4)))),
        help="worker processes (default: one a core, at most 4; KESHER_WEB_WORKERS)",
    )
    p.add_argument(
        "--threads",
        type=int,
        # Two: more threads in one process queue for its interpreter lock. Measured on 2 cores with 8
        # clients, 2 workers x 2 threads against x 4: member reads 0.60 against 0.67 ms of CPU each and
        # p99 7 against 10 ms; single activities the same within noise.
        default=int(os.environ.get("KESHER_WEB_THREADS", "2")),
        help="threads a worker runs requests in (default 2; KESHER_WEB_THREADS)",
    )
    p.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=os.environ.get("KESHER_ACCESS_LOG", "1") not in ("0", "false", "no"),
        help="one line a request on standard output (default on; KESHER_ACCESS_LOG=0 turns it off)",
    )
    p.add_argument("--demo-if-empty", action="store_true", help="load the demo brands into an empty database")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("worker", help="run a Celery worker (needs KESHER_BROKER_URL)")
    p.add_argument("--concurrency", type=int, default=2)
    p.add_argument("--beat", action="store_true", help="also run the scheduler (one worker only)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("tick", help="run due time-driven work once: pending points, expiry, reminders")
    p.add_argument("--tiers", action="store_true", help="also review tiers (downgrades at the period end)")
    p.add_argument(
        "--insights", action="store_true", help="also recompute insights (nightly: RFM, CLV models)"
    )
    p.set_defaults(func=cmd_tick)

    p = sub.add_parser("demo", help="load the demo brands")
    p.add_argument("--members", type=int, default=250, help="members per brand")
    p.set_defaults(func=cmd_demo)

    brand = sub.add_parser("brand", help="brands").add_subparsers(dest="action", required=True)
    p = brand.add_parser("create")
    p.add_argument("--slug", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--locale", default="he", choices=["he", "en"])
    p.set_defaults(func=cmd_brand_create)

    apikey = sub.add_parser("apikey", help="API keys").add_subparsers(dest="action", required=True)
    p = apikey.add_parser("create")
    p.add_argument("--brand", required=True)
    p.add_argument("--scope", required=True, choices=["pos", "manage", "all"])
    p.add_argument("--name", default="")
    p.add_argument("--rate-limit", type=int, default=None, help="requests per minute (default: the brand's)")
    p.set_defaults(func=cmd_apikey_create)
    p = apikey.add_parser("revoke")
    p.add_argument("--prefix", required=True)
    p.set_defaults(func=cmd_apikey_revoke)

    ledger = sub.add_parser("ledger", help="points ledger").add_subparsers(dest="action", required=True)
    p = ledger.add_parser("verify", help="check every ledger invariant; exits 1 on a breach")
    p.add_argument("--brand")
    p.set_defaults(func=cmd_ledger_verify)

    login = sub.add_parser("login", help="sign-in lock-outs").add_subparsers(dest="action", required=True)
    p = login.add_parser("locked", help="logins and addresses with wrong passwords counted now")
    p.set_defaults(func=cmd_login_locked)
    p = login.add_parser("unlock", help="end a sign-in lock now (audited)")
    p.add_argument("--login", help="the email or username")
    p.add_argument("--address", help="the IP address; with --login, only that login from it")
    p.set_defaults(func=cmd_login_unlock)

    insights = sub.add_parser("insights", help="insights").add_subparsers(dest="action", required=True)
    p = insights.add_parser(
        "clv-fit", help="fit BG/NBD (and Gamma-Gamma) to a CSV: frequency, recency, T[, monetary_value]"
    )
    p.add_argument("file")
    p.set_defaults(func=cmd_insights_clv_fit)
    p = insights.add_parser("refresh", help="recompute every brand's insights now (the nightly task)")
    p.set_defaults(func=cmd_insights_refresh)

    privacy = sub.add_parser("privacy", help="privacy rights").add_subparsers(dest="action", required=True)
    p = privacy.add_parser("retention", help="erase prospects kept past their brand's retention period")
    p.add_argument("--brand", help="one brand's slug (default: every brand with a period set)")
    p.add_argument("--dry-run", action="store_true", help="only count who is due")
    p.set_defaults(func=cmd_privacy_retention)
    commands_add(sub)  # kesher import, kesher dedupe (kesher/customers/commands.py)
    listening_commands_add(sub)  # kesher sentiment [evaluate|train] (kesher/listening/commands.py)
    recs_commands_add(sub)  # kesher recs train|evaluate|generate (kesher/recs/commands.py)

    p = sub.add_parser("manage", help="any Django management command")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _django()
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
