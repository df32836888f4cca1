"""Every brand that existed before the community gets what a new brand gets: settings, reputation
rules and a public Q&A space "general". Re-runnable: it only adds what is missing."""

from django.db import migrations
from django.utils.translation import gettext, override

DEFAULT_REPUTATION = {
    "question_upvoted": 5,
    "answer_upvoted": 10,
    "answer_accepted": 15,
    "accepting_answer": 2,
    "post_downvoted": -2,
    "spam_removed": -100,
}
DEFAULT_PRIVILEGES = {"vote_up": 1, "flag": 15, "post_without_review": 50, "vote_down": 125, "edit_others": 1000}


def install(apps, schema_editor):
    Brand = apps.get_model("brands", "Brand")
    Space = apps.get_model("community", "Space")
    CommunitySettings = apps.get_model("community", "CommunitySettings")
    ReputationRule = apps.get_model("community", "ReputationRule")
    for brand in Brand.objects.all().iterator(chunk_size=500):
        CommunitySettings.objects.get_or_create(brand=brand, defaults={"privileges": DEFAULT_PRIVILEGES})
        for event, points in DEFAULT_REPUTATION.items():
            ReputationRule.objects.get_or_create(brand=brand, event=event, defaults={"points": points})
        with override(brand.default_locale):
            name, description = gettext("General"), gettext("Questions and answers about everything")
        Space.objects.get_or_create(
            brand=brand,
            slug="general",
            defaults={"name": name, "description": description, "kind": "qa", "visibility": "public"},
        )


class Migration(migrations.Migration):
    dependencies = [("community", "0002_search_index"), ("brands", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
