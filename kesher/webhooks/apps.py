from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "kesher.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.core.events import on_event
        from kesher.members.hooks import on_member_erase, on_member_export, on_members_merge
        from kesher.webhooks.services import event_fan_out
        from kesher.webhooks.services.privacy import (
            member_deliveries_erase,
            member_deliveries_export,
            member_deliveries_merge,
        )

        # One delivery per endpoint hearing the event, written inside the announcing transaction.
        on_event(event_fan_out, in_transaction=True)
        on_member_export("webhooks", member_deliveries_export)
        on_member_erase(member_deliveries_erase)
        on_members_merge(member_deliveries_merge)
