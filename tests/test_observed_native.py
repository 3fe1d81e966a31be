"""Observation products are totalled on their own grids (issue 14): invariant under the common grid."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from rhbench import grid
from rhbench.metrics.observed import ObservedTotals, source_totals
from rhbench.sources import Source, Var


def _product(path, name: str, step: float, value: float, coastal: bool = False) -> Source:
    """A constant ``name`` map on a regular ``step`` grid, land between 60S and 70N."""
    lat = np.arange(-90 + step / 2, 90, step)
    lon = np.arange(-180 + step / 2, 180, step)
    data = np.where((lat[:, None] > -60) & (lat[:, None] < 70), value, np.nan) * np.ones(lon.size)
    ds = xr.Dataset({name: (("lat", "lon"), data)}, coords={"lat": lat, "lon": lon})
    units = "g C m-2 yr-1" if name == "rh" else "kg C m-2"
    ds[name].attrs["units"] = units
    ds["lat"].attrs["units"] = "degrees_north"
    ds["lon"].attrs["units"] = "degrees_east"
    file = path / f"{name}_{step}.nc"
    ds.to_netcdf(file)
    kind = "rh" if name == "rh" else "csoil"
    return Source(
        name=f"{name}{step}",
        kind=kind,
        catalog_entry="test.none",
        variables={name: Var(name, units)},
        citation="test",
        files={name: (str(file),)},
    )


def _land_area(_step: float) -> float:
    """Hand calculation: the sphere's area between 60S and 70N, m2 (cell edges fall on both)."""
    r = grid.EARTH_RADIUS_M
    return 2 * np.pi * r**2 * (np.sin(np.radians(70)) - np.sin(np.radians(-60)))


@pytest.mark.parametrize("step", [0.5, 2.0])
def test_source_totals_are_value_times_land_area(tmp_path, step):
    source = _product(tmp_path, "rh", step, 100.0)
    totals, note = source_totals(source, "rh", None, (1982, 2018), land_mask=None, vegclass=None)
    expected = 100.0 * _land_area(step) / 1e15
    assert float(totals["rh_total"].sel(region="global")) == pytest.approx(expected, rel=1e-9)
    assert "every cell with data counted as land" in note
    assert f"{step:g} x {step:g} deg" in note


def test_land_mask_weights_a_product_without_land_fraction(tmp_path):
    source = _product(tmp_path, "rh", 2.0, 100.0)
    lat = np.arange(-89.75, 90, 0.5)
    lon = np.arange(-179.75, 180, 0.5)
    mask = xr.DataArray(np.full((lat.size, lon.size), 0.5), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    totals, note = source_totals(source, "rh", None, (1982, 2018), land_mask=mask, vegclass=None)
    assert float(totals["rh_total"].sel(region="global")) == pytest.approx(50.0 * _land_area(2.0) / 1e15, rel=1e-9)
    assert "documented 0.5 degree land mask" in note


def _observed(rh: xr.Dataset, soils: dict[str, xr.Dataset]) -> ObservedTotals:
    stack = xr.concat([t["csoil_total"] for t in soils.values()], dim="product").assign_coords(product=list(soils))
    return ObservedTotals(rh, stack, {})


def test_observed_tau_is_the_ratio_of_native_totals(tmp_path):
    rh, _ = source_totals(_product(tmp_path, "rh", 0.5, 50.0), "rh", None, (1982, 2018), land_mask=None, vegclass=None)
    soils = {
        step: source_totals(
            _product(tmp_path, "cSoil", step, value), "cSoil", None, (1982, 2018), land_mask=None, vegclass=None
        )[0]
        for step, value in ((1.0, 10.0), (2.0, 20.0))
    }
    obs = _observed(rh, soils)
    area = _land_area(1.0)
    csoil = (10.0 + 20.0) / 2 * 1000 * area / 1e15
    assert float(obs.csoil.sel(region="global")) == pytest.approx(csoil, rel=1e-9)
    assert float(obs.tau_soil.sel(region="global")) == pytest.approx(15.0 * 1000 / 50.0, rel=1e-9)
    taus = np.array([10.0, 20.0]) * 1000 / 50.0
    assert obs.tau_soil_sd == pytest.approx(float(np.std(taus, ddof=1)), rel=1e-9)
    # a prior twice as large as the reference halves tau
    (tmp_path / "prior").mkdir()
    prior_source = _product(tmp_path / "prior", "rh", 0.5, 100.0)
    prior, _ = source_totals(prior_source, "rh", None, (1982, 2018), land_mask=None, vegclass=None)
    assert float(obs.prior(prior)["tau_soil"].sel(region="global")) == pytest.approx(15.0 * 1000 / 100.0, rel=1e-9)


def _observation_rows(outcome) -> dict[str, float]:
    return {
        r.metric: r.value
        for r in outcome.results.rows
        if r.source == "observations" and r.region == "global" and r.status == "ok"
    }


@pytest.mark.slow
def test_demo_observed_totals_do_not_depend_on_the_common_grid(demo_root, tmp_path):
    """The SYNTHETIC demo at two common resolutions, with the RF product's own grid fixed."""
    from rhbench.config import RunConfig
    from rhbench.pipeline import run

    root = tmp_path / "root"
    shutil.copytree(demo_root, root, symlinks=True)
    config = RunConfig(data_root=root, out=tmp_path / "a", quick_upscaling=True, models=["CLM5.0"], n_draws=5)
    first = run(replace(config, resolution=4.0))
    built = tmp_path / "a" / "upscaling" / "rh_rf.nc"
    (root / "products").mkdir(exist_ok=True)
    shutil.copy(built, root / "products" / "rh_rf.nc")  # the product now has a fixed 4 degree grid
    rows = {}
    for resolution in (4.0, 2.0):
        out = tmp_path / f"r{resolution}"
        config = RunConfig(
            data_root=root, out=out, resolution=resolution, quick_upscaling=True, models=["CLM5.0"], n_draws=5
        )
        outcome = run(config)
        rows[resolution] = _observation_rows(outcome)
        (rh_row,) = [r for r in outcome.results.rows if r.source == "observations" and r.metric == "rh_global"]
        assert "RF-Rh" in rh_row.reason and "45 x 90 cells, 4 x 4 deg" in rh_row.reason, rh_row.reason
    assert _observation_rows(first)["rh_global"] == pytest.approx(rows[4.0]["rh_global"], rel=1e-12)
    for metric in ("rh_global", "csoil_global", "tau_soil_global", "tau_soil_global_sd"):
        assert rows[2.0][metric] == pytest.approx(rows[4.0][metric], rel=1e-6), metric
