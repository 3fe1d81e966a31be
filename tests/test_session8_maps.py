"""Session 8, item 1: every map states and uses the years of the rows it illustrates.

A tiny synthetic case on a 10-degree grid, fields varying by cell and by year, computed by hand
with numpy: model A has every year 1982-2018; model B has rh 1982-2018 but cSoil 1986-2018 (33 of
37 years: its rows stand, its tau_soil rows divide means over 1986-2018); model C has every
variable in 1982-2000 only (19 of 37 years: its rows fail; its maps are over its own years and
say so). Before: B's tau_soil, tau_bias and zonal tau_soil divided cSoil over 1986-2018 by rh
over 1982-2018, and the ensemble-mean maps mixed the same; no map said its years.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from test_coverage_per_row import GRID, PERIOD, SHAPE, YEARS, _field

from rhbench import grid, landfrac, reduce
from rhbench.metrics import ensemble
from rhbench.metrics.suite import Reference, evaluate

RNG = np.random.default_rng(8)
RH_CELLS = RNG.uniform(0.5, 1.5, SHAPE)  # spatial pattern of Rh (x the yearly value, g C m-2 yr-1)
CSOIL_CELLS = RNG.uniform(0.5, 1.5, SHAPE)
RH_YEAR = 400.0 + 5.0 * (YEARS - 1982)  # rising: a mean over other years differs
CSOIL_YEAR = 20.0 - 0.1 * (YEARS - 1982)  # kg C m-2
OBS_RH = 450.0 * RNG.uniform(0.7, 1.3, SHAPE)
OBS_CSOIL = 18.0 * RNG.uniform(0.7, 1.3, SHAPE)


def _cube(year_values: np.ndarray, cells: np.ndarray, years: np.ndarray) -> np.ndarray:
    """(year, lat, lon) values year_values x cells, NaN in the years not in ``years``."""
    cube = year_values[:, None, None] * cells[None]
    cube[~np.isin(YEARS, years)] = np.nan
    return cube


CVEG_CELLS = RNG.uniform(0.5, 1.5, SHAPE)
CVEG_YEAR = 5.0 + 0.03 * (YEARS - 1982)  # kg C m-2
LITTER_YEAR = 300.0 + 4.0 * (YEARS - 1982)  # g C m-2 yr-1


def _model(rh_years: np.ndarray, csoil_years: np.ndarray, scale: float = 1.0, cveg_years=None) -> xr.Dataset:
    cveg_years = csoil_years if cveg_years is None else cveg_years
    return xr.Dataset(
        {
            "rh": (("year", "lat", "lon"), scale * _cube(RH_YEAR, RH_CELLS, rh_years)),
            "cSoil": (("year", "lat", "lon"), _cube(CSOIL_YEAR, CSOIL_CELLS, csoil_years)),
            "cVeg": (("year", "lat", "lon"), _cube(CVEG_YEAR, CVEG_CELLS, cveg_years)),
            "fVegLitter": (("year", "lat", "lon"), _cube(LITTER_YEAR, RH_CELLS, rh_years)),
        },
        coords={"year": YEARS, **GRID.coords},
    )


def _reference() -> Reference:
    land = _field(1.0) > 0
    products = xr.concat([_field(0.0) + OBS_CSOIL * f for f in (0.9, 1.1)], dim="product")
    return Reference(
        rh=_field(0.0) + OBS_RH, csoil_products=products, area=grid.cell_area(GRID.lat, GRID.lon), land=land
    )


MODELS = {
    "A": _model(YEARS, YEARS),
    "B": _model(YEARS, YEARS[YEARS >= 1986], scale=1.2, cveg_years=YEARS[YEARS >= 1984]),
    "C": _model(YEARS[YEARS <= 2000], YEARS[YEARS <= 2000], scale=0.8),
}
SCALE = {"A": 1.0, "B": 1.2, "C": 0.8}


def _hand_means(name: str, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rh, cSoil) period means over ``years`` by numpy: g C m-2 yr-1 and kg C m-2."""
    pick = np.isin(YEARS, years)
    rh = SCALE[name] * RH_YEAR[pick].mean() * RH_CELLS
    return rh, CSOIL_YEAR[pick].mean() * CSOIL_CELLS


def _evaluated(native: bool):
    reference = _reference()
    if native:
        data, totals = {}, {}
        for name, annual in MODELS.items():
            cells = landfrac.measures(annual["rh"].isel(year=0), sftlf=_field(1.0))
            products = reduce.reduce_native(annual, cells, GRID, PERIOD)
            data[name], totals[name] = products.period, products.regions
        results = evaluate(reference, data, {}, period=PERIOD, native=totals)
    else:
        results = evaluate(reference, MODELS, {}, period=PERIOD)
    return reference, results


@pytest.fixture(scope="module", params=[True, False], ids=["native", "annual"])
def evaluated(request):
    return _evaluated(request.param)


