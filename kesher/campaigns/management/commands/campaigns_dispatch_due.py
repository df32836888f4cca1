"""Hand over messages held for quiet hours or a retry whose time has come, and decide A/B tests whose wait
is over. Celery beat runs both every few minutes; in the embedded mode (no broker, no beat) run this from
cron."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kesher.campaigns.services import ab_tests_decide, messages_dispatch_due


class Command(BaseCommand):
    help = "Send the campaign messages that were waiting (quiet hours, retries) and decide due A/B tests."

    def handle(self, *args: Any, **options: Any) -> None:
        count = messages_dispatch_due()
        self.stdout.write(f"{count} messages handed over")
        decided = ab_tests_decide()
        if decided:
            self.stdout.write(f"{decided} A/B tests decided")
