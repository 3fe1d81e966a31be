"""Session 8, item 4: a modeller's review of the paper's outputs on the SYNTHETIC demo run.

Each test recomputes numbers of the run (``small_demo_run``: 4-degree demo, 30 x 30 draws) with
plain numpy from the run's own inputs (the model, land-cover, NDVI and RF files of its data root)
and outputs (results.nc), and compares them with its rows: per section of SCIENCE.md, three
numbers. Nothing of rhbench's numerics is called; only its Earth radius and the paper's
published constants are shared.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

PERIOD = (1982, 2018)
EARTH_RADIUS_M = 6371007.181
SECONDS_PER_YEAR = 365.25 * 86400.0  # cf_xarray's (and so rhbench's) year
IGBP = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 6, 8: 7, 9: 7, 10: 8, 12: 9, 14: 9}  # IGBP -> class code
CLASSES = ("ENF", "EBF", "DNF", "DBF", "MF", "Shrub", "Savanna", "Grassland", "Crop", "Tundra")


# --- helpers: the run's own inputs, read with xarray, computed with numpy ------------------------------


def _area(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Cell areas (m2) of a regular grid of centres ``lat``, ``lon`` (degrees): R^2 dlon (sin n - sin s)."""
    dlat, dlon = abs(lat[1] - lat[0]), abs(lon[1] - lon[0])
    north, south = np.radians(np.minimum(lat + dlat / 2, 90)), np.radians(np.maximum(lat - dlat / 2, -90))
    band = EARTH_RADIUS_M**2 * np.radians(dlon) * (np.sin(north) - np.sin(south))
    return np.broadcast_to(band[:, None], (lat.size, lon.size)).copy()


def _model_means(root, model: str, variable: str, years=PERIOD) -> xr.DataArray:
    """Mean over ``years`` of a demo model's yearly ``variable`` (units of the file), lon -180..180."""
    with xr.open_dataset(root / "trendy_v9" / model / f"{model}_S2_{variable}.nc", decode_times=False) as ds:
        assert ds["time"].attrs["units"] == "days since 1901-01-01" and ds["time"].attrs["calendar"] == "noleap"
        year = 1901 + np.floor(ds["time"].values / 365.0).astype(int)
        pick = (year >= years[0]) & (year <= years[1])
        mean = ds[variable].isel(time=pick).astype("float64").mean("time").load()
    lon = np.where(mean["lon"].values > 180, mean["lon"].values - 360, mean["lon"].values)
    return mean.assign_coords(lon=lon).sortby("lon")


def _model_series(root, model: str, variable: str) -> tuple[np.ndarray, np.ndarray]:
    """(years, values (year, lat, lon) float64, lon -180..180) of a demo model's yearly ``variable``."""
    with xr.open_dataset(root / "trendy_v9" / model / f"{model}_S2_{variable}.nc", decode_times=False) as ds:
        year = 1901 + np.floor(ds["time"].values / 365.0).astype(int)
        data = ds[variable].astype("float64").load()
    lon = np.where(data["lon"].values > 180, data["lon"].values - 360, data["lon"].values)
    return year, data.assign_coords(lon=lon).sortby("lon").values


def _group(outcome, name: str) -> xr.Dataset:
    with xr.open_dataset(outcome.out_dir / "results.nc", group=name) as ds:
        return ds.load()


def _rows(outcome) -> dict[tuple[str, str, str], object]:
    return {(r.source, r.metric, r.region): r for r in outcome.results.rows}


def _classes(root, lat: np.ndarray) -> np.ndarray:
    """The paper's vegetation classes (codes 1..10, 0 none) by hand: dominant MCD12C1 IGBP type, reclassified
    (SCIENCE.md section 2), Shrub/Savanna/Grassland north of 55 N -> Tundra, mean NDVI < 0.1 -> none."""
    with xr.open_dataset(root / "obs" / "landcover" / "MCD12C1_landCoverFrac.nc") as ds:
        frac = ds["Land_Cover_Type_1_Percent"].values
        codes = ds["type"].values
    dominant = codes[np.argmax(np.where(np.isnan(frac), -np.inf, frac), axis=0)]
    classes = np.vectorize(lambda c: IGBP.get(int(c), 0))(dominant)
    classes = np.where(np.isin(classes, (6, 7, 8)) & (lat[:, None] > 55), 10, classes)
    with xr.open_dataset(root / "obs" / "ndvi" / "GIMMS-NDVI3g_ndvi.nc", decode_times=False) as ds:
        ndvi = ds["ndvi"].values.mean(axis=0)
    return np.where(ndvi >= 0.1, classes, 0)


