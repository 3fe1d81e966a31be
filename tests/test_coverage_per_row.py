"""Session 7, S7-7: period coverage judged per row, and turnover times from means over common years.

A model whose cSoil covers only part of the benchmark period keeps the rows computed from rh
alone (they cover the period) and fails only the rows computed from cSoil; when cSoil covers
enough years, tau_soil divides means of cSoil and rh over the SAME years (before: each over its
own years). Hand calculations with numpy on fields uniform in space, varying by year.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from rhbench import grid, landfrac, reduce
from rhbench.metrics.coverage import PERIOD_COVERAGE_MIN, by_variable, common_years, years_record
from rhbench.metrics.suite import Reference, evaluate

GRID = grid.common_grid(10.0)
SHAPE = (GRID.sizes["lat"], GRID.sizes["lon"])
YEARS = np.arange(1982, 2019)
PERIOD = (1982, 2018)
SPHERE = 4 * np.pi * grid.EARTH_RADIUS_M**2
RH = 400.0 + 5.0 * (YEARS - 1982)  # g C m-2 yr-1, rising: a mean over other years differs
CSOIL = 20.0 - 0.1 * (YEARS - 1982)  # kg C m-2


def _field(value: float) -> xr.DataArray:
    return xr.DataArray(np.full(SHAPE, value), dims=("lat", "lon"), coords=GRID.coords)


def _reference() -> Reference:
    land = _field(1.0) > 0
    return Reference(
        rh=_field(500.0),
        csoil_products=xr.concat([_field(v) for v in (15.0, 20.0)], dim="product"),
        area=grid.cell_area(GRID.lat, GRID.lon),
        land=land,
    )


def _annual(csoil_years: np.ndarray) -> xr.Dataset:
    """rh in every year 1982-2018; cSoil only in ``csoil_years`` (NaN in the others, as a merged file reads)."""
    has = np.isin(YEARS, csoil_years)
    csoil = np.where(has, CSOIL, np.nan)
    return xr.Dataset(
        {
            "rh": (("year", "lat", "lon"), np.broadcast_to(RH[:, None, None], (YEARS.size, *SHAPE)).copy()),
            "cSoil": (("year", "lat", "lon"), np.broadcast_to(csoil[:, None, None], (YEARS.size, *SHAPE)).copy()),
        },
        coords={"year": YEARS, **GRID.coords},
    )


def _rows(annual: xr.Dataset, *, native: bool = True) -> dict[tuple[str, str], object]:
    """The model's rows through the pipeline's reduction (native totals), or from the annual fields."""
    if native:
        cells = landfrac.measures(annual["rh"].isel(year=0), sftlf=_field(1.0))
        products = reduce.reduce_native(annual, cells, GRID, PERIOD)
        results = evaluate(_reference(), {"M": products.period}, {}, native={"M": products.regions})
    else:
        results = evaluate(_reference(), {"M": annual}, {}, period=PERIOD)
    return {(r.metric, r.region): r for r in results.rows if r.source == "M"}


@pytest.mark.parametrize("native", [True, False])
def test_a_short_csoil_fails_only_the_rows_computed_from_it(native: bool) -> None:
    """rh 1982-2018, cSoil 1982-1990 (9 of 37 years): before, every row of the model failed."""
    rows = _rows(_annual(np.arange(1982, 1991)), native=native)
    rh_rows = [r for (metric, _), r in rows.items() if metric.startswith("rh_") and metric != "rh_coverage"]
    assert len(rh_rows) > 20 and {r.status for r in rh_rows} <= {"ok", "skipped"}
    assert rows[("rh_global", "global")].status == "ok"
    assert rows[("rh_global", "global")].value == pytest.approx(RH.mean() * SPHERE / 1e15, rel=1e-9)
    assert rows[("rh_taylor_bias", "global")].status == "ok"
    for key in (("tau_soil_global", "global"), ("csoil_global", "global"), ("tau_soil", "tropical")):
        assert rows[key].status == "failed", key
        assert "1982-1990 (9 of the 37 years 1982-2018)" in rows[key].reason
        assert f"below {PERIOD_COVERAGE_MIN:.0%}" in rows[key].reason
    assert "computed from rh, cSoil:" in rows[("tau_soil_global", "global")].reason
    assert rows[("tau_bias_pct", "global")].status == "failed"
    period = rows[("period_coverage", "global")]
    assert period.value == pytest.approx(9 / 37) and period.status == "failed"
    assert "by variable: rh: 1982-2018; cSoil: 1982-1990" in period.reason


@pytest.mark.parametrize("native", [True, False])
def test_tau_soil_divides_means_over_the_years_both_have(native: bool) -> None:
    """cSoil 1986-2018 (33 of 37 years, above 80 %): tau_soil = mean cSoil / mean rh, both over
    1986-2018 (before: rh over 1982-2018); rh's own rows keep rh over 1982-2018."""
    rows = _rows(_annual(np.arange(1986, 2019)), native=native)
    common = YEARS >= 1986
    hand = CSOIL[common].mean() * 1000.0 / RH[common].mean()  # kg -> g over g yr-1: years
    before = CSOIL[common].mean() * 1000.0 / RH.mean()
    tau = rows[("tau_soil_global", "global")]
    assert tau.status == "ok" and tau.value == pytest.approx(hand, rel=1e-6)
    assert abs(hand - before) / hand > 0.01  # the test can tell the two apart
    assert "tau_soil from means of cSoil and rh over the years both have: 1986-2018" in tau.reason
    assert rows[("tau_soil", "tropical")].value == pytest.approx(hand, rel=1e-6)
    assert rows[("rh_global", "global")].value == pytest.approx(RH.mean() * SPHERE / 1e15, rel=1e-9)
    assert rows[("csoil_global", "global")].value == pytest.approx(CSOIL[common].mean() * SPHERE / 1e12, rel=1e-6)
    assert rows[("period_coverage", "global")].value == pytest.approx(33 / 37)
    assert rows[("tau_soil_taylor_sd", "global")].status == "ok"
    assert "1986-2018" in rows[("tau_bias_pct", "global")].reason


