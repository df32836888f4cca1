from django.contrib import admin

from kesher.brands.admin_scoping import BrandScopedAdmin
from kesher.brands.models import ApiKey, Brand, StaffMembership


@admin.register(Brand)
class BrandAdmin(BrandScopedAdmin):
    brand_field = "pk"
    list_display = ["name", "slug", "default_locale", "currency", "time_zone"]
    search_fields = ["name", "slug"]
    # The look is changed on the console's page (/console/<brand>/brand/), where contrast and images are
    # checked and the change audited; here it is only shown.
    readonly_fields = ["slug", "primary_color", "accent_color", "logo", "favicon", "domain"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return bool(request.user.is_superuser)  # brands are created with `kesher brand create`


@admin.register(StaffMembership)
class StaffMembershipAdmin(BrandScopedAdmin):
    list_display = ["user", "brand", "role", "created_at"]
    list_filter = ["role"]


@admin.register(ApiKey)
class ApiKeyAdmin(BrandScopedAdmin):
    read_only = True
    list_display = ["prefix", "brand", "name", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope"]
    exclude = ["key_hash"]