def test_a_model_whose_csoil_lacks_years_maps_tau_soil_over_the_years_its_rows_use(evaluated):
    reference, results = evaluated
    maps, zonal = results.datasets["maps"], results.datasets["zonal"]
    rows = {(r.source, r.metric, r.region): r for r in results.rows}
    assert "1986-2018" in rows[("B", "tau_soil_global", "global")].reason  # the rows' years
    rh_all, _ = _hand_means("B", YEARS)
    rh_common, csoil_common = _hand_means("B", YEARS[YEARS >= 1986])
    tau = csoil_common * 1000.0 / rh_common
    np.testing.assert_allclose(maps["rh"].sel(source="B").values, rh_all, rtol=1e-6)  # the Rh rows' years
    np.testing.assert_allclose(maps["tau_soil"].sel(source="B").values, tau, rtol=1e-5)
    tau_obs = OBS_CSOIL * 1000.0 / OBS_RH
    np.testing.assert_allclose(maps["tau_bias"].sel(source="B").values, tau - tau_obs, rtol=1e-4, atol=1e-4)
    # zonal tau_soil: ratio of zonal means (cell areas equal along a latitude row)
    zonal_hand = csoil_common.mean(axis=1) * 1000.0 / rh_common.mean(axis=1)
    np.testing.assert_allclose(zonal["tau_soil"].sel(source="B").values, zonal_hand, rtol=1e-6)
    np.testing.assert_allclose(zonal["rh"].sel(source="B").values, rh_all.mean(axis=1), rtol=1e-6)
    # the years are stated with every map
    assert str(maps["rh_years"].sel(source="B").item()) == "1982-2018"
    assert str(maps["tau_soil_years"].sel(source="B").item()) == "1986-2018"
    assert str(zonal["tau_soil_years"].sel(source="B").item()) == "1986-2018"
    assert str(zonal["csoil_years"].sel(source="B").item()) == "1986-2018"
    assert maps.attrs["period"] == "1982-2018"


def test_a_model_covering_part_of_the_period_maps_its_own_years_labelled(evaluated):
    """C (1982-2000): its rows fail; its maps are its own years' means, and say which."""
    _, results = evaluated
    maps = results.datasets["maps"]
    rows = {(r.source, r.metric, r.region): r for r in results.rows}
    assert rows[("C", "rh_global", "global")].status == "failed"
    rh, csoil = _hand_means("C", YEARS[YEARS <= 2000])
    np.testing.assert_allclose(maps["rh"].sel(source="C").values, rh, rtol=1e-6)
    np.testing.assert_allclose(maps["tau_soil"].sel(source="C").values, csoil * 1000.0 / rh, rtol=1e-5)
    assert str(maps["rh_years"].sel(source="C").item()) == "1982-2000"
    assert str(maps["tau_soil_years"].sel(source="C").item()) == "1982-2000"
    assert str(maps["rh_years"].sel(source="A").item()) == "1982-2018"


def test_the_ensemble_mean_maps_use_each_members_row_years_and_say_so(evaluated):
    """Members: A and B (C's rows failed). Ensemble tau_soil = mean cSoil / mean Rh of the members, each
    member's over the years of its tau_soil rows (B: 1986-2018); the ensemble Rh map = the mean of the
    members' Rh maps over the years of their Rh rows (both 1982-2018)."""
    reference, results = evaluated
    summary = ensemble.summarize(results, reference)
    maps = summary.datasets["maps"]
    rh_a, cs_a = _hand_means("A", YEARS)
    rh_b_all, _ = _hand_means("B", YEARS)
    rh_b, cs_b = _hand_means("B", YEARS[YEARS >= 1986])
    tau = (cs_a + cs_b) / 2 * 1000.0 / ((rh_a + rh_b) / 2)
    np.testing.assert_allclose(maps["tau_soil"].sel(source="ensemble_mean").values, tau, rtol=1e-5)
    np.testing.assert_allclose(maps["rh"].sel(source="ensemble_mean").values, (rh_a + rh_b_all) / 2, rtol=1e-6)
    # attribution: Rh dominates where |100 (Rh_obs / Rh_mod - 1)| > |100 (cSoil_mod / cSoil_obs - 1)|
    rh_mod, cs_mod = (rh_a + rh_b) / 2, (cs_a + cs_b) / 2
    dominated = np.abs(OBS_RH / rh_mod - 1) > np.abs(cs_mod / OBS_CSOIL - 1)
    np.testing.assert_array_equal(maps["attribution"].sel(source="ensemble_mean").values, np.where(dominated, 1, 2))
    assert str(maps["rh_years"].sel(source="ensemble_mean").item()) == "1982-2018"
    assert str(maps["tau_soil_years"].sel(source="ensemble_mean").item()) == "A: 1982-2018; B: 1986-2018"
    share = next(r for r in summary.rows if (r.source, r.metric) == ("ensemble_mean", "tau_bias_rh_dominated_area_pct"))
    area = grid.cell_area(GRID.lat, GRID.lon).values
    assert share.value == pytest.approx(100 * area[dominated].sum() / area.sum(), rel=1e-6)