def test_the_same_years_give_the_plain_means_and_no_note() -> None:
    rows = _rows(_annual(YEARS))
    tau = rows[("tau_soil_global", "global")]
    assert tau.value == pytest.approx(CSOIL.mean() * 1000.0 / RH.mean(), rel=1e-6)
    assert "over the years both have" not in tau.reason
    assert rows[("period_coverage", "global")].reason == "years used: 1982-2018 (37 years)"


def test_a_single_year_csoil_snapshot_fails_its_rows_and_keeps_the_rh_rows() -> None:
    rows = _rows(_annual(np.array([2000])))
    assert rows[("rh_global", "global")].status == "ok"
    assert rows[("rh_overall_score", "global")].status == "ok"
    tau = rows[("tau_soil_global", "global")]
    assert tau.status == "failed" and "2000 (1 of the 37 years 1982-2018)" in tau.reason
    assert rows[("period_coverage", "global")].value == pytest.approx(1 / 37)
    assert (rows[("first_year", "global")].value, rows[("last_year", "global")].value) == (2000.0, 2000.0)


def test_a_static_csoil_covers_every_year() -> None:
    """cSoil without a time axis beside a yearly rh (the annual-field path): it limits no year."""
    annual = _annual(YEARS).assign(cSoil=_field(20.0))
    rows = _rows(annual, native=False)
    assert rows[("tau_soil_global", "global")].status == "ok"
    assert rows[("tau_soil_global", "global")].value == pytest.approx(20.0 * 1000.0 / RH.mean(), rel=1e-6)


