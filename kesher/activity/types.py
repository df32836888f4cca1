"""The built-in activity types. Community, feedback and campaign parts add theirs beside these."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kesher.activity.registry import activity_type
from kesher.core.limits import MAX_MONEY, MAX_QUANTITY, MONEY_DIGITS, MONEY_PLACES

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Money = Annotated[Decimal, Field(ge=0, le=MAX_MONEY, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)]
Amount = Annotated[Decimal, Field(gt=0, le=MAX_MONEY, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Item(Strict):
    sku: Text
    name: Text | None = None
    category: Text | None = None
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)] = 1
    unit_price: Money | None = None


@activity_type("purchase", description="A purchase in a store, online or in the app")
class Purchase(Strict):
    amount: Amount
    currency: Currency = "ILS"
    store: Text | None = None
    channel: Literal["store", "online", "app"] = "store"
    order_id: Text | None = None
    items: Annotated[list[Item], Field(max_length=500)] = []


@activity_type("return", description="Goods returned; refers to its purchase and takes back its points")
class Return(Strict):
    purchase_id: Text = Field(description="The id of the purchase activity being returned")
    amount: Amount | None = Field(default=None, description="Refunded amount; the whole purchase when absent")
    currency: Currency = "ILS"
    store: Text | None = None


@activity_type("visit", description="A visit to a store (a check-in)")
class Visit(Strict):
    store: Text


@activity_type("signup", description="The member joined the club")
class Signup(Strict):
    referral_code: Text | None = None


@activity_type("social_share", description="The member shared something on a social network")
class SocialShare(Strict):
    network: Literal["facebook", "instagram", "whatsapp", "x", "tiktok", "linkedin", "telegram", "other"]
    url: Annotated[str, StringConstraints(max_length=2000)] | None = None


@activity_type("referral", description="A friend the member referred made their first purchase")
class Referral(Strict):
    referred_member_id: Text
    side: Literal["referrer", "friend"] = "referrer"


@activity_type("birthday", description="The member's birthday came (emitted by the scheduler)")
class Birthday(Strict):
    year: Annotated[int, Field(ge=1900, le=2200)]
