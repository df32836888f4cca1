"""The Django admin for brand owners: each owner sees and edits only their own brands' rows."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from kesher.brands.models import Brand, StaffMembership, StaffRole
from kesher.core.audit import Actor, audit_record


def owned_brand_ids(request: HttpRequest) -> set[Any]:
    cached = getattr(request, "_owned_brand_ids", None)
    if cached is None:
        cached = set(
            StaffMembership.objects.filter(user_id=request.user.pk or 0, role=StaffRole.OWNER).values_list(
                "brand_id", flat=True
            )
        )
        request._owned_brand_ids = cached  # type: ignore[attr-defined]
    return cached


class BrandScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Superusers see everything; an owner sees rows of the brands they own, nothing else."""

    brand_field = "brand"
    read_only = False

    def _scoped(self, request: HttpRequest) -> bool:
        return not request.user.is_superuser  # type: ignore[union-attr]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rows = super().get_queryset(request)
        if self._scoped(request):
            rows = rows.filter(**{f"{self.brand_field}__in": owned_brand_ids(request)})
        return rows

    def _may(self, request: HttpRequest, obj: Model | None) -> bool:
        if not self._scoped(request):
            return True
        owned = owned_brand_ids(request)
        if not owned:
            return False
        if obj is None:
            return True
        brand_id = getattr(obj, f"{self.brand_field}_id", None) if self.brand_field != "pk" else obj.pk
        return brand_id in owned

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may(request, None) and bool(request.user.is_staff)  # type: ignore[union-attr]

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._may(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not self.read_only and self._may(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not self.read_only and self._may(request, None)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not self.read_only and self._may(request, obj) and not self._scoped(request)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "brand" and self._scoped(request):
            kwargs["queryset"] = Brand.objects.filter(pk__in=owned_brand_ids(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        brand = obj if self.brand_field == "pk" else getattr(obj, self.brand_field)
        audit_record(
            brand=brand,
            actor=Actor(user=request.user),  # type: ignore[arg-type]
            action=f"admin.{'change' if change else 'add'}",
            target_type=obj._meta.model_name,
            target_id=obj.pk,
            data={"fields": sorted(form.changed_data)},
        )
