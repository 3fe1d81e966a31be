"""Thirteenth audit (session 11), part B: the 2-box inputs of models whose years are not 1901-2018
(docs/trust-cases.md, "Thirteenth audit (session 11)"). All data synthetic; hand values from
:func:`rhbench.twobox.simulate` (itself checked against closed forms in tests/test_twobox.py)."""

from __future__ import annotations

import numpy as np
import pytest

from rhbench.twobox import simulate
from rhbench.uptake import METRICS, twobox_results
from tests.test_twobox import AREA, _dgvm, _rows

OBS = {"global": ((10.3, 1.4), (38.3, 11.0))}


def _npp(years: np.ndarray) -> np.ndarray:
    """Pg C yr-1, flat until 1900, then rising (as a model spun up in 1700 or 1860)."""
    return 50.0 + 15.0 * np.clip((years - 1900) / 118.0, 0.0, None) ** 2 + 2.0 * np.sin(years / 7.0)


def _change(npp: np.ndarray, tau_veg: float, tau_soil: float) -> float:
    cveg, csoil = simulate(npp, np.full(npp.size, tau_veg), np.full(npp.size, tau_soil))
    return float(cveg[-1] + csoil[-1] - cveg[0] - csoil[0])


@pytest.mark.parametrize("first", [1700, 1860])
def test_a_model_starting_before_1901_is_emulated_from_1901_like_the_others(first):
    """Before: the 2-box ran from the model's first year (changes 1700-2018: 372.37 Pg C against 250.52 from 1901
    here, from a steady state the paper does not assume), its rows said "changes 1700-2018" under a
    metric defined as 1901-2018, and it was left out of the ensemble ("other years"). Now its years
    before 1901 are left out, said on its rows: the rows equal those of the same model cut to 1901,
    the hand change from 1901, and it joins the ensemble."""
    years = np.arange(first, 2019)
    npp = _npp(years)
    long = _dgvm(npp, 9.0, 25.0, years)
    models = {"LONG": long, "CUT": long.sel(year=slice(1901, None)), "OTHER": _dgvm(npp[years >= 1901], 12.0, 30.0)}
    glob = _rows(twobox_results(models, AREA, tau_obs=OBS, n_draws=4, seed=3), region="global")
    hand = _change(npp[years >= 1901], 9.0, 25.0)
    assert glob["LONG", "dcTotal_unconstrained"].value == pytest.approx(hand, rel=1e-9)
    for metric in METRICS:
        assert glob["LONG", metric].value == pytest.approx(glob["CUT", metric].value, rel=1e-12, abs=1e-12), metric
    reason = glob["LONG", "dcTotal_constrained"].reason
    assert "changes 1901-2018" in reason and f"its years {first}-1900 left out" in reason
    assert "left out" not in glob["CUT", "dcTotal_constrained"].reason
    ensemble = glob["ensemble_mean", "dcTotal_unconstrained"]
    assert "mean of 3 models over 1901-2018" in ensemble.reason and "other years" not in ensemble.reason
    mean = np.mean([glob[n, "dcTotal_unconstrained"].value for n in ("LONG", "CUT", "OTHER")])
    assert ensemble.value == pytest.approx(mean, rel=1e-9)


def test_a_model_ending_in_2014_runs_1901_2014_and_says_so_and_where_it_is_matched():
    """A CMIP6 historical run (1850-2014): changes 1901-2014 (its 1850-1900 left out), turnover times
    matched to the observation over 1982-2014; constrained alone, left out of a 1901-2018 ensemble."""
    years = np.arange(1850, 2015)
    npp = _npp(years)
    models = {
        "ESM": _dgvm(npp, 9.0, 25.0, years),
        "A": _dgvm(_npp(np.arange(1901, 2019)), 9.0, 25.0),
        "B": _dgvm(_npp(np.arange(1901, 2019)), 11.0, 35.0),
    }
    glob = _rows(twobox_results(models, AREA, tau_obs=OBS, n_draws=4, seed=3), region="global")
    assert glob["ESM", "dcTotal_unconstrained"].value == pytest.approx(_change(npp[years >= 1901], 9.0, 25.0), rel=1e-9)
    reason = glob["ESM", "dcTotal_constrained"].reason
    assert "changes 1901-2014" in reason and "its years 1850-1900 left out" in reason
    assert "matched to the observation over 1982-2014" in reason
    assert "left out (other years): ESM" in glob["ensemble_mean", "dcTotal_constrained"].reason