def test_the_years_of_each_variable_are_recorded_and_read_back() -> None:
    record = years_record(_annual(np.array([1982, 1983, 1990, 1995, 1996])), PERIOD)
    assert record["period_years_by_variable"] == "rh: 1982-2018; cSoil: 1982-1983, 1990, 1995-1996"
    assert by_variable(record)["cSoil"] == [1982, 1983, 1990, 1995, 1996]
    assert common_years(record, ("rh",), PERIOD) == (("rh",), list(range(1982, 2019)))
    assert common_years(record, ("rh", "csoil"), PERIOD)[1] == [1982, 1983, 1990, 1995, 1996]


def test_the_gate_flags_the_drop_while_the_rh_rows_stand(tmp_path) -> None:
    """``rhbench check`` of the short-cSoil model against the full one: period_coverage dropped
    (and first/last year did not move: the common years start in 1982), the Rh total kept."""
    from rhbench.report.check import compare_scorecards
    from rhbench.report.tables import read_scorecard

    cards = []
    for name, years in (("base", YEARS), ("now", np.arange(1982, 1991))):
        found = _rows(_annual(years)).values()
        document = {"synthetic": True, "meta": {"config": {"period": list(PERIOD)}}, "rows": []}
        for r in found:
            if r.metric not in ("period_coverage", "rh_global"):
                continue
            row = {"source": r.source, "kind": r.kind, "metric": r.metric, "region": r.region, "units": r.units}
            value = None if np.isnan(r.value) else r.value
            document["rows"].append({**row, "value": value, "status": r.status, "reason": r.reason})
        (tmp_path / f"{name}.json").write_text(json.dumps(document))
        cards.append(read_scorecard(tmp_path / f"{name}.json"))
    report = compare_scorecards(cards[1], cards[0])
    flagged = {row.metric for row in report.rows if row.failed}
    assert not report.passed and "period_coverage" in flagged and "rh_global" not in flagged


CVEG = 5.0 + 0.02 * (YEARS - 1982)  # kg C m-2, rising 0.02 kg C m-2 yr-1 = 20 g C m-2 yr-1
NPP = 300.0 + 4.0 * (YEARS - 1982)  # g C m-2 yr-1


def _series(values: np.ndarray, years: np.ndarray = YEARS) -> tuple[tuple[str, ...], np.ndarray]:
    masked = np.where(np.isin(YEARS, years), values, np.nan)
    return ("year", "lat", "lon"), np.broadcast_to(masked[:, None, None], (YEARS.size, *SHAPE)).copy()


@pytest.mark.parametrize("given", [True, False])
def test_tau_veg_divides_means_over_the_years_cveg_and_litterfall_both_have(given: bool) -> None:
    """cVeg 1982-2018 beside litterfall of 1986-2018: fVegLitter given, or derived as NPP - dcVeg/dt
    from an NPP of 1986-2018 (cVeg rises 20 g C m-2 yr-1 every year, so litterfall = NPP - 20)."""
    later = YEARS[YEARS >= 1986]
    flux = "fVegLitter" if given else "npp"
    annual = _annual(YEARS).assign(cVeg=_series(CVEG), **{flux: _series(NPP, later)})
    rows = _rows(annual)
    common = YEARS >= 1986
    litter = NPP[common] if given else NPP[common] - 20.0
    hand = CVEG[common].mean() * 1000.0 / litter.mean()
    tau = rows[("tau_veg_global", "global")]
    assert tau.status == "ok" and tau.value == pytest.approx(hand, rel=1e-5)
    assert abs(hand - CVEG.mean() * 1000.0 / litter.mean()) / hand > 0.005  # before: cVeg over 1982-2018
    assert "tau_veg from means of cVeg and fVegLitter over the years both have: 1986-2018" in tau.reason
    assert rows[("cveg_global", "global")].value == pytest.approx(CVEG.mean() * SPHERE / 1e12, rel=1e-6)
    assert rows[("tau_soil_global", "global")].value == pytest.approx(CSOIL.mean() * 1000 / RH.mean(), rel=1e-6)
