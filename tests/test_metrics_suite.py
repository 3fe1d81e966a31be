"""Tests of evaluate() on a tiny synthetic ensemble with known answers (synthetic data)."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rhbench.grid import EARTH_RADIUS_M, cell_area, common_grid
from rhbench.metrics.suite import METRICS, Reference, evaluate
from rhbench.results import STATUSES
from rhbench.vegclass import class_code

YEARS = np.arange(1975, 2021)
GRID = common_grid(5.0)
SHAPE = (GRID.sizes["lat"], GRID.sizes["lon"])
#: land: cells with centre |lat| < 30 -> edges at +-30 deg, area 2 pi R^2 exactly
LAND = (np.abs(GRID.lat) < 30) & xr.ones_like(GRID.lon, dtype=bool)
LAND_M2 = 2 * np.pi * EARTH_RADIUS_M**2
#: reference Rh 500 + 100 cos(lon): its global mean over full circles is exactly 500
REF_RH = (500.0 + 100.0 * np.cos(np.deg2rad(GRID.lon))) * xr.ones_like(GRID.lat)
SD_REF = 100.0 / np.sqrt(2.0)


def _grid(values) -> xr.DataArray:
    return xr.DataArray(np.broadcast_to(values, SHAPE).copy(), dims=("lat", "lon"), coords=GRID.coords)


def _annual(field2d, trend=0.0) -> xr.DataArray:
    data = np.asarray(field2d)[None] + trend * (YEARS - 1982)[:, None, None]
    return xr.DataArray(data, dims=("year", "lat", "lon"), coords={"year": YEARS, **GRID.coords})


def _reference() -> Reference:
    products = xr.concat([_grid(v) for v in (16.0, 18.0, 20.0, 22.0, 24.0)], dim="product")
    vegclass = xr.where(GRID.lat < 0, class_code("ENF"), class_code("Grassland")) * LAND
    return Reference(
        rh=REF_RH.where(LAND).transpose("lat", "lon"),
        csoil_products=products,
        area=cell_area(GRID.lat, GRID.lon),
        vegclass=vegclass.transpose("lat", "lon"),
        land=LAND.transpose("lat", "lon"),
        rh_global_sd=0.9,
    )


def _ensemble() -> dict[str, xr.Dataset]:
    rh = REF_RH.transpose("lat", "lon").values
    full = xr.Dataset(
        {
            "rh": _annual(1.2 * rh),
            "cSoil": _annual(_grid(12.0)),
            "cVeg": _annual(_grid(4.0)),
            "fVegLitter": _annual(_grid(400.0)),
            "npp": _annual(_grid(999.0)),
        }
    ).chunk({"year": 7})
    # cVeg grows 0.1 kg C m-2 yr-1 (mean 5.8 over 1982-2018); litterfall = 500 - 100
    no_litter = xr.Dataset(
        {
            "rh": _annual(0.5 * rh),
            "cSoil": _annual(_grid(30.0)),
            "cVeg": _annual(_grid(4.0), trend=0.1),
            "npp": _annual(_grid(500.0)),
        }
    )
    no_rh = xr.Dataset({"cSoil": _annual(_grid(10.0)), "cVeg": _annual(_grid(4.0))})
    return {"Full": full, "NoLitter": no_litter, "NoRh": no_rh}


@pytest.fixture(scope="module")
def table() -> tuple[pd.DataFrame, object]:
    years = np.arange(2000, 2011)
    product = xr.DataArray(
        np.broadcast_to(1.1 * REF_RH.transpose("lat", "lon").values, (years.size, *SHAPE)),
        dims=("year", "lat", "lon"),
        coords={"year": years, **GRID.coords},
    )
    results = evaluate(_reference(), _ensemble(), {"Prod": product, "Map": 0.9 * REF_RH})
    return pd.DataFrame([row.to_dict() for row in results.rows]), results


def _value(df: pd.DataFrame, source: str, metric: str, region: str = "global") -> float:
    hit = df[(df.source == source) & (df.metric == metric) & (df.region == region)]
    assert len(hit) == 1, (source, metric, region)
    return hit.value.iloc[0]


def test_global_rh_and_tau_soil_match_the_construction(table):
    df, _ = table
    rh_pg = 500.0 * LAND_M2 / 1e15
    assert _value(df, "observations", "rh_global") == pytest.approx(rh_pg, rel=1e-9)
    assert _value(df, "observations", "rh_global_sd") == 0.9
    assert _value(df, "Full", "rh_global") == pytest.approx(1.2 * rh_pg, rel=1e-9)
    assert _value(df, "NoLitter", "rh_global") == pytest.approx(0.5 * rh_pg, rel=1e-9)
    assert _value(df, "Prod", "rh_global") == pytest.approx(1.1 * rh_pg, rel=1e-9)
    assert _value(df, "observations", "tau_soil_global") == pytest.approx(40.0)
    # per product 16..24 kg over 500 g -> 32, 36, 40, 44, 48 yr; sample SD sqrt(40)
    assert _value(df, "observations", "tau_soil_global_sd") == pytest.approx(np.sqrt(40.0))
    assert _value(df, "Full", "tau_soil_global") == pytest.approx(12000 / 600)
    assert _value(df, "NoLitter", "tau_soil_global") == pytest.approx(30000 / 250)
    assert _value(df, "Prod", "tau_soil_global") == pytest.approx(20000 / 550)
    assert _value(df, "Map", "tau_soil_global") == pytest.approx(20000 / 450)


def test_tau_veg_with_fveglitter_and_from_npp_minus_growth(table):
    df, _ = table
    assert _value(df, "Full", "tau_veg_global") == pytest.approx(4000 / 400)
    assert _value(df, "NoLitter", "tau_veg_global") == pytest.approx(5800 / 400)


def test_taylor_rows_against_scaled_reference(table):
    df, _ = table
    assert _value(df, "observations", "rh_taylor_sd") == pytest.approx(SD_REF, rel=1e-9)
    assert _value(df, "Full", "rh_taylor_r") == pytest.approx(1.0)
    assert _value(df, "Full", "rh_taylor_sd") == pytest.approx(1.2 * SD_REF, rel=1e-9)
    assert _value(df, "Full", "rh_taylor_crmse") == pytest.approx(0.2 * SD_REF, rel=1e-9)
    assert _value(df, "Full", "rh_taylor_bias") == pytest.approx(100.0, rel=1e-9)
    assert _value(df, "Full", "rh_taylor_score") == pytest.approx(4 / (1.2 + 1 / 1.2) ** 2)
    assert _value(df, "Prod", "rh_taylor_normalized_sd") == pytest.approx(1.1)
    assert _value(df, "Full", "tau_soil_taylor_r") == pytest.approx(1.0)


def test_attribution_rows(table):
    df, _ = table
    # Full: Rh x1.2 (Rh-only bias -16.7 %), cSoil 12 vs 20 (-40 %) -> cSoil dominates
    assert _value(df, "Full", "tau_bias_rh_dominated_area_pct") == 0.0
    assert _value(df, "Full", "tau_bias_from_rh_pct") == pytest.approx(100 * (1 / 1.2 - 1))
    assert _value(df, "Full", "tau_bias_from_csoil_pct") == pytest.approx(-40.0)
    assert _value(df, "Full", "tau_bias_pct") == pytest.approx(100 * (20 / 40 - 1))
    # NoLitter: Rh x0.5 (+100 %), cSoil 30 (+50 %) -> Rh dominates everywhere
    assert _value(df, "NoLitter", "tau_bias_rh_dominated_area_pct") == pytest.approx(100.0)
    assert _value(df, "NoLitter", "tau_bias_pct") == pytest.approx(200.0)


def test_regional_rows_for_bands_zones_and_classes(table):
    df, _ = table
    south = _value(df, "observations", "rh_total", "ENF")
    north = _value(df, "observations", "rh_total", "Grassland")
    assert south == pytest.approx(north) == pytest.approx(250.0 * LAND_M2 / 1e15, rel=1e-9)
    tropical = 500.0 * 2 * np.pi * EARTH_RADIUS_M**2 * 2 * np.sin(np.deg2rad(25)) / 1e15
    assert _value(df, "observations", "rh_total", "tropical") == pytest.approx(tropical)
    assert _value(df, "Full", "rh_mean", "EQ-10N") == pytest.approx(600.0)
    assert _value(df, "Full", "tau_soil", "10S-EQ") == pytest.approx(20.0)
    boreal = df[(df.source == "Full") & (df.metric == "tau_veg") & (df.region == "boreal")]
    assert boreal.status.iloc[0] == "skipped" and np.isnan(boreal.value.iloc[0])  # no land


def test_missing_rh_gives_skipped_rows_with_reason(table):
    df, results = table
    no_rh = df[df.source == "NoRh"]
    skipped = no_rh[no_rh.status == "skipped"]
    assert {"rh_global", "tau_soil_global", "rh_taylor_r", "corr_rh_dev_tau_dev"} <= set(skipped.metric)
    assert set(skipped[skipped.metric.str.startswith(("rh", "tau_soil"))].reason) == {"no rh variable"}
    tau_veg = no_rh[no_rh.metric == "tau_veg_global"].iloc[0]
    assert tau_veg.status == "skipped" and "litterfall needs fVegLitter" in tau_veg.reason
    assert _value(df, "NoRh", "csoil_global") == pytest.approx(10.0 * LAND_M2 * 1e3 / 1e15)
    assert "NoRh" not in results.failures


def test_every_row_uses_a_documented_metric_and_valid_status(table):
    df, _ = table
    assert set(df.metric) <= set(METRICS)
    assert set(df.status) <= set(STATUSES)
    for metric, units in zip(df.metric, df.units, strict=True):
        assert units == METRICS[metric].units


def test_maps_and_zonal_datasets(table):
    _, results = table
    maps, zonal = results.datasets["maps"], results.datasets["zonal"]
    assert list(maps.source.values) == ["observations", "Full", "NoLitter", "NoRh", "Prod", "Map"]
    assert set(maps.data_vars) == {"rh", "tau_soil", "rh_bias", "tau_bias", "attribution", "tau_veg"}
    full = maps.sel(source="Full")
    land = LAND.transpose("lat", "lon")
    np.testing.assert_allclose(full.rh_bias.where(land).mean(), 100.0, rtol=1e-5)
    assert set(np.unique(full.attribution.values[np.isfinite(full.attribution.values)])) == {2.0}
    assert np.isnan(maps.sel(source="Full").rh.values[~land.values]).all()
    assert zonal.rh.dims == ("source", "lat")
    np.testing.assert_allclose(zonal.rh.sel(source="Full").dropna("lat"), 600.0)
    np.testing.assert_allclose(zonal.tau_soil.sel(source="observations").dropna("lat"), 40.0)


def test_source_on_another_grid_fails_without_stopping_the_others():
    other = xr.Dataset({"rh": _annual(_grid(1.0)).assign_coords(lon=GRID.lon.values + 1)})
    results = evaluate(_reference(), {"Shifted": other}, {})
    assert "not on the reference grid" in results.failures["Shifted"]
    rows = [r for r in results.rows if r.source == "Shifted"]
    assert rows and all(r.status == "failed" for r in rows)


def test_source_without_years_in_period_is_skipped():
    old = _ensemble()["Full"].assign_coords(year=YEARS - 200)
    results = evaluate(_reference(), {"Old": old}, {})
    years = ("period_coverage", "first_year", "last_year")
    rows = [r for r in results.rows if r.source == "Old" and r.metric not in years]
    assert {r.status for r in rows} == {"skipped"}
    span = {r.metric: r.value for r in results.rows if r.source == "Old" and r.metric in years[1:]}
    assert span == {"first_year": YEARS.min() - 200, "last_year": YEARS.max() - 200}  # facts, reported
    assert rows[0].reason == "no years in 1982-2018"
    (period,) = [r for r in results.rows if r.source == "Old" and r.metric == "period_coverage"]
    assert (period.status, period.value, period.reason.split(":")[:2]) == (
        "failed",
        0.0,
        ["years used", " none (0 years)"],
    )


def test_reference_rh_sd_map_is_never_summed_into_a_global_sd():
    ref = _reference()
    ref.rh_global_sd = None
    ref.rh_sd = _grid(10.0)
    results = evaluate(ref, {}, {})
    (row,) = [r for r in results.rows if r.metric == "rh_global_sd"]
    # the old fallback reported 10 * LAND_M2 / 1e15, the total of the per-cell SD map
    assert row.status == "skipped" and np.isnan(row.value)
    assert "ensemble" in row.reason
    assert row.units == "Pg C yr-1"


@pytest.mark.parametrize("n_products", [1, 3])
def test_observed_tau_sd_without_csoil_on_land_is_nan_as_the_full_computation(n_products):
    """Issue 18: without a cSoil value on land the SD is NaN without computing each product's ratio."""
    from rhbench.metrics.suite import _observed_tau_sd
    from rhbench.metrics.turnover import observed_tau_soil

    ocean_only = _grid(15.0).where(~LAND.transpose("lat", "lon"))  # values only off the land mask
    ref = Reference(
        rh=REF_RH.where(LAND).transpose("lat", "lon"),
        csoil_products=xr.concat([ocean_only] * n_products, dim="product"),
        area=cell_area(GRID.lat, GRID.lon),
        land=LAND.transpose("lat", "lon"),
    )
    assert not ref.has_csoil
    full = observed_tau_soil(ref.csoil_products.where(ref.land_mask), ref.rh_land, ref.area).global_sd
    assert np.isnan(full) and np.isnan(_observed_tau_sd(ref))


