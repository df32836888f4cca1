"""Forms of the loyalty console. They validate what staff type; services do the work."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kesher.activity.registry import registry
from kesher.core import limits
from kesher.loyalty.models import EarningRule, Reward
from kesher.members.labels import activity_label


def _activity_types() -> list[tuple[str, str]]:
    return sorted(((name, activity_label(name)) for name in registry.types), key=lambda choice: choice[1])


class EarningRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    activity_type = forms.ChoiceField(label=_("Activity"), choices=_activity_types)
    effect = forms.ChoiceField(label=_("Effect"), choices=EarningRule.Effect.choices)
    points = forms.IntegerField(
        label=_("Points"), min_value=0, max_value=limits.MAX_POINTS_PER_OPERATION, initial=1
    )
    per_amount = forms.DecimalField(
        label=_("Per amount"), min_value=0.01, initial=1, max_digits=10, decimal_places=2
    )
    multiplier = forms.DecimalField(
        label=_("Multiplier"), min_value=1, initial=1, max_digits=5, decimal_places=2
    )
    min_amount = forms.DecimalField(
        label=_("Minimum amount"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    daily_limit = forms.IntegerField(
        label=_("Per member per day"), required=False, min_value=1, max_value=limits.MAX_COUNT
    )
    budget_points = forms.IntegerField(
        label=_("Budget (points)"), required=False, min_value=1, max_value=limits.MAX_POINTS_HELD
    )
    first_purchase_only = forms.BooleanField(label=_("First purchase only"), required=False)
    stackable = forms.BooleanField(label=_("Adds to other rules"), required=False, initial=True)


class RewardForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Reward.Kind.choices)
    cost_points = forms.IntegerField(
        label=_("Cost in points"), min_value=1, max_value=limits.MAX_POINTS_PER_OPERATION
    )
    value = forms.DecimalField(label=_("Value"), min_value=0, initial=0, max_digits=12, decimal_places=2)
    stock = forms.IntegerField(
        label=_("Stock (empty: unlimited)"), required=False, min_value=0, max_value=limits.MAX_COUNT
    )
    per_member_limit = forms.IntegerField(
        label=_("Per member"), required=False, min_value=1, max_value=limits.MAX_COUNT
    )


class TierForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    threshold = forms.DecimalField(label=_("Threshold"), min_value=0, max_digits=14, decimal_places=2)
    multiplier = forms.DecimalField(
        label=_("Earning multiplier"), min_value=1, initial=1, max_digits=5, decimal_places=2
    )
    perks = forms.CharField(label=_("Perks"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AdjustForm(forms.Form):
    # The service refuses the same (for the CLI and every other caller); the form says it in the page's
    # language and puts the bounds on the input.
    points = forms.IntegerField(
        label=_("Points (negative to take)"),
        min_value=-limits.MAX_POINTS_PER_OPERATION,
        max_value=limits.MAX_POINTS_PER_OPERATION,
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)
