"""Draw the README's portal screenshots: the Hebrew portal (portal-he.png) and the English one
(portal-en.png), each at desktop and phone width side by side.

Run from the repository root:  .venv/bin/python docs/screenshots/make.py
It builds a throw-away SQLite database with one café member and one outdoor-shop member, serves the app on
a free local port, signs each member in through the login form and photographs the portal with Debian's
chromium (Playwright). Nothing outside a temporary folder and docs/screenshots/ is touched.
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
import threading
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "kesher-screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _prepare_django(var_dir: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "KESHER_VAR_DIR": var_dir,
            "KESHER_DEBUG": "true",  # plain static file names, served from the app folders
            "KESHER_LOG_LEVEL": "WARNING",
            "KESHER_EMAIL_URL": "locmem://",
            # Playwright's sync API keeps an event loop in this thread; the ORM calls here are sync code.
            "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _user(email: str, first_name: str) -> Any:
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        username=email, email=email, password=PASSWORD, first_name=first_name
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def _program(brand: Any) -> None:
    """Purchase points wait 14 days for returns and expire a year after earning: the portal shows both."""
    from kesher.core.audit import SYSTEM
    from kesher.loyalty.services import program_update

    program_update(
        brand=brand, changes={"pending_days": 14, "expiry": "days", "expiry_value": 365}, actor=SYSTEM
    )


def _purchases(brand: Any, member: Any, receipts: list[tuple[int, str, str]]) -> None:
    from django.utils import timezone

    from kesher.activity.services import activity_record

    now = timezone.now()
    for days_ago, amount, store in receipts:
        activity_record(
            brand=brand,
            member=member,
            type="purchase",
            source="pos",
            occurred_at=now - timedelta(days=days_ago),
            attributes={"amount": amount, "currency": brand.currency, "store": store},
            idempotency_key=f"{member.pk}-{days_ago}",
        )


def _seed() -> None:
    from kesher.brands.services import brand_create
    from kesher.loyalty.services import redemption_create, reward_create
    from kesher.members.services import member_create

    cafe = brand_create(slug="shahar", name="קפה שחר", default_locale="he")
    _program(cafe)
    coffee = reward_create(
        brand=cafe, name="קפה הפוך חינם", cost_points=60, kind="free_item", value=Decimal(14)
    )
    reward_create(
        brand=cafe, name="10% הנחה על פולי קפה", cost_points=120, kind="discount_percent", value=Decimal(10)
    )
    reward_create(brand=cafe, name="סדנת לאטה ארט", cost_points=900, kind="experience", stock=12)
    noa = member_create(
        brand=cafe, email="noa@example.org", phone="050-1234567", first_name="נועה", last_name="כהן"
    )
    _purchases(
        cafe,
        noa,
        [
            (358, "64.00", "תל אביב – דיזנגוף"),
            (120, "118.50", "ירושלים – עמק רפאים"),
            (41, "236.00", "חיפה – המושבה הגרמנית"),
            (3, "42.00", "תל אביב – דיזנגוף"),
        ],
    )
    redemption_create(member=noa, reward=coffee)
    _user("noa@example.org", "נועה")

    shop = brand_create(slug="northwind", name="Northwind Outfitters", default_locale="en")
    _program(shop)
    socks = reward_create(
        brand=shop, name="Merino socks", cost_points=150, kind="free_item", value=Decimal(19)
    )
    reward_create(
        brand=shop, name="$10 off your next order", cost_points=250, kind="discount_fixed", value=Decimal(10)
    )
    reward_create(brand=shop, name="Guided weekend hike", cost_points=1500, kind="experience", stock=20)
    emma = member_create(
        brand=shop, email="emma@example.org", phone="+1 617 555 0134", first_name="Emma", last_name="Walker"
    )
    _purchases(
        shop,
        emma,
        [
            (355, "249.00", "Boston Downtown"),
            (96, "159.00", "Online"),
            (20, "39.00", "Portland Pearl"),
            (2, "19.00", "Online"),
        ],
    )
    redemption_create(member=emma, reward=socks)
    _user("emma@example.org", "Emma")


def _serve() -> tuple[str, Any]:
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def _portal_shots(browser: Any, base: str, email: str, locale: str) -> tuple[bytes, bytes]:
    context = browser.new_context(locale=locale, viewport=DESKTOP, base_url=base)
    context.add_cookies([{"name": "django_language", "value": locale[:2], "url": base}])
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', PASSWORD)
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto("/portal/")
    desktop = page.screenshot(full_page=True)
    page.set_viewport_size(PHONE)
    phone = page.screenshot(full_page=False)
    context.close()
    return desktop, phone


COMPOSE = """<!doctype html><html><head><style>
body {{ margin: 0; background: linear-gradient(160deg, #e2e8f0, #cbd5e1); }}
.stage {{ display: inline-flex; gap: 36px; align-items: flex-start; padding: 36px; }}
.desktop {{ width: 1280px; border-radius: 14px; overflow: hidden; box-shadow: 0 20px 50px rgb(15 23 42 / .28);
  background: #fff; }}
.desktop .bar {{ height: 30px; background: #e5e7eb; display: flex; gap: 8px; align-items: center;
  padding: 0 14px; }}
.desktop .bar i {{ width: 11px; height: 11px; border-radius: 50%; background: #cbd5e1; display: block; }}
.desktop img {{ display: block; width: 1280px; max-height: 1180px; object-fit: cover; object-position: top; }}
.phone {{ width: 414px; padding: 12px; border-radius: 46px; background: #111827;
  box-shadow: 0 20px 50px rgb(15 23 42 / .35); }}
.phone img {{ display: block; width: 390px; border-radius: 34px; }}
</style></head><body><div class="stage">
<div class="desktop"><div class="bar"><i></i><i></i><i></i></div>
<img src="data:image/png;base64,{desktop}"></div>
<div class="phone"><img src="data:image/png;base64,{phone}"></div>
</div></body></html>"""


def _compose(browser: Any, desktop: bytes, phone: bytes, path: Path) -> None:
    page = browser.new_page(viewport={"width": 1800, "height": 1000})
    page.set_content(
        COMPOSE.format(desktop=base64.b64encode(desktop).decode(), phone=base64.b64encode(phone).decode())
    )
    page.wait_for_load_state("load")
    page.locator(".stage").screenshot(path=str(path))
    page.close()


def main() -> int:
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is not installed (Debian package chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="kesher-shots-") as var_dir:
        _prepare_django(var_dir)
        _seed()
        base, server = _serve()
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for email, locale, name in [
                    ("noa@example.org", "he-IL", "portal-he.png"),
                    ("emma@example.org", "en-US", "portal-en.png"),
                ]:
                    desktop, phone = _portal_shots(browser, base, email, locale)
                    _compose(browser, desktop, phone, OUT / name)
                    print(f"wrote {OUT / name}")
                browser.close()
        finally:
            server.shutdown()
            server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
