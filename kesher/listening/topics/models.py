"""A topic a brand listens for (delivery, price, staff…): its name and its keywords in Hebrew and English.

Imported by kesher/listening/models.py so that Django finds it; its table is listening_topic."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Topic(models.Model):
    """`name` is what mentions carry in their topics ("delivery"); a keyword matches a word whatever
    Hebrew prefix letters it has (המשלוח, ובמשלוח) and English inflections (returned → return)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    name = models.SlugField(max_length=40, allow_unicode=True, verbose_name=_("Name"))
    keywords_he = models.JSONField(default=list, blank=True, verbose_name=_("Hebrew keywords"))
    keywords_en = models.JSONField(default=list, blank=True, verbose_name=_("English keywords"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "listening"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "name"], name="listening_topic_unique_name"),
            models.CheckConstraint(condition=~Q(name=""), name="listening_topic_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def keywords(self) -> list[str]:
        return [*self.keywords_he, *self.keywords_en]