def test_a_model_starting_after_1901_keeps_its_own_start_and_says_it():
    """Pins: a model of 1951-2018 is emulated from 1951 (nothing to leave out), its rows saying so."""
    years = np.arange(1951, 2019)
    npp = _npp(years)
    glob = _rows(twobox_results({"LATE": _dgvm(npp, 9.0, 25.0, years)}, AREA, tau_obs=OBS, n_draws=3), region="global")
    assert glob["LATE", "dcTotal_unconstrained"].value == pytest.approx(_change(npp, 9.0, 25.0), rel=1e-9)
    reason = glob["LATE", "dcTotal_constrained"].reason
    assert "changes 1951-2018" in reason and "left out" not in reason


def test_a_model_left_out_is_constrained_alone_but_not_in_the_ensemble():
    """`left_out` (the pipeline's models whose 2-box rows the coverage checks fail): their own rows are
    computed as before; the ensemble is the mean of the others and names them."""
    years = np.arange(1901, 2019)
    models = {"A": _dgvm(_npp(years), 9.0, 25.0), "B": _dgvm(_npp(years) * 0.6, 6.0, 15.0)}
    alone = _rows(twobox_results({"A": models["A"]}, AREA, tau_obs=OBS, n_draws=4, seed=3), region="global")
    both = _rows(
        twobox_results(models, AREA, tau_obs=OBS, n_draws=4, seed=3, left_out=frozenset({"B"})), region="global"
    )
    for metric in METRICS:
        assert both["ensemble_mean", metric].value == pytest.approx(alone["A", metric].value, rel=1e-12, abs=1e-12)
    reason = both["ensemble_mean", "dcTotal_constrained"].reason
    assert "mean of 1 models" in reason and "left out (their rows fail the coverage checks): B" in reason
    assert both["B", "dcTotal_constrained"].status == "ok"  # the pipeline's coverage gate fails it afterwards


@pytest.mark.slow
def test_a_partial_model_whose_2box_rows_fail_is_not_in_the_2box_ensemble(demo_root, tmp_path, monkeypatch):
    """CLM5.0 masked to |lat| <= 40 (Rh covers 59 % of the reference's land): its own 2-box rows failed
    (row 7 of the first audit) and it was left out of the suite's ensemble (rh_global: 1 DGVM), but the
    2-box ensemble was **"mean of 2 models" with it: dcTotal_constrained 245.47 instead of JSBACH's
    300.11 Pg C, `ok`**. Now the 2-box ensemble is JSBACH's numbers and names CLM5.0 as left out."""
    import json

    from test_reliability_isolation import demo_with_model_masked, write_config

    from rhbench.cli import main

    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    root = demo_with_model_masked(demo_root, tmp_path)  # CLM5.0 at |lat| <= 40 only
    out = tmp_path / "out"
    assert (
        main(["-q", "run", "--config", str(write_config(tmp_path, root, ("CLM5.0", "JSBACH"))), "--out", str(out)]) == 3
    )
    rows = {
        (r["source"], r["metric"]): r
        for r in json.loads((out / "scorecard.json").read_text())["rows"]
        if r["region"] == "global"
    }
    assert rows["CLM5.0", "dcTotal_constrained"]["status"] == "failed"
    for metric in ("dcTotal_constrained", "dcTotal_unconstrained", "dcSoil_constrained", "underestimation_pct"):
        ensemble = rows["ensemble_mean", metric]
        assert ensemble["status"] == "ok" and ensemble["value"] == pytest.approx(
            rows["JSBACH", metric]["value"], rel=1e-12
        )
        assert "left out (their rows fail the coverage checks): CLM5.0" in ensemble["reason"]


def test_one_monte_carlo_draw_has_no_spread_rather_than_an_uncertainty_of_zero():
    """`n_draws = 1` (a quick CI setting): before, dcTotal_constrained_sd (and dcVeg, dcSoil) were `ok` 0.0, an
    uncertainty of nothing, silently; now `skipped` "undefined: one Monte Carlo run (n_draws = 1) has no
    spread". Two draws (4 runs) give a positive SD, as before."""
    years = np.arange(1901, 2019)
    model = {"A": _dgvm(_npp(years), 9.0, 25.0)}
    one = _rows(twobox_results(model, AREA, tau_obs=OBS, n_draws=1, seed=3), region="global")
    two = _rows(twobox_results(model, AREA, tau_obs=OBS, n_draws=2, seed=3), region="global")
    for pool in ("dcVeg", "dcSoil", "dcTotal"):
        row = one["A", f"{pool}_constrained_sd"]
        assert row.status == "skipped" and "one Monte Carlo run (n_draws = 1) has no spread" in row.reason
        assert one["A", f"{pool}_constrained"].status == "ok"
        assert two["A", f"{pool}_constrained_sd"].status == "ok" and two["A", f"{pool}_constrained_sd"].value > 0
