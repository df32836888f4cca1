"""Domain errors. Services raise these; the API maps each to its HTTP status and JSON error body."""

from __future__ import annotations


class KesherError(Exception):
    """A refusal the caller can act on. `code` is stable and machine-readable."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class ValidationFailed(KesherError):
    status = 422
    code = "validation_error"


class NotFound(KesherError):
    status = 404
    code = "not_found"


class Conflict(KesherError):
    status = 409
    code = "conflict"


class InsufficientPoints(Conflict):
    code = "insufficient_points"


class PermissionDenied(KesherError):
    status = 403
    code = "forbidden"