@pytest.fixture(scope="module")
def run(small_demo_run, small_demo):
    outcome, _ = small_demo_run
    root, _ = small_demo
    maps = _group(outcome, "maps")
    lat, lon = maps["lat"].values, maps["lon"].values
    return outcome, root, maps, _area(lat, lon), _classes(root, lat)


# --- 1. global and zonal Rh --------------------------------------------------------------------------


def test_global_rh_of_a_model_and_of_the_reference_by_hand(run):
    """CLM5.0: rh (kg m-2 s-1) averaged over 1982-2018, x 1000 x seconds per year, x cell area over its
    cells with data (the demo counts them fully as land), / 1e15. The reference: the run's own RF
    product (upscaling/rh_rf.nc) x its land area / 1e15."""
    outcome, root, _, area, _ = run
    rows = _rows(outcome)
    rh = _model_means(root, "CLM5.0", "rh").values * 1000.0 * SECONDS_PER_YEAR
    hand = np.nansum(rh * area) / 1e15
    assert rows[("CLM5.0", "rh_global", "global")].value == pytest.approx(hand, rel=1e-6)
    with xr.open_dataset(outcome.out_dir / "upscaling" / "rh_rf.nc") as rf:
        reference = float(np.nansum(rf["rh"].values.astype(float) * rf["land_area"].values)) / 1e15
    assert rows[("observations", "rh_global", "global")].value == pytest.approx(reference, rel=1e-5)
    assert rows[("CLM5.0", "rh_global", "global")].units == "Pg C yr-1"


def test_zonal_rh_is_the_mean_over_each_latitude_row_of_the_rh_map(run):
    """Cells of one latitude row have one area: the zonal mean is the plain mean over the row's cells."""
    outcome, _, maps, _, _ = run
    zonal = _group(outcome, "zonal")
    for source in ("observations", "CLM5.0", "Hashimoto2015"):
        values = maps["rh"].sel(source=source).values.astype(float)
        has = np.isfinite(values).any(axis=1)
        hand = np.nanmean(values[has], axis=1)
        np.testing.assert_allclose(zonal["rh"].sel(source=source).values[has], hand, rtol=1e-5)
    assert zonal["rh"].attrs["units"] == "g m-2 yr-1"


# --- 2. per vegetation type -------------------------------------------------------------------------


def test_values_per_vegetation_type_from_the_hand_made_class_map(run):
    """The reference's mean Rh over ENF and Tundra cells, and CLM5.0's tau_soil over Grassland (sum of
    cSoil + cLitter x area over sum of Rh x area), on the class map made here from MCD12C1 and NDVI."""
    outcome, root, maps, area, classes = run
    rows = _rows(outcome)
    ref = maps["rh"].sel(source="observations").values.astype(float)
    for name in ("ENF", "Tundra"):
        cells = (classes == CLASSES.index(name) + 1) & np.isfinite(ref)
        hand = (ref[cells] * area[cells]).sum() / area[cells].sum()
        assert rows[("observations", "rh_mean", name)].value == pytest.approx(hand, rel=1e-5), name
    soil = (_model_means(root, "CLM5.0", "cSoil") + _model_means(root, "CLM5.0", "cLitter")).values
    rh = _model_means(root, "CLM5.0", "rh").values * 1000.0 * SECONDS_PER_YEAR
    cells = (classes == CLASSES.index("Grassland") + 1) & np.isfinite(soil) & np.isfinite(rh)
    hand = 1000.0 * (soil[cells] * area[cells]).sum() / (rh[cells] * area[cells]).sum()
    assert rows[("CLM5.0", "tau_soil", "Grassland")].value == pytest.approx(hand, rel=1e-6)


# --- 3. turnover-time maps and zonal means ------------------------------------------------------------


