from django.contrib import admin

from kesher.core.admin_scoping import BrandScopedAdmin
from kesher.loyalty.models import Coupon, EarningRule, LedgerEntry, Reward, Store, Tier


@admin.register(EarningRule)
class EarningRuleAdmin(BrandScopedAdmin):
    list_display = ["name", "brand", "activity_type", "effect", "points", "active", "priority"]
    list_filter = ["activity_type", "active"]


@admin.register(Reward)
class RewardAdmin(BrandScopedAdmin):
    list_display = ["name", "brand", "kind", "cost_points", "stock", "active"]
    list_filter = ["kind", "active"]


@admin.register(Coupon)
class CouponAdmin(BrandScopedAdmin):
    read_only = True
    list_display = ["code", "brand", "member", "reward", "status", "issued_at", "expires_at", "used_at"]
    list_filter = ["status"]
    search_fields = ["code"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(BrandScopedAdmin):
    """Read-only: points change only through the services, which keep the ledger's invariants."""

    read_only = True
    list_display = ["created_at", "brand", "account", "kind", "points", "balance_after", "description"]
    list_filter = ["kind"]


@admin.register(Store)
class StoreAdmin(BrandScopedAdmin):
    """Stores and their check-in codes; the printable QR posters are at /cashier/stores/."""

    list_display = ["name", "brand", "code", "active"]
    list_filter = ["active"]


@admin.register(Tier)
class TierAdmin(BrandScopedAdmin):
    list_display = ["name", "brand", "threshold", "multiplier"]
