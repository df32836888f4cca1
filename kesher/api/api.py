"""The NinjaAPI instance mounted at /api/v1/, with every domain router and uniform JSON errors."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError

from kesher.api.auth import ApiKeyAuth, RateLimited
from kesher.api.document import document_with_input_rule
from kesher.core.errors import KesherError

log = logging.getLogger(__name__)


class KesherAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        return document_with_input_rule(super().get_openapi_schema(**kwargs))


api = KesherAPI(
    title="Kesher API",
    version="1",
    description="Customer club API: members, activities, points, rewards and coupons. "
    "Authenticate with `Authorization: Bearer <key>`; send `Idempotency-Key` on every value-changing call.",
    auth=ApiKeyAuth(),
    urls_namespace="api-v1",
    docs_url="/docs",
    # Swagger UI would send the document's address to validator.swagger.io for a badge: nothing leaves.
    docs=Swagger(settings={"validatorUrl": None}),
    openapi_url="/openapi.json",
)


def _error(
    request: HttpRequest, status: int, code: str, message: str, field: str | None = None
) -> HttpResponse:
    return api.create_response(
        request, {"error": {"code": code, "message": message, "field": field}}, status=status
    )


@api.exception_handler(KesherError)
def on_kesher_error(request: HttpRequest, exc: KesherError) -> HttpResponse:
    response = _error(request, exc.status, exc.code, exc.message, exc.field)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    # ("body", "payload", "attributes", "amount") or ("query", "q"): the source and the body's parameter
    # name are dropped, not a field that happens to be called "body".
    location = [str(part) for part in first.get("loc", ())]
    if location[:1] and location[0] in ("body", "query", "path", "header", "cookie", "form"):
        location = location[1:]
        if location[:1] == ["payload"]:
            location = location[1:]
    field = ".".join(location) or None
    kind = first.get("type", "")
    if kind == "extra_forbidden":
        message = f"Unknown field {field!r}"
    elif kind == "missing":
        message = f"{field} is required"
    else:
        message = (
            f"{field}: {first.get('msg', 'invalid value')}" if field else first.get("msg", "invalid request")
        )
    return _error(request, 422, "validation_error", message, field)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(
        request,
        401,
        "unauthenticated",
        "Send a live API key as `Authorization: Bearer <key>`; this one is missing, unknown or revoked",
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = "malformed_json" if exc.status_code == 400 and "parse" in str(exc) else "http_error"
    message = "The request body is not valid JSON" if code == "malformed_json" else str(exc)
    return _error(request, exc.status_code, code, message)


@api.exception_handler(Http404)
def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", "Not found")


@api.exception_handler(DataError)
@api.exception_handler(OverflowError)
def on_out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A value the database cannot hold (a number past its column's range) that no schema bound caught:
    refused like any other bad input, and nothing was written (the transaction rolled back)."""
    log.warning("value out of the database's range: %s", exc)
    return _error(request, 422, "validation_error", "A value is out of the range this server can store")


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, "body_too_large", "The request body is larger than this server accepts")


def api_not_found(request: HttpRequest) -> HttpResponse:
    """A path under /api/ that no operation has (such as a campaign id that is not a UUID): the JSON error,
    not the pages' HTML 404."""
    return _error(request, 404, "not_found", "Not found")


def _mount() -> None:
    from kesher.activity.api import router as activity_router
    from kesher.brands.api import router as brand_router
    from kesher.campaigns.api import router as campaigns_router
    from kesher.community.api import router as community_router
    from kesher.customers.api import router as customers_router
    from kesher.ideas.api import router as ideas_router
    from kesher.insights.api import router as insights_router
    from kesher.listening.api import router as listening_router
    from kesher.loyalty.api import router as loyalty_router
    from kesher.magazine.api import router as magazine_router
    from kesher.members.api import router as members_router
    from kesher.privacy.api import router as privacy_router
    from kesher.recs.api import router as recs_router
    from kesher.reviews.api import router as reviews_router
    from kesher.service.api import router as service_router
    from kesher.surveys.api import router as surveys_router
    from kesher.webhooks.api import router as webhooks_router

    # Before members: its /members/{member_id} would otherwise answer POST /members/merge with a 405.
    api.add_router("/", customers_router, tags=["customers"])
    api.add_router("/members", members_router, tags=["members"])
    api.add_router("/activities", activity_router, tags=["activities"])
    api.add_router("/", loyalty_router, tags=["loyalty"])
    api.add_router("/community", community_router, tags=["community"])
    api.add_router("/campaigns", campaigns_router, tags=["campaigns"])
    api.add_router("/magazine", magazine_router, tags=["magazine"])
    api.add_router("/brand", brand_router, tags=["brand"])
    api.add_router("/", reviews_router, tags=["reviews"])
    api.add_router("/", ideas_router, tags=["ideas"])
    api.add_router("/", surveys_router, tags=["surveys"])
    api.add_router("/", insights_router, tags=["insights"])
    api.add_router("/", privacy_router, tags=["privacy"])
    api.add_router("/", webhooks_router, tags=["webhooks"])
    api.add_router("/", service_router, tags=["service"])
    api.add_router("/", listening_router, tags=["listening"])
    api.add_router("/", recs_router, tags=["recommendations"])


_mount()
