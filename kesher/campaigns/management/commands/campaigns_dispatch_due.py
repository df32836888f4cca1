"""Hand over messages held for quiet hours or a retry whose time has come. Celery beat runs this every
minute; in the embedded mode (no broker, no beat) run it from cron."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kesher.campaigns.services import messages_dispatch_due


class Command(BaseCommand):
    help = "Send the campaign messages that were waiting (quiet hours, retries) and are now due."

    def handle(self, *args: Any, **options: Any) -> None:
        count = messages_dispatch_due()
        self.stdout.write(f"{count} messages handed over")
