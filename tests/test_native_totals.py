"""Native-grid totals in the scorecard, and spatial / period coverage (issues 13 and 14).

A model's totals come from its own grid with cell area x land fraction: they must not move
when the reference's land mask moves, nor with the common grid; coverage below the
documented thresholds fails the rows that would otherwise be wrong numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rhbench import grid, landfrac, reduce
from rhbench.metrics.coverage import PERIOD_COVERAGE_MIN
from rhbench.metrics.native import COVERAGE_MIN, native_regions, native_totals
from rhbench.metrics.suite import Reference, evaluate
from rhbench.vegclass import CLASS_NAMES

GRID = grid.common_grid(10.0)
SHAPE = (GRID.sizes["lat"], GRID.sizes["lon"])
YEARS = np.arange(1982, 2019)


def _field(value: float) -> xr.DataArray:
    return xr.DataArray(np.full(SHAPE, value), dims=("lat", "lon"), coords=GRID.coords)


def _reference(land: xr.DataArray) -> Reference:
    return Reference(
        rh=_field(500.0).where(land),
        csoil_products=xr.concat([_field(v) for v in (15.0, 20.0)], dim="product"),
        area=grid.cell_area(GRID.lat, GRID.lon),
        land=land,
    )


def _model(rh: float, *, lat_max: float = 90.0, years: np.ndarray = YEARS) -> xr.Dataset:
    """A model on the common grid (a 10 degree model), Rh only where |lat| < lat_max."""
    values = _field(rh).where(np.abs(GRID.lat) < lat_max).transpose("lat", "lon").values
    annual = xr.Dataset(
        {
            "rh": (("year", "lat", "lon"), np.broadcast_to(values, (years.size, *SHAPE))),
            "cSoil": (("year", "lat", "lon"), np.full((years.size, *SHAPE), 20.0)),
        },
        coords={"year": years, **GRID.coords},
    )
    return annual


def _products(annual: xr.Dataset, land: float = 1.0) -> reduce.ModelProducts:
    cells = landfrac.measures(annual["rh"].isel(year=0), sftlf=_field(land))
    return reduce.reduce_native(annual, cells, GRID, (1982, 2018))


def _rows(reference: Reference, products: reduce.ModelProducts) -> dict[tuple[str, str], object]:
    results = evaluate(reference, {"M": products.period}, {}, native={"M": products.regions})
    return {(r.metric, r.region): r for r in results.rows if r.source == "M"}


def test_model_totals_do_not_depend_on_the_reference_land_mask() -> None:
    products = _products(_model(400.0), land=0.5)
    everywhere = _reference(_field(1.0) > 0)
    tropics = _reference((np.abs(GRID.lat) < 30) & (_field(1.0) > 0))
    one, two = _rows(everywhere, products), _rows(tropics, products)
    sphere = 4 * np.pi * grid.EARTH_RADIUS_M**2
    expected = 400.0 * sphere * 0.5 / 1e15  # g C m-2 yr-1 x land area -> Pg C yr-1
    assert one[("rh_global", "global")].value == pytest.approx(expected, rel=1e-9)
    assert two[("rh_global", "global")].value == pytest.approx(expected, rel=1e-9)
    assert one[("tau_soil_global", "global")].value == pytest.approx(20.0 * 1000 / 400.0)
    assert one[("rh_total", "EQ-10N")].value == two[("rh_total", "EQ-10N")].value


def test_a_model_covering_only_the_tropics_fails_its_totals_not_its_maps() -> None:
    rows = _rows(_reference(_field(1.0) > 0), _products(_model(400.0, lat_max=40.0)))
    coverage = rows[("rh_coverage", "global")]
    assert coverage.status == "failed"
    assert coverage.value == pytest.approx(np.sin(np.deg2rad(40.0)), rel=1e-9)  # band area share
    assert f"below {COVERAGE_MIN:.0%}" in coverage.reason
    assert rows[("rh_global", "global")].status == "failed"
    assert "covers 64%" in rows[("rh_global", "global")].reason
    assert rows[("tau_soil", "tropical")].status == "failed"
    assert rows[("rh_taylor_r", "global")].status != "failed"


def test_a_model_with_few_years_of_the_period_fails_every_row_and_says_which_years() -> None:
    products = _products(_model(400.0, years=np.arange(1995, 2006)))
    rows = _rows(_reference(_field(1.0) > 0), products)
    period = rows[("period_coverage", "global")]
    assert period.status == "failed"
    assert period.value == pytest.approx(11 / 37)
    assert "years used: 1995-2005 (11 years)" in period.reason
    assert PERIOD_COVERAGE_MIN == 0.8
    facts = ("rh_coverage", "first_year", "last_year")  # what the model covers is reported, not failed
    assert not [r for r in rows.values() if r.status == "ok" and r.metric not in facts]  # else skipped: no cVeg
    assert (rows[("first_year", "global")].value, rows[("last_year", "global")].value) == (1995.0, 2005.0)
    assert rows[("rh_global", "global")].status == "failed"
    assert rows[("tau_soil_global", "global")].status == "failed"


def test_a_historical_run_ending_in_2014_is_evaluated_on_its_years_and_says_so() -> None:
    products = _products(_model(400.0, years=np.arange(1850, 2015)))
    rows = _rows(_reference(_field(1.0) > 0), products)
    period = rows[("period_coverage", "global")]
    assert period.status == "ok"
    assert period.reason == "years used: 1982-2014 (33 years)"
    assert rows[("rh_global", "global")].status == "ok"


def _rh_from_1985(annual: xr.Dataset) -> xr.Dataset:
    """``annual`` with rh missing (written as NaN) in 1982-1984 while cSoil keeps every year."""
    return annual.assign(rh=annual["rh"].where(annual["year"] >= 1985))


def test_a_period_year_one_variable_lacks_is_not_counted_as_used() -> None:
    """Session 7, item 2: cSoil covers 1982-2018 but rh only 1985-2018. Before: 'years used:
    1982-2018 (37 years)', period_coverage 1.0, first_year 1982. Now the years every variable has:
    34 of 37, first year 1985, the missing years named per variable; rh's mean is over its years."""
    rows = _rows(_reference(_field(1.0) > 0), _products(_rh_from_1985(_model(400.0))))
    period = rows[("period_coverage", "global")]
    assert period.value == pytest.approx(34 / 37) and period.status == "ok"  # above 80 %: evaluated
    assert period.reason.startswith("years used: 1985-2018 (34 years); without any value: rh in 1982-1984")
    assert (rows[("first_year", "global")].value, rows[("last_year", "global")].value) == (1985.0, 2018.0)
    sphere = 4 * np.pi * grid.EARTH_RADIUS_M**2
    assert rows[("rh_global", "global")].value == pytest.approx(400.0 * sphere / 1e15, rel=1e-9)


