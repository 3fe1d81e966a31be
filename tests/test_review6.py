"""Review 6 (session 7): a skeptical read of S7-7 (per-row period coverage, turnover means over
common years), issue 18's speed cuts and the usability changes. Hand calculations with numpy on
fields uniform in space, varying by year (the fixtures of tests/test_coverage_per_row.py)."""

from __future__ import annotations

import numpy as np
import pytest
from test_coverage_per_row import CSOIL, PERIOD, RH, YEARS, _annual, _rows, _series

from rhbench.metrics.coverage import DERIVED_NAME, by_variable, years_record

#: cVeg (kg C m-2) rising 0.02 a year with a bump in 1999: its mean over years that differ by
#: the ones either side of a gap differs (a linear series would hide it).
CVEG = 5.0 + 0.02 * (YEARS - 1982) + 0.5 * (YEARS == 1999)
NPP = 300.0 + 4.0 * (YEARS - 1982)  # g C m-2 yr-1


def _derived_litterfall(cveg: np.ndarray, npp: np.ndarray) -> np.ndarray:
    """NPP - dcVeg/dt (g C m-2 yr-1) by hand: centred differences, one-sided at the ends, NaN propagating."""
    slope = np.full(cveg.size, np.nan)
    slope[1:-1] = (cveg[2:] - cveg[:-2]) / 2.0
    slope[0], slope[-1] = cveg[1] - cveg[0], cveg[-1] - cveg[-2]
    return npp - 1000.0 * slope


@pytest.mark.parametrize("npp_lacks_2000", [False, True])
@pytest.mark.parametrize("native", [True, False])
def test_r6_1_tau_veg_with_derived_litterfall_uses_the_years_litterfall_has(native: bool, npp_lacks_2000: bool) -> None:
    """cVeg lacks 2000: NPP - dcVeg/dt then lacks 1999 and 2001 too (the centred difference needs
    both neighbours). Before: cVeg's mean was over every year but 2000, litterfall's over every year
    but 1999-2001 (ratio of means over different years); now both over the years both have."""
    with_cveg = YEARS != 2000
    npp_years = YEARS[with_cveg] if npp_lacks_2000 else YEARS
    annual = _annual(YEARS).assign(cVeg=_series(CVEG, YEARS[with_cveg]), npp=_series(NPP, npp_years))
    cveg = np.where(with_cveg, CVEG, np.nan)
    litter = _derived_litterfall(cveg, np.where(np.isin(YEARS, npp_years), NPP, np.nan))
    both = ~np.isnan(litter) & ~np.isnan(cveg)
    assert list(YEARS[~both]) == [1999, 2000, 2001]
    hand = cveg[both].mean() * 1000.0 / litter[both].mean()
    before = np.nanmean(cveg) * 1000.0 / np.nanmean(litter[both])
    assert abs(hand - before) / hand > 1e-3  # the test tells the two apart
    tau = _rows(annual, native=native)[("tau_veg_global", "global")]
    assert tau.status == "ok" and tau.value == pytest.approx(hand, rel=1e-6)
    assert "over the years both have: 1982-1998, 2002-2018" in tau.reason


def test_r6_1_the_derived_litterfall_years_are_recorded_and_gate_its_rows() -> None:
    """cVeg lacking 1990, 1995, 2000, 2005 (33 of 37 years, npp and cVeg share 89 %) leaves the
    derived litterfall and cVeg 25 common years (68 %): the tau_veg rows fail (before: ok), the Rh
    rows stand."""
    gaps = [1990, 1995, 2000, 2005]
    cveg_years = YEARS[~np.isin(YEARS, gaps)]
    annual = _annual(YEARS).assign(cVeg=_series(CVEG, cveg_years), npp=_series(NPP))
    record = years_record(annual, PERIOD)
    lacking = sorted({y + d for y in gaps for d in (-1, 1)})
    assert by_variable(record)[DERIVED_NAME] == [int(y) for y in YEARS if y not in lacking]
    rows = _rows(annual)
    tau = rows[("tau_veg_global", "global")]
    assert tau.status == "failed" and "(25 of the 37 years 1982-2018)" in tau.reason
    assert f"computed from cVeg, {DERIVED_NAME}" in tau.reason
    assert rows[("cveg_global", "global")].status == "ok"
    assert rows[("rh_global", "global")].status == "ok"


