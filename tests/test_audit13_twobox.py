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