def test_a_variable_lacking_most_of_the_period_fails_the_model_and_the_gate(tmp_path) -> None:
    """rh only in 2010-2018 beside a full cSoil: 9 of 37 years every variable has, below 80 %, so the
    model's rows fail (before: coverage 1.0, all ok); against the full model's scorecard the gate
    (``rhbench check``) fails its period_coverage (a drop) and first_year (a change) rows."""
    import json

    from rhbench.report.check import compare_scorecards
    from rhbench.report.tables import read_scorecard

    short = _model(400.0)
    short = short.assign(rh=short["rh"].where(short["year"] >= 2010))
    rows = _rows(_reference(_field(1.0) > 0), _products(short))
    assert rows[("period_coverage", "global")].value == pytest.approx(9 / 37)
    assert rows[("period_coverage", "global")].status == "failed"
    assert rows[("rh_global", "global")].status == "failed"
    assert rows[("first_year", "global")].value == 2010.0
    cards = []
    for name, annual in (("base", _model(400.0)), ("now", short)):
        found = _rows(_reference(_field(1.0) > 0), _products(annual)).values()
        kept = [r for r in found if r.metric in ("period_coverage", "first_year", "last_year")]
        document = {"synthetic": True, "meta": {"config": {"period": [1982, 2018]}}, "rows": []}
        for r in kept:  # the status the row had before coverage gated the model: the gate compares values
            row = {"source": r.source, "kind": r.kind, "metric": r.metric, "region": r.region, "units": r.units}
            document["rows"].append({**row, "value": r.value, "status": "ok", "reason": r.reason})
        (tmp_path / f"{name}.json").write_text(json.dumps(document))
        cards.append(read_scorecard(tmp_path / f"{name}.json"))
    report = compare_scorecards(cards[1], cards[0])
    failed = {row.metric for row in report.rows if row.failed}
    assert not report.passed and failed == {"period_coverage", "first_year"}


def test_native_regions_sample_the_reference_classes_at_native_centres() -> None:
    native = xr.DataArray(np.ones((2, 2)), dims=("lat", "lon"), coords={"lat": [-45.0, 45.0], "lon": [-90.0, 90.0]})
    classes = xr.where(GRID.lat > 0, 1, 2) * xr.ones_like(GRID.lon)
    regions = native_regions(native, vegclass=classes.transpose("lat", "lon"))
    totals = native_totals(xr.Dataset({"rh": native * 100.0}), native * 1e12, regions)
    assert float(totals["rh_total"].sel(region="global")) == pytest.approx(4 * 100.0 * 1e12 / 1e15)
    first, second = CLASS_NAMES[0], CLASS_NAMES[1]  # codes 1 (north) and 2 (south)
    assert float(totals["land_area"].sel(region=first)) == pytest.approx(2e12)
    assert float(totals["land_area"].sel(region=second)) == pytest.approx(2e12)