def test_results_nc_and_the_page_state_the_years_of_each_map(tmp_path):
    import pandas as pd

    from rhbench.report.cfnetcdf import write_results_nc
    from rhbench.report.sections import Page

    reference, results = _evaluated(native=False)
    results.extend(ensemble.summarize(results, reference))
    path = tmp_path / "results.nc"
    write_results_nc(path, results.datasets, synthetic=True)
    with xr.open_dataset(path, group="maps") as maps:
        assert str(maps["tau_soil_years"].sel(source="B").item()) == "1986-2018"
        assert maps["tau_soil_years"].attrs["long_name"].startswith("years of each source's tau_soil")
        assert maps["tau_soil"].attrs["years"] == "tau_soil_years" and maps["rh"].attrs["years"] == "rh_years"
        assert maps.attrs["period"] == "1982-2018"
    with xr.open_dataset(path, group="zonal") as zonal:
        assert str(zonal["csoil_years"].sel(source="C").item()) == "1982-2000"
    scores = pd.DataFrame([r.__dict__ for r in results.rows])
    page = Page(scores, results.datasets, synthetic=True)
    html = page.maps()
    assert "Years: period means over 1982-2018" in html
    assert "B: 1986-2018" in html and "C: 1982-2000" in html


def _hand_veg(years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cVeg, litterfall) period means over ``years`` by numpy: kg C m-2 and g C m-2 yr-1."""
    pick = np.isin(YEARS, years)
    return CVEG_YEAR[pick].mean() * CVEG_CELLS, LITTER_YEAR[pick].mean() * RH_CELLS


def test_tau_veg_maps_and_zonal_use_the_years_cveg_and_litterfall_both_have(evaluated):
    """B's cVeg covers 1984-2018 beside litterfall 1982-2018: its tau_veg map, zonal tau_veg and the
    ensemble's (A and B) divide means over 1984-2018 (B) and 1982-2018 (A), each as its rows do."""
    reference, results = evaluated
    maps, zonal = results.datasets["maps"], results.datasets["zonal"]
    rows = {(r.source, r.metric, r.region): r for r in results.rows}
    assert "1984-2018" in rows[("B", "tau_veg_global", "global")].reason
    cveg_b, litter_b = _hand_veg(YEARS[YEARS >= 1984])
    np.testing.assert_allclose(maps["tau_veg"].sel(source="B").values, cveg_b * 1000.0 / litter_b, rtol=1e-5)
    zonal_hand = cveg_b.mean(axis=1) * 1000.0 / litter_b.mean(axis=1)
    np.testing.assert_allclose(zonal["tau_veg"].sel(source="B").values, zonal_hand, rtol=1e-6)
    assert str(maps["tau_veg_years"].sel(source="B").item()) == "1984-2018"
    assert np.isnan(maps["tau_veg"].sel(source="observations").values).all()  # no observed litterfall map
    cveg_a, litter_a = _hand_veg(YEARS)
    ensemble_maps = ensemble.summarize(results, reference).datasets["maps"]
    hand = (cveg_a + cveg_b) / 2 * 1000.0 / ((litter_a + litter_b) / 2)
    np.testing.assert_allclose(ensemble_maps["tau_veg"].sel(source="ensemble_mean").values, hand, rtol=1e-5)
    assert str(ensemble_maps["tau_veg_years"].sel(source="ensemble_mean").item()) == "A: 1982-2018; B: 1984-2018"


def test_rows_over_fewer_years_than_the_period_say_which(evaluated):
    """B's cSoil rows are over 1986-2018 (its cSoil's years), its Rh rows over the whole period: only the
    former say so; the tau_soil rows keep their note (not repeated); a prior product of 1982-2012 says its
    years on its Rh rows (before: only its period_coverage row named them)."""
    _, results = evaluated
    rows = {(r.source, r.metric, r.region): r for r in results.rows}
    assert (
        "period means over 1986-2018: the years of 1982-2018 cSoil has" in rows[("B", "csoil_global", "global")].reason
    )
    assert "period means over" not in rows[("B", "rh_global", "global")].reason
    tau = rows[("B", "tau_soil_global", "global")].reason
    assert tau.count("1986-2018") == 1 and "period means over" not in tau
    assert "period means over" not in rows[("A", "tau_soil_global", "global")].reason


def test_a_prior_product_of_fewer_years_says_them_on_its_rows():
    reference = _reference()
    product = xr.DataArray(_cube(RH_YEAR, RH_CELLS, YEARS[YEARS <= 2012]), dims=("year", "lat", "lon"), name="rh")
    product = product.assign_coords(year=YEARS, **GRID.coords)
    results = evaluate(reference, {}, {"P": product}, period=PERIOD)
    rows = {(r.metric, r.region): r for r in results.rows if r.source == "P"}
    assert rows[("rh_global", "global")].status == "ok"
    assert "period means over 1982-2012: the years of 1982-2018 rh has" in rows[("rh_global", "global")].reason
    assert "period means over 1982-2012" in rows[("rh_taylor_r", "global")].reason
    pick = YEARS <= 2012
    hand = (RH_YEAR[pick].mean() * RH_CELLS * grid.cell_area(GRID.lat, GRID.lon).values).sum() / 1e15
    assert rows[("rh_global", "global")].value == pytest.approx(hand, rel=1e-9)
