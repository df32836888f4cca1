"""WSGI entry point used by `kesher run` (granian)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()


def _settle() -> None:
    """Load the URL conf (and with it every view and API router) now, then move what is loaded out of the
    garbage collector's sight: it lives as long as the process, and each collection would walk it again."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - evaluated for its side effect of importing the views
    gc.freeze()


_settle()
