from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kesher.brands.admin_scoping import BrandScopedAdmin
from kesher.loyalty.models import Coupon, EarningRule, LedgerEntry, Reward, Store, Tier
from kesher.loyalty.services import rules_changed


class RulesChangedAdmin(BrandScopedAdmin):
    """Saving or deleting here changes how points are earned: the processes' cached rules are renewed."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        rules_changed(brand_id=obj.brand_id)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        rules_changed(brand_id=obj.brand_id)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        brand_ids = set(queryset.values_list("brand_id", flat=True))
        super().delete_queryset(request, queryset)
        for brand_id in brand_ids:
            rules_changed(brand_id=brand_id)


@admin.register(EarningRule)
class EarningRuleAdmin(RulesChangedAdmin):
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
class TierAdmin(RulesChangedAdmin):
    list_display = ["name", "brand", "threshold", "multiplier"]
