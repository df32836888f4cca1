"""Forms of the magazine console. They validate what staff type; services do the work."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kesher.magazine.models import Article, ArticleLocale


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    slug = forms.CharField(
        label=_("Address (empty: from the title)"),
        max_length=120,
        required=False,
        help_text=_("Hebrew allowed"),
    )
    summary = forms.CharField(
        label=_("Summary"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    body = forms.CharField(
        label=_("Article (Markdown)"),
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 16, "dir": "auto"}),
    )
    locale = forms.ChoiceField(label=_("Language"), choices=ArticleLocale.choices)
    interests = forms.CharField(
        label=_("For members interested in (comma separated)"), max_length=500, required=False
    )
    cover = forms.ImageField(label=_("Cover image"), required=False)

    @staticmethod
    def initial_for(article: Article) -> dict[str, Any]:
        return {
            "title": article.title,
            "slug": article.slug,
            "summary": article.summary,
            "body": article.body,
            "locale": article.locale,
            "interests": ", ".join(article.interests),
        }

    def clean_interests(self) -> list[str]:
        raw = self.cleaned_data.get("interests") or ""
        return [part.strip() for part in raw.replace("،", ",").split(",") if part.strip()]


class IssueForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=300)
    intro = forms.CharField(
        label=_("Opening words (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    articles = forms.MultipleChoiceField(label=_("Articles"), widget=forms.CheckboxSelectMultiple)
    locale = forms.ChoiceField(label=_("Language of the issue"), choices=ArticleLocale.choices)
    advertising = forms.BooleanField(
        label=_("Advertising (needs the member's consent)"), required=False, initial=True
    )

    def __init__(self, *args: Any, articles: list[Article], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["articles"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(str(article.pk), article.title) for article in articles]
