from django.apps import AppConfig


class MagazineConfig(AppConfig):
    name = "kesher.magazine"
    label = "magazine"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.magazine import memberdata, types  # noqa: F401  (types: the article_read activity)
        from kesher.members.hooks import on_member_erase, on_member_export, on_members_merge

        on_member_export("magazine", memberdata.magazine_member_export)
        on_member_erase(memberdata.magazine_member_erase)
        on_members_merge(memberdata.magazine_members_merge)
