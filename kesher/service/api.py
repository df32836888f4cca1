"""The service part's API calls, mounted at /api/v1 by kesher/api/api.py."""

from ninja import Router

router = Router()
