from django.contrib import admin

from kesher.activity.models import Activity
from kesher.brands.admin_scoping import BrandScopedAdmin


@admin.register(Activity)
class ActivityAdmin(BrandScopedAdmin):
    read_only = True
    list_display = ["occurred_at", "brand", "type", "member", "source", "points_awarded"]
    list_filter = ["type", "source"]
    list_select_related = ["brand", "member"]
