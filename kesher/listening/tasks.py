"""Background work of the listening part: polling the feeds and the brand's own parts (beat, `kesher tick`),
and running one connector at once ("run now")."""

from __future__ import annotations

from celery import shared_task

from kesher.brands.models import Brand
from kesher.listening.services.connectors import connector_run, connectors_poll


@shared_task(name="kesher.listening.tasks.listening_poll", ignore_result=True)
def listening_poll() -> dict[str, int]:
    """Every active feed and own-part connector from its cursor; safe to run twice (duplicates dropped)."""
    return connectors_poll()


@shared_task(name="kesher.listening.tasks.connector_run", ignore_result=True)
def connector_run_task(brand_id: str, connector_id: str) -> int:
    brand = Brand.objects.filter(pk=brand_id).first()
    if brand is None:
        return 0
    return connector_run(brand=brand, connector_id=connector_id).added