def test_turnover_maps_and_zonal_tau_soil_by_hand(run):
    """CLM5.0's tau_soil map = (cSoil + cLitter) x 1000 / Rh and its tau_veg map = cVeg x 1000 / fVegLitter
    (period means of its files, on the reference's land); zonal tau_soil = ratio of the row sums."""
    outcome, root, maps, _, _ = run
    land = np.isfinite(maps["rh"].sel(source="observations").values)
    soil = (_model_means(root, "CLM5.0", "cSoil") + _model_means(root, "CLM5.0", "cLitter")).values
    rh = _model_means(root, "CLM5.0", "rh").values * 1000.0 * SECONDS_PER_YEAR
    tau = np.where(land & (rh >= 1.0), soil * 1000.0 / rh, np.nan)
    np.testing.assert_allclose(maps["tau_soil"].sel(source="CLM5.0").values, tau, rtol=1e-5)
    cveg = _model_means(root, "CLM5.0", "cVeg").values
    litter = _model_means(root, "CLM5.0", "fVegLitter").values * 1000.0 * SECONDS_PER_YEAR
    tau_veg = np.where(land & (litter >= 1.0), cveg * 1000.0 / litter, np.nan)
    np.testing.assert_allclose(maps["tau_veg"].sel(source="CLM5.0").values, tau_veg, rtol=1e-5)
    both = land & np.isfinite(soil) & np.isfinite(rh)
    rows = both.any(axis=1)
    hand = 1000.0 * np.where(both, soil, 0).sum(axis=1)[rows] / np.where(both, rh, 0).sum(axis=1)[rows]
    zonal = _group(outcome, "zonal")
    np.testing.assert_allclose(zonal["tau_soil"].sel(source="CLM5.0").values[rows], hand, rtol=1e-6)
    assert maps["tau_veg"].attrs["units"] == "yr" and maps["tau_veg"].attrs["years"] == "tau_veg_years"


# --- 4. Taylor statistics -----------------------------------------------------------------------------


