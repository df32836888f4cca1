"""The community part's API router, mounted under /api/v1/community."""

from ninja import Router

router = Router()
