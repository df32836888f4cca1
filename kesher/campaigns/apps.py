from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "kesher.campaigns"
    label = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.campaigns import (
            activity_types,  # noqa: F401  (registers message_* types, conversions)
            journeys,  # noqa: F401  (registers the journeys' activity consumer)
        )
        from kesher.campaigns.selectors import segment_audience, segment_has_member
        from kesher.loyalty.services import segment_audience_install, segment_matcher_install

        # Earning rules may be limited to a saved segment, and surprises sent to one; segments live here.
        segment_matcher_install(segment_has_member)
        segment_audience_install(segment_audience)
        from kesher.campaigns import memberdata  # the privacy rights: download and erasure (issue 18)
        from kesher.members.hooks import on_member_erase, on_member_export

        on_member_export("campaigns", memberdata.member_campaigns_export)
        on_member_erase(memberdata.member_campaigns_erase)
        from kesher.campaigns import merging  # noqa: F401  (registers its part of merging duplicates)
