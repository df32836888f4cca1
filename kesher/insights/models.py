"""What the nightly recomputation keeps for a brand: the fitted models and the RFM cut points (issue 17)."""

from __future__ import annotations

from django.db import models


class InsightsFit(models.Model):
    """One a brand, replaced by each `insights_refresh`: the member pages and the API read it."""

    brand = models.OneToOneField("brands.Brand", on_delete=models.CASCADE, related_name="+", primary_key=True)
    computed_at = models.DateTimeField()
    members = models.PositiveIntegerField(default=0)
    buyers = models.PositiveIntegerField(default=0)
    # BG/NBD and Gamma-Gamma parameters (days); null while the brand has too few repeat buyers to fit.
    bgnbd = models.JSONField(null=True, blank=True)
    gamma_gamma = models.JSONField(null=True, blank=True)
    # Upper bounds of quintiles 1-4 among buyers: recency in days (lower is better), purchases, spend.
    rfm_cuts = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"insights of {self.brand_id} at {self.computed_at:%Y-%m-%d %H:%M}"
