"""Reputation, scores, votes, views and the other counters become 64-bit: they only ever add up. On
PostgreSQL each table is rewritten once (WidenToBigInteger), not once per column."""

from django.db import migrations, models

from kesher.core.migration_ops import WidenToBigInteger


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0007_digests"),
    ]

    operations = [
        WidenToBigInteger(
            model_name="communityprofile",
            fields=[("reputation", models.BigIntegerField(default=1))],
        ),
        WidenToBigInteger(
            model_name="post",
            fields=[
                ("score", models.BigIntegerField(default=0)),
                ("upvotes", models.PositiveBigIntegerField(default=0)),
                ("downvotes", models.PositiveBigIntegerField(default=0)),
                ("answer_count", models.PositiveBigIntegerField(default=0)),
                ("comment_count", models.PositiveBigIntegerField(default=0)),
                ("view_count", models.PositiveBigIntegerField(default=0)),
                ("edit_count", models.PositiveBigIntegerField(default=0)),
            ],
        ),
        WidenToBigInteger(
            model_name="tag",
            fields=[("question_count", models.PositiveBigIntegerField(default=0))],
        ),
    ]