def test_r6_1_full_series_record_no_lost_litterfall_year() -> None:
    """Every year present: the derived litterfall has them all (one-sided at the ends), no note."""
    annual = _annual(YEARS).assign(cVeg=_series(CVEG), npp=_series(NPP))
    record = years_record(annual, PERIOD)
    assert by_variable(record)[DERIVED_NAME] == list(YEARS)
    assert "over the years both have" not in _rows(annual)[("tau_veg_global", "global")].reason


@pytest.mark.parametrize("native", [True, False])
def test_r6_2_a_clitter_not_added_to_csoil_limits_no_csoil_row(native: bool) -> None:
    """A model whose cSoil already holds the litter (quirk ``litter_in_soil``, or pools labelled
    litter) keeps its cLitter beside it unadded (harmonize). A cLitter of 1982-1990 only then failed
    every cSoil and tau_soil row ("computed from cSoil, cLitter: ... 9 of the 37 years") and cut
    tau_soil's means to 1982-1990, though no cSoil number uses cLitter. (Where cLitter is added,
    cSoil + cLitter already lacks the years cLitter lacks.)"""
    annual = _annual(YEARS).assign(cLitter=_series(np.full(YEARS.size, 1.0), YEARS[YEARS <= 1990]))
    rows = _rows(annual, native=native)
    tau = rows[("tau_soil_global", "global")]
    assert tau.status == "ok" and tau.value == pytest.approx(CSOIL.mean() * 1000.0 / RH.mean(), rel=1e-6)
    assert "over the years both have" not in tau.reason
    assert rows[("csoil_global", "global")].status == "ok"


def test_r6_4_the_ensemble_attribution_leaves_out_a_model_whose_own_rows_failed() -> None:
    """Model B's cSoil covers 1982-1990 (9 of 37 years): its tau_soil and attribution rows fail, and
    the ensemble's tau_soil rows leave it out. The ensemble-mean attribution rows (tau_bias_pct ...)
    were computed from the maps of every DGVM, B's included, and stood "ok": now from the DGVMs
    whose own attribution row stands (here A alone, so the ensemble's equals A's)."""
    from test_coverage_per_row import _reference

    from rhbench.metrics import ensemble
    from rhbench.metrics.suite import evaluate

    short = _annual(YEARS[YEARS <= 1990])
    short["cSoil"] = short["cSoil"] * 3.0
    data = {"A": _annual(YEARS), "B": short.assign(rh=_annual(YEARS)["rh"])}
    reference = _reference()
    results = evaluate(reference, data, {}, period=PERIOD)
    rows = {(r.source, r.metric, r.region): r for r in results.rows}
    assert rows[("B", "tau_bias_pct", "global")].status == "failed"
    own = rows[("A", "tau_bias_pct", "global")]
    summary = {(r.source, r.metric): r for r in ensemble.summarize(results, reference).rows if r.region == "global"}
    assert summary[("ensemble_mean", "tau_soil_global")].reason == "1 DGVMs"
    mean = summary[("ensemble_mean", "tau_bias_pct")]
    assert mean.status == "ok" and mean.value == pytest.approx(own.value, rel=1e-5)
    assert "1 DGVM" in mean.reason


def test_r6_4_no_standing_model_gives_skipped_ensemble_attribution_rows() -> None:
    from test_coverage_per_row import _reference

    from rhbench.metrics import ensemble
    from rhbench.metrics.suite import evaluate

    reference = _reference()
    results = evaluate(
        reference, {"B": _annual(YEARS[YEARS <= 1990]).assign(rh=_annual(YEARS)["rh"])}, {}, period=PERIOD
    )
    summary = [r for r in ensemble.summarize(results, reference).rows if r.metric == "tau_bias_pct"]
    assert [(r.source, r.status) for r in summary] == [("ensemble_mean", "skipped")]


@pytest.mark.parametrize("native", [True, False])
def test_r6_5_rh_and_csoil_sharing_no_year_fail_the_tau_rows(native: bool) -> None:
    """cSoil 1982-1990 beside rh 2000-2018: no common year. The tau_soil rows were recomputed from
    means over no year first (NaN) and came out "skipped" ("undefined: no valid cells"), which a
    gate does not count as failed; now they fail, naming the years, as every other row computed
    from too few years does."""
    annual = _annual(YEARS[YEARS <= 1990]).assign(rh=_series(RH, YEARS[YEARS >= 2000]))
    rows = _rows(annual, native=native)
    for metric in ("tau_soil_global", "tau_bias_pct", "tau_soil_taylor_sd"):
        row = rows[(metric, "global")]
        assert row.status == "failed", metric
        assert "computed from rh, cSoil: the years all have a value in, none (0 of the 37 years" in row.reason
    assert rows[("tau_soil", "tropical")].status == "failed"


