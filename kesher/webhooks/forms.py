"""The webhooks console's forms: a new endpoint (URL and events) and the events an endpoint hears."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kesher.core.events import event_types


def _event_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in event_types()]


class EventsForm(forms.Form):
    events = forms.MultipleChoiceField(label=_("Events"), choices=_event_choices, required=True)


class EndpointForm(EventsForm):
    url = forms.CharField(label=_("URL"), max_length=2000)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
