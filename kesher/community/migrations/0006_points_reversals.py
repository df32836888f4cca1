"""Points taken back when an acceptance moves or a post is removed as spam."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('activity', '0001_initial'),
        ('brands', '0001_initial'),
        ('community', '0005_merge_duplicates'),
        ('loyalty', '0002_earning_rule_segment'),
        ('members', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='PointsReversal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('grant_key', models.CharField(help_text="The grant's key without its round", max_length=100)),
                ('reason', models.CharField(choices=[('acceptance_moved', 'The accepted answer changed'), ('spam', 'Removed as spam')], max_length=20)),
                ('points', models.PositiveIntegerField(help_text='What was taken back')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('activity', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='activity.activity')),
                ('brand', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='brands.brand')),
                ('ledger_entry', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='loyalty.ledgerentry')),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='members.member')),
                ('post', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='community.post')),
            ],
            options={
                'indexes': [models.Index(fields=['member', 'grant_key'], name='points_reversal_grant')],
            },
        ),
    ]
