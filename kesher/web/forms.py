"""Forms for the public pages: what a visitor types to join a club. The services still check everything."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class JoinForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    email = forms.EmailField(label=_("Email"), max_length=254)
    # Any local or international form; member_create normalises it to E.164 or refuses it.
    phone = forms.CharField(label=_("Mobile phone"), max_length=40)
    birthday = forms.DateField(label=_("Birthday"), required=False)
    consent_email = forms.BooleanField(required=False)
    consent_sms = forms.BooleanField(required=False)
    ref = forms.CharField(label=_("Invitation code"), max_length=20, required=False)

    def clean_ref(self) -> str:
        return str(self.cleaned_data.get("ref") or "").strip().upper()
