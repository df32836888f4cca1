from django.apps import AppConfig


class ListeningConfig(AppConfig):
    name = "kesher.listening"
    label = "listening"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.listening.services.member_data import (
            listening_member_erase,
            listening_member_export,
            listening_members_merge,
        )
        from kesher.members.hooks import on_member_erase, on_member_export, on_members_merge

        on_member_export("listening", listening_member_export)
        on_member_erase(listening_member_erase)
        on_members_merge(listening_members_merge)
