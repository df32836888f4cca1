from typing import Any

from axes.models import AccessAttempt
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kesher.brands.admin_scoping import BrandScopedAdmin
from kesher.core.audit import Actor
from kesher.members.lockout import lock_release
from kesher.members.models import ConsentEvent, Member
from kesher.members.services import birthday_keys


class ConsentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ConsentEvent
    extra = 0
    can_delete = False
    readonly_fields = ["channel", "granted", "source", "wording", "origin", "occurred_at"]
    exclude = ["brand"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # consent changes go through the member's own choice or the API, which audit them


@admin.register(Member)
class MemberAdmin(BrandScopedAdmin):
    list_display = ["__str__", "brand", "email", "phone", "status", "card_number", "joined_at"]
    list_filter = ["status", "locale"]
    search_fields = ["first_name", "last_name", "email", "phone", "card_number", "external_id"]
    readonly_fields = ["card_number", "referral_code", "consent_email", "consent_sms", "consent_push", "user"]
    exclude = ["referred_by"]
    inlines = [ConsentInline]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        # The birthday keys go with the birthday wherever it is written, the admin included.
        for name, value in birthday_keys(obj.birthday).items():
            setattr(obj, name, value)
        super().save_model(request, obj, form, change)


@admin.register(AccessAttempt)
class LockedSignInAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Locked sign-ins (django-axes' counted attempts), for the installation's admins only: they are not
    any one brand's rows. Unlocking goes through the audited service, never a plain delete."""

    list_display = ["username", "ip_address", "failures_since_start", "attempt_time", "path_info"]
    search_fields = ["username", "ip_address"]
    ordering = ["-attempt_time"]
    fields = ["username", "ip_address", "failures_since_start", "attempt_time", "path_info"]
    readonly_fields = ["username", "ip_address", "failures_since_start", "attempt_time", "path_info"]
    actions = ["unlock"]

    def _installation_admin(self, request: HttpRequest) -> bool:
        return bool(getattr(request.user, "is_superuser", False))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._installation_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._installation_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> Any:
        # Django drops actions a user may not delete with; unlocking needs only the view right here.
        actions = super().get_actions(request)
        return actions if self._installation_admin(request) else {}

    @admin.action(description=_("Unlock the selected sign-ins"))
    def unlock(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        removed = 0
        for login, address in set(queryset.values_list("username", "ip_address")):
            removed += lock_release(login=login, address=address, actor=Actor(user=request.user))  # type: ignore[arg-type]
        self.message_user(request, _("Unlocked: %(count)d counted attempts removed.") % {"count": removed})