def test_without_observed_csoil_every_row_that_needs_it_says_so():
    """Fresh-user walkthrough: without a cSoil product, rows comparing with the observed cSoil
    said "the reference map has no spatial variance", "no cell where the score is defined" or
    "no valid cells"; each now gives the README's reason. A DGVM's own values stay ok, and a
    DGVM lacking a field of its own keeps its own reason."""
    from rhbench.metrics import ensemble
    from rhbench.metrics.reference import NO_OBSERVED_CSOIL
    from rhbench.metrics.suite import say_no_observed_csoil

    base = _reference()
    ocean_only = _grid(15.0).where(~LAND.transpose("lat", "lon"))
    ref = Reference(
        rh=base.rh, csoil_products=xr.concat([ocean_only] * 2, dim="product"), area=base.area,
        vegclass=base.vegclass, land=base.land, rh_global_sd=0.9,
    )  # fmt: skip
    assert not ref.has_csoil
    results = evaluate(ref, _ensemble(), {"Map": 0.9 * REF_RH})
    summary = ensemble.summarize(results, ref)
    rows = results.rows + say_no_observed_csoil(summary.rows)  # as rhbench.pipeline.run does
    by_key = {(r.source, r.metric): r for r in rows if r.region == "global"}
    needs_observed = [
        ("observations", "tau_soil_global"), ("observations", "tau_soil_global_sd"),
        ("observations", "csoil_global_sd"), ("Full", "csoil_bias_score"),
        ("Full", "csoil_spatial_distribution_score"), ("Full", "csoil_overall_score"),
        ("Full", "tau_soil_bias_score"), ("Full", "tau_soil_spatial_distribution_score"),
        ("Full", "tau_soil_taylor_score"), ("Full", "tau_bias_pct"), ("Map", "tau_soil_global"),
        ("ensemble_mean", "tau_bias_pct"), ("ensemble_mean", "corr_rh_dev_tau_dev"),
    ]  # fmt: skip
    for key in needs_observed:
        assert by_key[key].status == "skipped" and by_key[key].reason == NO_OBSERVED_CSOIL, (key, by_key[key].reason)
    assert by_key[("Full", "tau_soil_global")].status == "ok"  # the model's own cSoil / Rh
    assert by_key[("Full", "csoil_global")].status == "ok"
    lacking = by_key[("NoRh", "tau_soil_bias_score")]  # no Rh of its own: that is its reason
    assert lacking.status == "skipped" and lacking.reason != NO_OBSERVED_CSOIL
    assert by_key[("Full", "rh_taylor_score")].status == "ok"


