"""The campaigns part's API router, mounted under /api/v1/campaigns."""

from ninja import Router

router = Router()
