from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "kesher.reviews"
    label = "reviews"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kesher.members.hooks import on_member_erase, on_member_export, on_members_merge
        from kesher.reviews import types  # noqa: F401  (registers the activity types and review.published)
        from kesher.reviews.services import member_reviews_erase, member_reviews_export, members_reviews_merge

        on_member_export("reviews", member_reviews_export)
        on_member_erase(member_reviews_erase)
        on_members_merge(members_reviews_merge)
