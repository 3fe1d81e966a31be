"""Implausible numbers (orders of magnitude off, or all-zero fields) are failed rows, not warnings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rhbench.plausibility import PLAUSIBLE_GLOBAL, all_zero, enforce_plausibility, implausible_reason
from rhbench.results import ScoreRow


def _row(source: str, metric: str, value: float, region: str = "global", units: str = "Pg C yr-1") -> ScoreRow:
    return ScoreRow(source, "dgvm", metric, region, units, value)


@pytest.mark.parametrize(
    ("metric", "value", "units"),
    [
        ("rh_global", 4.1e9, "Pg C yr-1"),  # g m-2 d-1 read as kg m-2 s-1 (issue 13)
        ("rh_global", 0.5, "Pg C yr-1"),
        ("rh_global", 1000.5, "Pg C yr-1"),
        ("rh_global", math.inf, "Pg C yr-1"),
        ("tau_soil_global", 0.05, "yr"),
        ("tau_soil_global", 20_000.0, "yr"),
        ("tau_veg_global", 1e-6, "yr"),
        ("csoil_global", 0.0, "Pg C"),
    ],
)
def test_implausible_global_row_fails_every_ok_row_of_its_source(metric, value, units):
    rows = [
        _row("Bad", metric, value, units=units),
        _row("Bad", "rh_taylor_score", 0.9, units="1"),
        _row("Bad", "tau_soil", 30.0, region="tropical", units="yr"),
        ScoreRow("Bad", "dgvm", "cveg_global", "global", "Pg C", math.nan, "skipped", "no cVeg"),
        _row("Good", "rh_global", 55.0),
        _row("Good", "tau_soil_global", 30.0, units="yr"),
    ]
    checked, failures = enforce_plausibility(rows)
    assert set(failures) == {"Bad"} and metric in failures["Bad"]
    bad = [r for r in checked if r.source == "Bad"]
    assert [r.status for r in bad] == ["failed", "failed", "failed", "skipped"]
    assert all(math.isnan(r.value) for r in bad)
    assert all(metric in r.reason for r in bad[:3])
    assert bad[3].reason == "no cVeg"  # a skipped row keeps its own reason
    good = [r for r in checked if r.source == "Good"]
    assert good == rows[4:]  # another source is untouched


@pytest.mark.parametrize(
    ("metric", "value"),
    [
        ("rh_global", 1.0),
        ("rh_global", 1000.0),
        ("rh_global", 55.0),
        ("tau_soil_global", 0.1),
        ("tau_soil_global", 1e4),
    ],
)
def test_plausible_values_at_and_inside_the_bounds_pass(metric, value):
    rows = [_row("M", metric, value)]
    checked, failures = enforce_plausibility(rows)
    assert failures == {} and checked == rows


def test_regional_rows_are_not_range_checked():
    # A latitude band can hold 0.2 Pg C yr-1 of Rh; only global rows are judged.
    row = _row("M", "rh_global", 0.2, region="80N-90N")
    assert implausible_reason(row) is None


def test_the_ranges_are_those_of_issue_13():
    assert (PLAUSIBLE_GLOBAL["rh_global"].low, PLAUSIBLE_GLOBAL["rh_global"].high) == (1.0, 1000.0)
    assert (PLAUSIBLE_GLOBAL["tau_soil_global"].low, PLAUSIBLE_GLOBAL["tau_soil_global"].high) == (0.1, 10_000.0)


def test_all_zero_field():
    assert all_zero(np.array([0.0, 0.0, np.nan]))
    assert not all_zero(np.array([0.0, 1e-30, np.nan]))
    assert not all_zero(np.array([np.nan, np.nan]))  # all missing is another error
