"""Customer lifetime value behind Kesher's own interface: BG/NBD for how often and whether still active,
Gamma-Gamma for how much a purchase is worth (issue 17).

The models come from `lifetimes` 0.11.3 (pinned in pyproject.toml). Nothing outside this module imports
it, so swapping the library (pymc-marketing, a maintained fork) changes this file only. The conventions
are lifetimes' and the literature's: one row a customer, `frequency` = repeat purchases (purchases after
the first), `recency` = age of the customer at the last purchase, `T` = age of the customer now, all in
one time unit (days here for the brand's members; CDNOW's published figures are in weeks), and
`monetary_value` = mean value of the repeat purchases.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kesher.core.errors import ValidationFailed

REQUIRED_COLUMNS = ("frequency", "recency", "T")


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    v: float


def _columns_check(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise ValidationFailed(f"missing column(s): {', '.join(missing)}", field=missing[0])
    out = frame.loc[:, list(columns)].apply(pd.to_numeric, errors="coerce")
    if out.isna().any().any():
        bad = out.columns[out.isna().any()][0]
        raise ValidationFailed(f"column {bad} has a value that is not a number", field=str(bad))
    if (out < 0).any().any():
        bad = out.columns[(out < 0).any()][0]
        raise ValidationFailed(f"column {bad} has a negative value", field=str(bad))
    if ((out["recency"] > out["T"]) if "T" in out else pd.Series(dtype=bool)).any():
        raise ValidationFailed("recency is greater than T for some row", field="recency")
    return out


def bgnbd_fit(*, frame: pd.DataFrame, penalizer: float = 0.0) -> BgNbd:
    """Fit BG/NBD by maximum likelihood to `frequency, recency, T` (no penalty: the published fit; a small
    one keeps a brand's fit finite when its data cannot tell the parameters apart)."""
    from lifetimes import BetaGeoFitter

    data = _columns_check(frame, REQUIRED_COLUMNS)
    if len(data) < 2 or not (data["frequency"] > 0).any():
        raise ValidationFailed("BG/NBD needs at least two customers and some repeat purchases")
    fitter = BetaGeoFitter(penalizer_coef=penalizer)
    fitter.fit(data["frequency"], data["recency"], data["T"])
    params = fitter.params_
    return BgNbd(
        r=float(params["r"]), alpha=float(params["alpha"]), a=float(params["a"]), b=float(params["b"])
    )


def gamma_gamma_fit(*, frame: pd.DataFrame, penalizer: float = 0.0) -> GammaGamma:
    """Fit Gamma-Gamma to the customers with repeat purchases (`frequency > 0`) and their mean spend."""
    from lifetimes import GammaGammaFitter

    data = _columns_check(frame, ("frequency", "monetary_value"))
    returning = data[(data["frequency"] > 0) & (data["monetary_value"] > 0)]
    if len(returning) < 2:
        raise ValidationFailed("Gamma-Gamma needs at least two customers with repeat purchases and spend")
    fitter = GammaGammaFitter(penalizer_coef=penalizer)
    fitter.fit(returning["frequency"], returning["monetary_value"])
    params = fitter.params_
    return GammaGamma(p=float(params["p"]), q=float(params["q"]), v=float(params["v"]))


def clv_fit(*, frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The figures `kesher insights clv-fit` prints: BG/NBD always, Gamma-Gamma when spend is given."""
    out: dict[str, dict[str, float]] = {"bgnbd": vars(bgnbd_fit(frame=frame)).copy()}
    if "monetary_value" in frame.columns:
        out["gamma_gamma"] = vars(gamma_gamma_fit(frame=frame)).copy()
    return out


# --- predictions: closed forms of BG/NBD (Fader, Hardie and Lee 2005) and Gamma-Gamma (2005) ---------


def p_alive(*, model: BgNbd, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(still active | x, t_x, T); 1 for a customer without repeat purchases, as the model has it."""
    x, tx, t = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        log_ratio = (r + x) * (np.log(alpha + t) - np.log(alpha + tx))
        odds = (a / (b + np.maximum(x, 1) - 1)) * np.exp(log_ratio)
        out = 1.0 / (1.0 + odds)
    return np.where(x > 0, out, 1.0)


def expected_purchases(
    *, model: BgNbd, days: float, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Expected purchases in the next `days` (the time unit of the fit) for each customer."""
    from scipy.special import hyp2f1

    x, tx, t = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    z = days / (alpha + t + days)
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
    first = (a + b + x - 1) / (a - 1) * (1 - ((alpha + t) / (alpha + t + days)) ** (r + x) * hyp)
    delta = (x > 0).astype(float)
    second = 1 + delta * (a / (b + x - 1 + (1 - delta))) * ((alpha + t) / (alpha + tx)) ** (r + x)
    return np.clip(first / second, 0.0, None)


def expected_spend(*, model: GammaGamma, frequency: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """The expected value of a customer's future purchase, shrunk towards the population's mean."""
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary, dtype=float)
    p, q, v = model.p, model.q, model.v
    population = p * v / (q - 1) if q > 1 else float("nan")
    weight = (p * x) / (p * x + q - 1)
    return np.where(x > 0, (1 - weight) * population + weight * m, population)


def value_12m(
    *,
    bgnbd: BgNbd,
    gamma_gamma: GammaGamma | None,
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,
    monetary: np.ndarray,
) -> np.ndarray:
    """Expected spend in the next 365 days (undiscounted): expected purchases times expected value."""
    count = expected_purchases(model=bgnbd, days=365.0, frequency=frequency, recency=recency, T=T)
    if gamma_gamma is None:
        spend = np.asarray(monetary, dtype=float)
    else:
        spend = expected_spend(model=gamma_gamma, frequency=frequency, monetary=monetary)
    out = count * spend
    return np.where(np.isfinite(out), out, 0.0)


def finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
