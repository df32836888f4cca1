"""Every write of the customers part: importing, finding duplicates, merging (one module each)."""

from kesher.customers.services.dedupe import duplicates_find, member_duplicates_check
from kesher.customers.services.importing import import_mapping_set, import_preview, import_run, import_start
from kesher.customers.services.merging import members_merge, merge_undo, pair_dismiss

__all__ = [
    "duplicates_find",
    "import_mapping_set",
    "import_preview",
    "import_run",
    "import_start",
    "member_duplicates_check",
    "merge_undo",
    "members_merge",
    "pair_dismiss",
]
