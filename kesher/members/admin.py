from django.contrib import admin

from kesher.brands.admin_scoping import BrandScopedAdmin
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
