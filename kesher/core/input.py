"""The one rule for text that comes in, applied before any view (API and pages alike): no NUL, no other C0
control character (tab, newline and carriage return are allowed in bodies), no lone surrogate, Unicode
NFC, bounded lengths; and request bodies sent with `Transfer-Encoding: chunked` are read and bounded."""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.utils.translation import gettext as _

# A character PostgreSQL cannot store (NUL), a lone surrogate (no UTF-8 form), or a C0 control.
_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\ud800-\udfff]")  # query, path, headers: one line, no tab
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")  # bodies: \t \n \r allowed
# JSON escapes that may hide such a character (or non-ASCII to normalise) in an ASCII body.
_JSON_ESCAPE = re.compile(rb"\\[ubf]")

MAX_PARAM_CHARS = 2000  # one query parameter's value, the path, a header used as input
MAX_IDEMPOTENCY_KEY_CHARS = 255
API_PREFIX = "/api/"
TOO_LARGE = "The request body is larger than this server accepts"
JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class BadInput(Exception):
    def __init__(self, field: str | None, message: str, status: int = 422, code: str = "validation_error"):
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status
        self.code = code


def text_clean(value: str, *, field: str | None, multiline: bool = True, max_chars: int | None = None) -> str:
    """The text as it is kept: NFC. Refuses (BadInput naming the field) what the rule does not allow."""
    pattern = _CONTROL_IN_TEXT if multiline else _CONTROL_IN_LINE
    found = pattern.search(value)
    if found:
        raise BadInput(field, f"{field or 'the value'} contains a control character (U+{ord(found[0]):04X})")
    if max_chars is not None and len(value) > max_chars:
        raise BadInput(field, f"{field or 'the value'} is longer than {max_chars} characters")
    if value.isascii():
        return value
    return unicodedata.normalize("NFC", value)


def tree_clean(value: Any, path: str = "") -> Any:
    """Every string (keys too) in decoded JSON, cleaned by text_clean; `path` names the field
    (`attributes.items.0.name`)."""
    if isinstance(value, str):
        return text_clean(value, field=path or None)
    if isinstance(value, list):
        return [
            tree_clean(item, f"{path}.{index}" if path else str(index)) for index, item in enumerate(value)
        ]
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            name = f"{path}.{key}" if path else key
            cleaned[text_clean(key, field=name, multiline=False)] = tree_clean(item, name)
        return cleaned
    return value


def _query_clean(query: QueryDict, *, multiline: bool, max_chars: int | None) -> QueryDict | None:
    """A cleaned copy of a query or form QueryDict, or None when it is already clean."""
    changed = False
    cleaned = QueryDict(mutable=True)
    for key, values in query.lists():
        name = text_clean(key, field=key, multiline=False, max_chars=MAX_PARAM_CHARS)
        kept = [text_clean(v, field=key, multiline=multiline, max_chars=max_chars) for v in values]
        changed = changed or name != key or kept != values
        cleaned.setlist(name, kept)
    if not changed:
        return None
    cleaned._mutable = False
    return cleaned


def _read_chunked(request: HttpRequest) -> None:
    """A body sent in chunks has no Content-Length, so Django would read it as empty. Where the server says
    the input ends with the body (`wsgi.input_terminated`: granian, the test client), read it, bounded."""
    meta = request.META
    if "chunked" not in meta.get("HTTP_TRANSFER_ENCODING", "").lower() or meta.get("CONTENT_LENGTH"):
        return
    if not meta.get("wsgi.input_terminated"):
        raise BadInput(
            None, "Send a Content-Length: this server cannot read a chunked body", 411, "length_required"
        )
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = meta["wsgi.input"].read(limit + 1) if limit is not None else meta["wsgi.input"].read()
    if limit is not None and len(body) > limit:
        raise BadInput(None, TOO_LARGE, 413, "body_too_large")
    meta["CONTENT_LENGTH"] = str(len(body))
    request._stream = io.BytesIO(body)  # type: ignore[attr-defined]


def _media_type(request: HttpRequest) -> str:
    return request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()


def _check_api(request: HttpRequest) -> None:
    key = request.META.get("HTTP_IDEMPOTENCY_KEY")
    if key is not None:
        if not key.strip():
            raise BadInput("Idempotency-Key", "Idempotency-Key must not be empty")
        text_clean(key, field="Idempotency-Key", multiline=False, max_chars=MAX_IDEMPOTENCY_KEY_CHARS)
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    if int(request.META.get("CONTENT_LENGTH") or 0) == 0:
        return
    media = _media_type(request)
    if media not in JSON_TYPES and not media.endswith("+json"):
        raise BadInput(None, "Send the body as application/json", 415, "unsupported_media_type")
    try:
        body = request.body
    except RequestDataTooBig:
        raise BadInput(None, TOO_LARGE, 413, "body_too_large") from None
    if body.isascii() and not _JSON_ESCAPE.search(body):
        return  # nothing in it can be a control character or need normalising
    try:
        data = json.loads(body)
    except ValueError:
        return  # the API answers 400 malformed_json itself
    cleaned = tree_clean(data)
    if cleaned != data:
        request._body = json.dumps(cleaned, ensure_ascii=False).encode()  # type: ignore[attr-defined]


def _check_form(request: HttpRequest) -> None:
    if request.method != "POST" or _media_type(request) not in FORM_TYPES:
        return
    try:
        form = request.POST
    except RequestDataTooBig:
        raise BadInput(None, TOO_LARGE, 413, "body_too_large") from None
    cleaned = _query_clean(form, multiline=True, max_chars=None)
    if cleaned is not None:
        request._post = cleaned  # type: ignore[attr-defined]


def _check_location(request: HttpRequest) -> None:
    path = request.path_info
    normalised = text_clean(path, field="path", multiline=False, max_chars=MAX_PARAM_CHARS)
    if normalised is not path:
        request.path_info = normalised
        request.path = request.META.get("SCRIPT_NAME", "") + normalised
    query = request.META.get("QUERY_STRING", "")
    if query and (not query.isascii() or "%" in query or len(query) > MAX_PARAM_CHARS):
        cleaned = _query_clean(request.GET, multiline=False, max_chars=MAX_PARAM_CHARS)
        if cleaned is not None:
            request.GET = cleaned  # type: ignore[assignment]


class InputMiddleware:
    """Refuses what the rule does not allow before any view runs: 422 JSON naming the field in the API
    (415 for a body that is not JSON, 413 for a chunked body over the limit), 400 on pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        in_api = request.path_info.startswith(API_PREFIX)
        try:
            _read_chunked(request)
            _check_location(request)
            if in_api:
                _check_api(request)
            else:
                _check_form(request)
        except BadInput as refused:
            if in_api:
                error = {"code": refused.code, "message": refused.message, "field": refused.field}
                return JsonResponse({"error": error}, status=refused.status)
            if refused.status == 422:
                refused.status = 400
                text = _("This form has characters that cannot be kept, such as control characters.")
            elif refused.status == 413:
                text = _("What was sent is larger than this server accepts.")
            else:
                text = refused.message
            return HttpResponse(text, status=refused.status, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
