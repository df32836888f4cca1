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


class ProfileForm(forms.Form):
    """What a member may change about themselves; member_update normalises and checks it again."""

    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    phone = forms.CharField(label=_("Mobile phone"), max_length=40, required=False)
    birthday = forms.DateField(label=_("Birthday"), required=False)
    locale = forms.ChoiceField(label=_("Language"), choices=[("he", "עברית"), ("en", "English")])
    interests = forms.CharField(label=_("Interests"), max_length=500, required=False)

    def clean_interests(self) -> list[str]:
        raw = str(self.cleaned_data.get("interests") or "")
        return [part for part in (piece.strip() for piece in raw.replace("،", ",").split(",")) if part][:20]
