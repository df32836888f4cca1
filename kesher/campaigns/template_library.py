"""The only tags and filters a campaign template may use: text shaping and logic, nothing that reads
files, resolves URLs, loads libraries or can be made to allocate without bound (ljust:1000000000)."""

from __future__ import annotations

from django.contrib.humanize.templatetags import humanize
from django.template import Library, defaultfilters, defaulttags

register = Library()

ALLOWED_TAGS = (
    "if",
    "for",
    "with",
    "firstof",
    "comment",
    "spaceless",
    "now",
    "verbatim",
    "filter",
    "ifchanged",
)
ALLOWED_FILTERS = (
    "add",
    "capfirst",
    "cut",
    "date",
    "default",
    "default_if_none",
    "first",
    "join",
    "last",
    "length",
    "lower",
    "upper",
    "title",
    "pluralize",
    "truncatechars",
    "truncatewords",
    "yesno",
    "wordcount",
    "time",
    "slice",
)

for _name in ALLOWED_TAGS:
    register.tag(_name, defaulttags.register.tags[_name])
for _name in ALLOWED_FILTERS:
    register.filters[_name] = defaultfilters.register.filters[_name]
register.filters["intcomma"] = humanize.register.filters["intcomma"]