def _taylor(model: np.ndarray, ref: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    """Area-weighted Taylor (2001) statistics: r, SDs and centred RMS difference."""
    w = weights / weights.sum()
    dm, dr = model - (w * model).sum(), ref - (w * ref).sum()
    sd_m, sd_r = np.sqrt((w * dm**2).sum()), np.sqrt((w * dr**2).sum())
    return {
        "r": (w * dm * dr).sum() / (sd_m * sd_r),
        "sd": sd_m,
        "sd_ref": sd_r,
        "crmse": np.sqrt((w * (dm - dr) ** 2).sum()),
    }


@pytest.mark.parametrize("field", ["rh", "tau_soil"])
@pytest.mark.parametrize("source", ["CLM5.0", "Hashimoto2015", "Konings2019"])
def test_taylor_statistics_of_models_and_prior_products_by_hand(run, source, field):
    """Rh (and tau_soil) maps of results.nc against the reference's over the vegetated cells (hand class
    map) where both have values, weighted by cell area (float32 maps: rel 1e-4)."""
    outcome, _, maps, area, classes = run
    rows = _rows(outcome)
    model = maps[field].sel(source=source).values.astype(float)
    ref = maps[field].sel(source="observations").values.astype(float)
    cells = (classes > 0) & np.isfinite(model) & np.isfinite(ref)
    stats = _taylor(model[cells], ref[cells], area[cells])
    assert rows[(source, f"{field}_taylor_r", "global")].value == pytest.approx(stats["r"], rel=1e-4)
    assert rows[(source, f"{field}_taylor_sd", "global")].value == pytest.approx(stats["sd"], rel=1e-4)
    assert rows[(source, f"{field}_taylor_crmse", "global")].value == pytest.approx(stats["crmse"], rel=1e-4)
    assert rows[(source, f"{field}_taylor_normalized_sd", "global")].value == pytest.approx(
        stats["sd"] / stats["sd_ref"], rel=1e-4
    )


def test_tau_soil_bias_attribution_of_a_model_by_hand(run):
    """SCIENCE.md section 3: per vegetated cell, the bias from Rh alone 100 (Rh_obs / Rh_mod - 1) against the
    bias from cSoil alone 100 (cSoil_mod / cSoil_obs - 1); globally ratios of area totals over the cells
    used (both Rh >= 1 g m-2 yr-1, observed cSoil > 0); the Rh-dominated share of their area. Observed cSoil:
    the mean of the products in results.nc; CLM5.0's from its files; the reference Rh from the maps."""
    outcome, root, maps, area, classes = run
    rows = _rows(outcome)
    obs_c = _group(outcome, "observations")["csoil"].values.astype(float).mean(axis=0)
    obs_r = maps["rh"].sel(source="observations").values.astype(float)
    mod_c = (_model_means(root, "CLM5.0", "cSoil") + _model_means(root, "CLM5.0", "cLitter")).values
    mod_r = _model_means(root, "CLM5.0", "rh").values * 1000.0 * SECONDS_PER_YEAR
    with np.errstate(invalid="ignore"):
        used = (classes > 0) & (obs_r >= 1) & (mod_r >= 1) & (obs_c > 0) & np.isfinite(mod_c)
    a = area[used]
    from_rh = 100.0 * ((obs_r[used] * a).sum() / (mod_r[used] * a).sum() - 1.0)
    from_csoil = 100.0 * ((mod_c[used] * a).sum() / (obs_c[used] * a).sum() - 1.0)
    cell_rh, cell_c = 100.0 * (obs_r[used] / mod_r[used] - 1.0), 100.0 * (mod_c[used] / obs_c[used] - 1.0)
    share = 100.0 * a[np.abs(cell_rh) > np.abs(cell_c)].sum() / a.sum()
    assert rows[("CLM5.0", "tau_bias_from_rh_pct", "global")].value == pytest.approx(from_rh, rel=1e-5)
    assert rows[("CLM5.0", "tau_bias_from_csoil_pct", "global")].value == pytest.approx(from_csoil, rel=1e-5)
    assert rows[("CLM5.0", "tau_bias_rh_dominated_area_pct", "global")].value == pytest.approx(share, rel=1e-6)
    dominated = maps["attribution"].sel(source="CLM5.0").values[used]
    np.testing.assert_array_equal(dominated, np.where(np.abs(cell_rh) > np.abs(cell_c), 1.0, 2.0))


# --- 5. the 2-box model and the Monte Carlo constraint -----------------------------------------------


def _global_forcing(run, model: str, cells: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Yearly global totals (Pg C, Pg C yr-1) over the 2-box domain (cells of the observed tau_soil:
    reference Rh and observed cSoil both present; and ``cells``) of cells with every variable in every year."""
    outcome, root, maps, area, _ = run
    domain = np.isfinite(maps["tau_soil"].sel(source="observations").values)
    domain = domain if cells is None else domain & cells
    series = {}
    for variable in ("npp", "rh", "cVeg", "cSoil", "cLitter", "fVegLitter"):
        years, series[variable] = _model_series(root, model, variable)
    complete = domain & np.all([np.isfinite(v).all(axis=0) for v in series.values()], axis=0)
    flux = 1000.0 * SECONDS_PER_YEAR  # kg m-2 s-1 -> g m-2 yr-1

    def total(values: np.ndarray, grams: float) -> np.ndarray:
        return (np.where(complete, values, 0.0) * area).sum(axis=(1, 2)) * grams / 1e15

    out = {name: total(series[name], flux) for name in ("npp", "rh", "fVegLitter")}
    out["cVeg"] = total(series["cVeg"], 1000.0)
    out["cSoil"] = total(series["cSoil"] + series["cLitter"], 1000.0)
    return years, out


def _two_box(npp: np.ndarray, tau_veg: np.ndarray, tau_soil: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SCIENCE.md Eq. 3 stepped yearly from the 1901 steady state (cVeg = NPP tau_veg, cSoil = NPP tau_soil)."""
    veg, soil = [npp[0] * tau_veg[0]], [npp[0] * tau_soil[0]]
    for t in range(1, npp.size):
        litter = veg[-1] / tau_veg[t]
        veg.append(veg[-1] + npp[t] - litter)
        soil.append(soil[-1] + litter - soil[-1] / tau_soil[t])
    return np.array(veg), np.array(soil)


def _model_taus(years: np.ndarray, forcing: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Yearly global tau_veg = cVeg / litterfall and tau_soil = cSoil / Rh (yr); 1901 takes 1902's."""
    tau_veg, tau_soil = forcing["cVeg"] / forcing["fVegLitter"], forcing["cSoil"] / forcing["rh"]
    tau_veg[0], tau_soil[0] = tau_veg[1], tau_soil[1]
    return tau_veg, tau_soil


def test_unconstrained_2_box_changes_since_1901_by_hand(run):
    """CLM5.0's dcVeg, dcSoil, dcTotal unconstrained (1901-2018) from its own yearly global totals."""
    outcome = run[0]
    rows = _rows(outcome)
    years, forcing = _global_forcing(run, "CLM5.0")
    veg, soil = _two_box(forcing["npp"], *_model_taus(years, forcing))
    assert years[0] == 1901 and years[-1] == 2018
    for metric, value in (("dcVeg", veg[-1] - veg[0]), ("dcSoil", soil[-1] - soil[0])):
        assert rows[("CLM5.0", f"{metric}_unconstrained", "global")].value == pytest.approx(value, rel=1e-6)
    total = veg[-1] - veg[0] + soil[-1] - soil[0]
    assert rows[("CLM5.0", "dcTotal_unconstrained", "global")].value == pytest.approx(total, rel=1e-6)
    assert rows[("CLM5.0", "dcTotal_unconstrained", "global")].units == "Pg C"


def test_unconstrained_2_box_change_of_a_vegetation_type_by_hand(run):
    """CLM5.0's dcTotal unconstrained over its Grassland cells (hand class map) of the 2-box domain."""
    outcome, _, _, _, classes = run
    years, forcing = _global_forcing(run, "CLM5.0", classes == CLASSES.index("Grassland") + 1)
    veg, soil = _two_box(forcing["npp"], *_model_taus(years, forcing))
    row = _rows(outcome)[("CLM5.0", "dcTotal_unconstrained", "Grassland")]
    assert row.status == "ok" and row.value == pytest.approx(veg[-1] - veg[0] + soil[-1] - soil[0], rel=1e-6)


def test_monte_carlo_constraint_by_hand(run):
    """n x n crossed draws (np.random.default_rng(seed): tau_veg first, then tau_soil) of N(10.3, 1.4) and
    N(observed tau_soil, its SD); each run shifts the model's turnover times by (draw - model's 1982-2018
    mean), floors them at 1 yr, and steps Eq. 3; dcTotal_constrained = mean, _sd = SD (ddof 0) over runs."""
    outcome = run[0]
    rows = _rows(outcome)
    config = json.loads((outcome.out_dir / "run.json").read_text())["config"]
    n, seed = config["n_draws"], config["seed"]
    soil_obs = rows[("observations", "tau_soil_global", "global")].value
    soil_sd = rows[("observations", "tau_soil_global_sd", "global")].value
    rng = np.random.default_rng(seed)
    veg_draws, soil_draws = rng.normal(10.3, 1.4, n), rng.normal(soil_obs, soil_sd, n)
    years, forcing = _global_forcing(run, "CLM5.0")
    tau_veg, tau_soil = _model_taus(years, forcing)
    ref = (years >= PERIOD[0]) & (years <= PERIOD[1])
    totals = []
    for veg_obs in veg_draws:
        tv = np.maximum(tau_veg - tau_veg[ref].mean() + veg_obs, 1.0)
        for soil_draw in soil_draws:
            ts = np.maximum(tau_soil - tau_soil[ref].mean() + soil_draw, 1.0)
            veg, soil = _two_box(forcing["npp"], tv, ts)
            totals.append(veg[-1] - veg[0] + soil[-1] - soil[0])
    totals = np.array(totals)
    assert totals.size == n * n
    assert rows[("CLM5.0", "dcTotal_constrained", "global")].value == pytest.approx(totals.mean(), rel=1e-6)
    assert rows[("CLM5.0", "dcTotal_constrained_sd", "global")].value == pytest.approx(totals.std(), rel=1e-5)
    members = [
        r.value
        for (_, metric, region), r in rows.items()
        if r.kind == "dgvm" and metric == "dcTotal_constrained" and region == "global"
    ]
    assert rows[("ensemble_mean", "dcTotal_constrained", "global")].value == pytest.approx(np.mean(members), rel=1e-9)


def test_the_ensemble_underestimation_is_that_of_the_ensemble_means_as_in_the_paper(run):
    """Paper: dcTotal 170 -> 244 Pg C, 'models 30 % low' = 74 / 244: 100 (1 - unconstrained / constrained) of
    the ensemble-mean changes, globally and per class (not the mean of the models' percentages)."""
    rows = _rows(run[0])
    for region in ("global", "Grassland"):
        low = rows[("ensemble_mean", "dcTotal_unconstrained", region)].value
        high = rows[("ensemble_mean", "dcTotal_constrained", region)].value
        row = rows[("ensemble_mean", "underestimation_pct", region)]
        assert row.units == "%" and row.value == pytest.approx(100.0 * (1.0 - low / high), rel=1e-9), region


def test_the_prior_rh_products_mean_and_sd_as_the_paper_reports_them(run):
    """Paper section 4: the prior products' global Rh 50.5 +- 4.9 Pg C yr-1 (mean, SD across products).
    Missing before this session; now rows ``products_mean`` / ``products_sd`` (kind ensemble) of rh_global
    and tau_soil_global, and a bar on the multi-model figure."""
    outcome = run[0]
    rows = _rows(outcome)
    for metric in ("rh_global", "tau_soil_global"):
        values = [r.value for (_, m, region), r in rows.items() if (r.kind, m, region) == ("rh", metric, "global")]
        assert len(values) == 4
        mean, sd = rows[("products_mean", metric, "global")], rows[("products_sd", metric, "global")]
        assert (
            mean.kind == "ensemble"
            and mean.reason == "4 Rh products"
            and mean.units == rows[("CLM5.0", metric, "global")].units
        )
        assert mean.value == pytest.approx(np.mean(values), rel=1e-12)
        assert sd.value == pytest.approx(np.std(values, ddof=1), rel=1e-12)
    assert rows[("products_mean", "rh_global", "global")].value == pytest.approx(50.5, rel=0.01)  # the demo's truth


def test_the_monte_carlo_settings_are_stated_in_results_nc_and_on_the_page(run):
    """Before this session neither results.nc nor the page said how many draws, from what, with what seed."""
    outcome = run[0]
    config = json.loads((outcome.out_dir / "run.json").read_text())["config"]
    n = config["n_draws"]
    text = _group(outcome, "twobox").attrs["monte_carlo"]
    assert f"{n} x {n} crossed draws ({n * n:,} constrained runs per model and region, seed {config['seed']})" in text
    assert "global: tau_veg N(10.3, 1.4)" in text
    page = (outcome.out_dir / "index.html").read_text()
    assert re.search(rf"{n} x {n} crossed draws", page)
    scores = pd.read_csv(outcome.out_dir / "scores.csv")
    assert set(scores["data_label"]) == {"SYNTHETIC"}


# --- 6. the REAL reference (../shared/data): exit 3, 52.0 +- 1.1 Pg C yr-1 ------------------------------


@pytest.mark.slow
@pytest.mark.shared_data
def test_the_real_reference_run_by_hand(tmp_path):
    """`rhbench run --data-root ../shared/data`: the observations' Rh total = the run's RF product x its
    land area (Pg C yr-1, 52.0 as measured), its SD = the SD (ddof 1) of the ensemble members' totals
    (1.1), the reference's Taylor SD = its area-weighted SD over its land cells (no vegetation classes
    there), zonal Rh = row means; every output labelled REAL; exit 0 (the TRENDY plugins have no files
    there: `absent`, not failed, without a models selection; session 9, E9-4)."""
    from conftest import shared_data_path

    from rhbench.cli import main

    root, out = shared_data_path(), tmp_path / "out"
    assert main(["-q", "run", "--data-root", str(root), "--out", str(out)]) == 0
    scores = pd.read_csv(out / "scores.csv")
    loads = scores[scores["metric"] == "load"].set_index("source")["status"]
    assert loads["CLM5.0"] == "absent" and "failed" not in set(loads)
    value = scores.set_index(["source", "metric", "region"])["value"]
    with xr.open_dataset(out / "upscaling" / "rh_rf.nc") as rf:
        total = float(np.nansum(rf["rh"].values.astype(float) * rf["land_area"].values)) / 1e15
        members = rf["rh_global_member"].values
    assert value[("observations", "rh_global", "global")] == pytest.approx(total, rel=1e-6)
    assert value[("observations", "rh_global", "global")] == pytest.approx(52.0, abs=0.1)
    assert value[("observations", "rh_global_sd", "global")] == pytest.approx(members.std(ddof=1), rel=1e-9)
    with xr.open_dataset(out / "results.nc", group="maps") as maps:
        ref = maps["rh"].sel(source="observations").values.astype(float)
        lat, lon = maps["lat"].values, maps["lon"].values
        assert str(maps["rh_years"].sel(source="observations").item()) == "no time axis (static)"
    area, cells = _area(lat, lon), np.isfinite(ref)
    w = area[cells] / area[cells].sum()
    sd = np.sqrt((w * (ref[cells] - (w * ref[cells]).sum()) ** 2).sum())
    assert value[("observations", "rh_taylor_sd", "global")] == pytest.approx(sd, rel=1e-5)
    with xr.open_dataset(out / "results.nc", group="zonal") as zonal:
        has = cells.any(axis=1)
        np.testing.assert_allclose(
            zonal["rh"].sel(source="observations").values[has], np.nanmean(ref[has], axis=1), rtol=1e-5
        )
    with xr.open_dataset(out / "results.nc") as top:
        assert top.attrs["synthetic"] == "false" and top.attrs["data_label"] == "REAL"
    assert set(scores["data_label"]) == {"REAL"}
    assert "SYNTHETIC" not in (out / "index.html").read_text()
