from django.apps import AppConfig


class ListeningConfig(AppConfig):
    name = "kesher.listening"
    label = "listening"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.brands.hooks import on_brand_created
        from kesher.listening.services.member_data import (
            listening_member_erase,
            listening_member_export,
            listening_members_merge,
        )
        from kesher.listening.topics.services import topics_install_defaults
        from kesher.members.hooks import on_member_erase, on_member_export, on_members_merge

        on_brand_created(topics_install_defaults)  # every new brand listens for the five default topics
        on_member_export("listening", listening_member_export)
        on_member_erase(listening_member_erase)
        on_members_merge(listening_members_merge)
