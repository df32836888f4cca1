"""Rendered community pages kept in Django's cache for anonymous readers, invalidated by versions.

Every write to a thread moves three versions on commit: the question's, its space's and the brand's.
A cached page's key holds the versions it was rendered under, so a change shows on the next request.
The CSRF token in a cached page is a placeholder swapped for the reader's own token when served.
Signed-in readers get no shared page, but the question page's posts are kept under the same versions
(see fragments.py). The versions live in the "default" cache, which every process shares (Redis, or the
embedded mode's file cache); the rendered pages live in "pages", which may be each process's own: a page
is found only under the versions it was rendered with, so no process serves one older than a change.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

# Long enough to matter, short enough that a missed version bump heals by itself.
PAGE_TIMEOUT = 10 * 60
CSRF_PLACEHOLDER = "kesher-community-csrf-placeholder"


def _fresh() -> str:
    return f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"


def _version_key(scope: str, ident: Any) -> str:
    return f"community:ver:{scope}:{ident}"


def versions_bump(*, question_id: Any = None, space_id: Any = None, brand_id: Any = None) -> None:
    """Move the versions of what changed, once the change is committed (a rollback changes nothing)."""
    keys = [
        _version_key(scope, ident)
        for scope, ident in (("q", question_id), ("s", space_id), ("b", brand_id))
        if ident is not None
    ]

    def bump() -> None:
        # A fresh value, not an increment: a bump never collides with a version seen before.
        cache.set_many(dict.fromkeys(keys, _fresh()), timeout=None)

    # Now, so this transaction's own later reads miss; and after commit, so a page rendered by another
    # reader between the two (still showing the old rows) is never served under the final version.
    bump()
    transaction.on_commit(bump)


def thread_changed(post: Any) -> None:
    """Anything on a question's page changed (a post, a vote, an acceptance, a moderation action)."""
    versions_bump(
        question_id=getattr(post, "question_id", None) or post.pk,
        space_id=post.space_id,
        brand_id=post.brand_id,
    )


def versioned_digest(where: str, scopes: list[tuple[str, Any]]) -> str:
    """A key part for something rendered under the current versions of `scopes` (set when missing)."""
    version_keys = [_version_key(scope, ident) for scope, ident in scopes]
    versions = cache.get_many(version_keys)
    missing = {key: _fresh() for key in version_keys if key not in versions}
    if missing:
        for key, value in missing.items():
            cache.add(key, value, timeout=None)
        versions = cache.get_many(version_keys)
    return hashlib.sha256(
        "|".join([where, *(str(versions.get(key)) for key in version_keys)]).encode()
    ).hexdigest()[:32]


def may_cache_fragments() -> bool:
    """Rendered posts are kept for every reader unless the page cache is switched off (tests, benchmarks)."""
    return bool(getattr(settings, "COMMUNITY_PAGE_CACHE", True))


def may_cache(request: HttpRequest) -> bool:
    """Only anonymous readers with no pending one-time messages get the shared page."""
    return (
        getattr(settings, "COMMUNITY_PAGE_CACHE", True)
        and request.method == "GET"
        and not request.user.is_authenticated
        and "messages" not in request.COOKIES
    )


def cached_page(
    request: HttpRequest,
    *,
    name: str,
    scopes: list[tuple[str, Any]],
    render_page: Callable[[dict[str, Any]], HttpResponse],
) -> HttpResponse:
    """Serve the page from the cache when its versions still hold, else render it and keep it.

    `render_page` receives extra context (the CSRF placeholder) and returns a rendered response; only
    a 200 answer is kept.
    """
    where = f"{request.get_host()}|{request.is_secure()}|{request.get_full_path()}|{get_language()}"
    page_key = f"community:page:{name}:{versioned_digest(where, scopes)}"
    kept = caches["pages"].get(page_key)
    if kept is None:
        response = render_page({"csrf_token": CSRF_PLACEHOLDER})
        if response.status_code != 200 or response.streaming:
            return response
        kept = (response.content.decode(response.charset), response["Content-Type"])
        caches["pages"].set(page_key, kept, timeout=PAGE_TIMEOUT)
        state = "miss"
    else:
        state = "hit"
    body, content_type = kept
    response = HttpResponse(body.replace(CSRF_PLACEHOLDER, get_token(request)), content_type=content_type)
    response["X-Community-Cache"] = state
    return response