@pytest.mark.parametrize("native", [True, False])
def test_r6_8_tau_soil_over_common_years_with_a_gap_in_the_middle(native: bool) -> None:
    """cSoil missing 1995-1997 (a gap in the middle, not at an end): tau_soil = mean cSoil / mean rh,
    both over the 34 years cSoil has (rh rises, so a mean over all 37 years would differ)."""
    with_csoil = ~np.isin(YEARS, [1995, 1996, 1997])
    rows = _rows(_annual(YEARS[with_csoil]), native=native)
    hand = CSOIL[with_csoil].mean() * 1000.0 / RH[with_csoil].mean()
    assert abs(hand - CSOIL[with_csoil].mean() * 1000.0 / RH.mean()) / hand > 1e-3
    tau = rows[("tau_soil_global", "global")]
    assert tau.status == "ok" and tau.value == pytest.approx(hand, rel=1e-6)
    assert "over the years both have: 1982-1994, 1998-2018" in tau.reason


def test_r6_12_the_period_hint_names_the_years_or_the_gaps() -> None:
    """A row failing on too few years was told to "set period = [FIRST, LAST]": right when its
    years are one run (now named), a wrong fix when years inside lack a value (a period spanning
    them fails the same): then it says so, and names the longest run without a gap."""
    short = _rows(_annual(np.arange(1982, 1991)))
    hint = "set period = [FIRST, LAST] in the run's --config TOML: [1982, 1990] here"
    assert hint in short[("tau_soil_global", "global")].reason
    assert hint in short[("period_coverage", "global")].reason
    gaps = [1990, 1995, 2000, 2005]
    annual = _annual(YEARS).assign(cVeg=_series(CVEG, YEARS[~np.isin(YEARS, gaps)]), npp=_series(NPP))
    reason = _rows(annual)[("tau_veg_global", "global")].reason
    assert "years inside 1982-2018 lack a value: check the model's files for them" in reason
    assert "e.g. [2007, 2018]" in reason and "[1982, 2018] here" not in reason


def test_r6_12_no_common_year_is_told_to_check_the_files() -> None:
    annual = _annual(YEARS[YEARS <= 1990]).assign(rh=_series(RH, YEARS[YEARS >= 2000]))
    reason = _rows(annual)[("tau_soil_global", "global")].reason
    assert reason.endswith("(no year of the period has a value in all of them: check the model's files)")


def _twobox_rows(annual) -> dict[str, object]:
    """2-box rows of model M gated as the pipeline gates them (by its coverage rows and its years)."""
    from rhbench.metrics.coverage import gate_sources
    from rhbench.results import ScoreRow

    checks = [r for r in _rows(annual, native=False).values() if r.metric == "period_coverage"]
    rows = [ScoreRow("M", "dgvm", m, "global", "Pg C", 1.0, "ok", "") for m in ("dcTotal_constrained", "emulation_r2")]
    return {r.metric: r for r in gate_sources(rows, checks, {"M": annual}, PERIOD)}, checks[0]


def test_r6_open_an_unused_short_variable_keeps_the_2_box_rows() -> None:
    """An extra gpp of 1982-1990 (the 2-box reads npp, rh, cVeg, cSoil, litterfall) fails the
    source-wide period_coverage, which failed every 2-box row before; they stand now."""
    short = YEARS[YEARS <= 1990]
    annual = _annual(YEARS).assign(cVeg=_series(CVEG), npp=_series(NPP), gpp=_series(NPP * 2, short))
    rows, coverage_row = _twobox_rows(annual)
    assert coverage_row.status == "failed"
    assert rows["dcTotal_constrained"].status == "ok" and rows["dcTotal_constrained"].value == 1.0
    assert rows["emulation_r2"].status == "ok"


def test_r6_open_a_short_npp_fails_the_2_box_rows_naming_its_years() -> None:
    """npp of 1982-1990 only: the 2-box rows fail, the reason naming the variables and npp's years."""
    short = YEARS[YEARS <= 1990]
    annual = _annual(YEARS).assign(cVeg=_series(CVEG), npp=_series(NPP, short))
    rows, _ = _twobox_rows(annual)
    for row in rows.values():
        assert row.status == "failed"
        assert "computed from npp, rh, cVeg, cSoil" in row.reason
        assert "1982-1990 (9 of the 37 years 1982-2018)" in row.reason
