from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "kesher.insights"
    label = "insights"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.campaigns.lists import member_list_install
        from kesher.insights import services
        from kesher.members.hooks import on_member_erase, on_member_export, on_members_merge

        # Campaigns' segments may select the RFM named segments (a port campaigns keeps; it never imports us).
        member_list_install(services.RFM_LIST_SOURCE, services.rfm_list_query, services.rfm_list_names)
        on_member_export("insights", services.member_insights_export)
        on_member_erase(services.member_insights_erase)
        on_members_merge(services.members_insights_merge)
