from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "kesher.community"
    label = "community"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.brands.hooks import on_brand_created
        from kesher.community import types  # noqa: F401  (registers the community's activity types)
        from kesher.community.services import community_install_defaults

        on_brand_created(community_install_defaults)  # every new brand gets its settings and a Q&A space
        from kesher.community import memberdata  # the privacy rights: download and erasure (issue 18)
        from kesher.members.hooks import on_member_erase, on_member_export

        on_member_export("community", memberdata.member_community_export)
        on_member_erase(memberdata.member_community_erase)
        from kesher.community import merging  # noqa: F401  (registers its part of merging duplicates)
