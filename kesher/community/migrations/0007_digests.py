"""Email digests of followed questions, tags and spaces: each member's choice and each digest sent."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('brands', '0001_initial'),
        ('community', '0006_points_reversals'),
        ('members', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='DigestSend',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('period', models.CharField(help_text='2026-03-10 for a daily digest, 2026-W11 weekly', max_length=20)),
                ('since', models.DateTimeField()),
                ('until', models.DateTimeField()),
                ('status', models.CharField(choices=[('sending', 'Sending'), ('sent', 'Sent'), ('empty', 'Nothing new'), ('failed', 'Failed')], default='sending', max_length=10)),
                ('items', models.PositiveIntegerField(default=0)),
                ('error', models.CharField(blank=True, max_length=300)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('brand', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='brands.brand')),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='members.member')),
            ],
            options={
                'indexes': [models.Index(fields=['member', '-until'], name='digest_member_latest')],
                'constraints': [models.UniqueConstraint(fields=('member', 'period'), name='digest_once_per_period')],
            },
        ),
        migrations.CreateModel(
            name='DigestSettings',
            fields=[
                ('member', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='community_digest', serialize=False, to='members.member')),
                ('frequency', models.CharField(choices=[('off', 'Never'), ('daily', 'Daily'), ('weekly', 'Weekly')], default='daily', max_length=10)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('brand', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='brands.brand')),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(('frequency__in', ['off', 'daily', 'weekly'])), name='digest_frequency_valid')],
            },
        ),
    ]
