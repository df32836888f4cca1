"""The listening part's writes. Other parts and the part's own edges import from here."""

from kesher.listening.services.connectors import (
    ConnectorMade,
    RunOutcome,
    SignatureRefused,
    connector_delete,
    connector_feed_add,
    connector_rotate,
    connector_run,
    connector_switch,
    connector_webhook_add,
    connectors_poll,
    webhook_receive,
)
from kesher.listening.services.ingest import (
    IngestResult,
    MentionIn,
    influence_of,
    mention_clean,
    mentions_ingest,
    priority_of,
)
from kesher.listening.services.uploads import csv_import, csv_upload, mapping_guess, upload_get

__all__ = [
    "ConnectorMade",
    "IngestResult",
    "MentionIn",
    "RunOutcome",
    "SignatureRefused",
    "connector_delete",
    "connector_feed_add",
    "connector_rotate",
    "connector_run",
    "connector_switch",
    "connector_webhook_add",
    "connectors_poll",
    "csv_import",
    "csv_upload",
    "influence_of",
    "mapping_guess",
    "mention_clean",
    "mentions_ingest",
    "priority_of",
    "upload_get",
    "webhook_receive",
]