def _tau_soil_rows(rh_cell: float) -> pd.DataFrame:
    """tau_soil rows of model "Full" whose Rh in one vegetated cell (lat 2.5, lon 2.5) is ``rh_cell``."""
    model = _ensemble()["Full"].compute()
    model["rh"].loc[{"lat": 2.5, "lon": 2.5}] = rh_cell
    if np.isnan(rh_cell):
        model["cSoil"].loc[{"lat": 2.5, "lon": 2.5}] = np.nan
    df = pd.DataFrame([r.to_dict() for r in evaluate(_reference(), {"Full": model}, {}).rows])
    return df[(df["source"] == "Full") & df["metric"].str.startswith("tau_soil_")].set_index("metric")


def test_one_near_zero_rh_cell_no_longer_moves_the_per_cell_tau_rows_and_is_said():
    """A6-c2: a vegetated cell with Rh 1e-3 g C m-2 yr-1 (tau 1.2e7 yr before the floor) gives the
    tau_soil Taylor and ILAMB rows of the same input without that cell, and their reason says so."""
    near_zero, without = _tau_soil_rows(1e-3), _tau_soil_rows(np.nan)
    per_cell = [m for m in near_zero.index if "taylor" in m or m.endswith("_score")]
    assert "tau_soil_taylor_sd" in per_cell and "tau_soil_spatial_distribution_score" in per_cell
    for metric in per_cell:
        if near_zero.loc[metric, "status"] == "ok":
            assert near_zero.loc[metric, "value"] == pytest.approx(without.loc[metric, "value"], rel=1e-9), metric
            reason = near_zero.loc[metric, "reason"]
            assert reason.startswith("tau undefined where rh < 1 g C m-2 yr-1: 1 cell ("), metric
    assert near_zero.loc["tau_soil_taylor_sd", "value"] < 100.0  # 12 kg / (1.2 x 400-600 g): 17-25 yr
    assert without.loc["tau_soil_taylor_sd", "reason"] == ""
