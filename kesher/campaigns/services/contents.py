"""A campaign's templates compiled per language, shared by queuing, previews, forwards and journeys."""

from __future__ import annotations

from dataclasses import dataclass

from kesher.campaigns import rendering
from kesher.campaigns.models import (
    Campaign,
    CampaignVariant,
)


@dataclass
class CampaignContents:
    by_locale: dict[str, rendering.CompiledContent]
    main: str
    names: set[str]

    def for_locale(self, locale: str) -> tuple[str, rendering.CompiledContent]:
        if locale in self.by_locale:
            return locale, self.by_locale[locale]
        return self.main, self.by_locale[self.main]


def contents_compile(campaign: Campaign, variant: CampaignVariant | None = None) -> CampaignContents:
    """The campaign's templates compiled per language; a variant's own subject, body and translations."""
    source: Campaign | CampaignVariant = variant if variant is not None else campaign
    by_locale = {campaign.locale: rendering.content_compile(source.subject, source.body, campaign.blocks)}
    sources = [source.subject, source.body, *(block["text"] for block in campaign.blocks)]
    for locale, content in source.translations.items():
        by_locale[locale] = rendering.content_compile(content["subject"], content["body"], campaign.blocks)
        sources += [content["subject"], content["body"]]
    return CampaignContents(by_locale=by_locale, main=campaign.locale, names=rendering.names_used(*sources))
