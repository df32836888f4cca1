"""The owner's form for the brand's look; brand_look_update checks everything again."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class BrandLookForm(forms.Form):
    name = forms.CharField(label=_("Club name"), max_length=200)
    primary_color = forms.CharField(label=_("Main colour (buttons and links)"), max_length=7)
    accent_color = forms.CharField(label=_("Second colour (the club card)"), max_length=7)
    logo = forms.ImageField(label=_("Logo"), required=False)
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    favicon = forms.ImageField(label=_("Browser tab icon (favicon)"), required=False)
    remove_favicon = forms.BooleanField(label=_("Remove the icon"), required=False)
    domain = forms.CharField(label=_("The club's own domain"), max_length=253, required=False)
    sender_name = forms.CharField(label=_("Email sender name"), max_length=100, required=False)
    sender_email = forms.EmailField(label=_("Email sender address"), max_length=254, required=False)
    sms_sender = forms.CharField(label=_("SMS sender name"), max_length=11, required=False)
