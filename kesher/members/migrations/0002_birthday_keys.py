"""Birthday keys per calendar (kesher.members.birthdays), backfilled in batches, then indexed per brand."""

from typing import Any

from django.db import migrations, models

BATCH = 2000


def backfill_birthday_keys(apps: Any, schema_editor: Any) -> None:
    """Re-runnable: only members with a birthday and no keys yet, in primary-key batches."""
    from kesher.members.birthdays import gregorian_key, hebrew_key

    Member = apps.get_model("members", "Member")
    pending = Member.objects.using(schema_editor.connection.alias).filter(
        birthday__isnull=False, birthday_md__isnull=True
    )
    last_pk = None
    while True:
        batch = pending.order_by("pk")
        if last_pk is not None:
            batch = batch.filter(pk__gt=last_pk)
        rows = list(batch.only("pk", "birthday")[:BATCH])
        if not rows:
            return
        for row in rows:
            row.birthday_md = gregorian_key(row.birthday)
            row.hebrew_birthday_md = hebrew_key(row.birthday)
        Member.objects.using(schema_editor.connection.alias).bulk_update(
            rows, ["birthday_md", "hebrew_birthday_md"]
        )
        last_pk = rows[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("brands", "0001_initial"),
        ("members", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="member",
            name="birthday_md",
            field=models.PositiveSmallIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="member",
            name="hebrew_birthday_md",
            field=models.PositiveSmallIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(backfill_birthday_keys, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(fields=["brand", "birthday_md"], name="member_birthday"),
        ),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(fields=["brand", "hebrew_birthday_md"], name="member_hebrew_birthday"),
        ),
    ]
