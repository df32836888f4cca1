from django.contrib import admin

from kesher.brands.admin_scoping import BrandScopedAdmin
from kesher.core.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(BrandScopedAdmin):
    read_only = True
    list_display = [
        "created_at",
        "brand",
        "action",
        "target_type",
        "target_id",
        "actor_user",
        "actor_api_key",
    ]
    list_filter = ["action"]
    search_fields = ["target_id"]
