"""The lifetime-value models reproduce the published CDNOW estimates, and `kesher insights clv-fit` prints
them as the issue's JSON; bad files get a clear error."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.datasets import load_cdnow_summary, load_cdnow_summary_data_with_monetary_value

from kesher.cli import main
from kesher.core.errors import ValidationFailed
from kesher.insights import clv


def test_bgnbd_reproduces_the_published_cdnow_estimates():
    fit = clv.bgnbd_fit(frame=load_cdnow_summary(index_col=[0]))
    # Fader, Hardie and Lee (2005): r=0.243, alpha=4.414, a=0.793, b=2.426
    assert (round(fit.r, 3), round(fit.alpha, 3), round(fit.a, 3), round(fit.b, 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )


def test_gamma_gamma_reproduces_the_published_cdnow_estimates():
    fit = clv.gamma_gamma_fit(frame=load_cdnow_summary_data_with_monetary_value())
    # Fader, Hardie and Lee (2005), the monetary subset: p=6.25, q=3.74, gamma=15.44
    # (published to two decimals; gamma is 15.4477, which the paper gives as 15.44)
    assert abs(fit.p - 6.25) < 0.005 and abs(fit.q - 3.74) < 0.005 and abs(fit.v - 15.44) < 0.01


def test_the_closed_forms_agree_with_the_library():
    data = load_cdnow_summary_data_with_monetary_value()
    model = clv.bgnbd_fit(frame=data)
    gg = clv.gamma_gamma_fit(frame=data)
    ref = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
    f, r, t = data["frequency"].to_numpy(), data["recency"].to_numpy(), data["T"].to_numpy()
    assert np.allclose(
        clv.p_alive(model=model, frequency=f, recency=r, T=t), ref.conditional_probability_alive(f, r, t)
    )
    assert np.allclose(
        clv.expected_purchases(model=model, days=39, frequency=f, recency=r, T=t),
        ref.conditional_expected_number_of_purchases_up_to_time(39, f, r, t),
    )
    returning = data[data["frequency"] > 0]
    ggf = GammaGammaFitter().fit(returning["frequency"], returning["monetary_value"])
    assert np.allclose(
        clv.expected_spend(model=gg, frequency=returning["frequency"], monetary=returning["monetary_value"]),
        ggf.conditional_expected_average_profit(returning["frequency"], returning["monetary_value"]),
    )


def test_a_customer_long_silent_is_less_likely_alive():
    model = clv.BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426)
    alive = clv.p_alive(
        model=model, frequency=np.array([5, 5]), recency=np.array([30.0, 30.0]), T=np.array([31.0, 60.0])
    )
    assert alive[0] > 0.8 and alive[1] < 0.3


def test_bad_frames_are_refused_with_the_column_named():
    with pytest.raises(ValidationFailed) as missing:
        clv.bgnbd_fit(frame=pd.DataFrame({"frequency": [1], "recency": [1]}))
    assert missing.value.field == "T"
    with pytest.raises(ValidationFailed) as text:
        clv.bgnbd_fit(frame=pd.DataFrame({"frequency": ["x", 1], "recency": [1, 1], "T": [2, 2]}))
    assert text.value.field == "frequency"
    with pytest.raises(ValidationFailed) as late:
        clv.bgnbd_fit(frame=pd.DataFrame({"frequency": [1, 2], "recency": [5, 1], "T": [2, 2]}))
    assert late.value.field == "recency"


def test_the_command_prints_the_issues_json(tmp_path, capsys, db):
    path = tmp_path / "cdnow.csv"
    load_cdnow_summary_data_with_monetary_value().to_csv(path, index=False)
    assert main(["insights", "clv-fit", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"bgnbd", "gamma_gamma"}
    assert set(out["bgnbd"]) == {"r", "alpha", "a", "b"} and set(out["gamma_gamma"]) == {"p", "q", "v"}
    assert round(out["bgnbd"]["alpha"], 3) == 4.414 and round(out["gamma_gamma"]["q"], 2) == 3.74


def test_the_command_without_spend_prints_bgnbd_only(tmp_path, capsys, db):
    path = tmp_path / "cdnow.csv"
    load_cdnow_summary(index_col=[0])[["frequency", "recency", "T"]].to_csv(path, index=False)
    assert main(["insights", "clv-fit", str(path)]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"bgnbd"}


def test_the_command_names_what_is_wrong(tmp_path, capsys, db):
    path = tmp_path / "bad.csv"
    path.write_text("frequency,recency\n1,2\n")
    assert main(["insights", "clv-fit", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "missing column(s): T" in captured.err
    assert main(["insights", "clv-fit", str(tmp_path / "absent.csv")]) == 1
    assert "cannot read" in capsys.readouterr().err
