"""The insights part's API operations (mounted at /api/v1 by kesher/api/api.py)."""

from ninja import Router

router = Router()
