"""New coupon codes: twelve characters a cashier can read aloud, unique within the brand."""

from __future__ import annotations

import secrets
from typing import Any

from kesher.loyalty.models import Coupon

COUPON_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _new_coupon_code(brand_id: Any) -> str:
    while True:
        code = "".join(secrets.choice(COUPON_ALPHABET) for _ in range(12))
        if not Coupon.objects.filter(brand_id=brand_id, code=code).exists():
            return code
