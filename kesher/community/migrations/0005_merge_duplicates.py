"""Questions merged into another: a status of their own and when it happened."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('community', '0004_follows_and_notifications'),
    ]

    operations = [
        migrations.AddField(
            model_name='post',
            name='merged_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='post',
            name='status',
            field=models.CharField(choices=[('published', 'Published'), ('held', 'Held for review'), ('hidden', 'Hidden by a moderator'), ('deleted', 'Deleted'), ('merged', 'Merged into another question')], default='published', max_length=10),
        ),
    ]
