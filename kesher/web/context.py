"""Template context every page needs: text direction and the other language to switch to."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import get_language, get_language_bidi


def kesher(request: HttpRequest) -> dict[str, object]:
    language = get_language() or "he"
    return {
        "text_direction": "rtl" if get_language_bidi() else "ltr",
        "other_language": "en" if language.startswith("he") else "he",
    }
