"""Session 9's cuts of fixed costs (issue 18): each test fails when its cut is undone.

Timings are reported by the benchmark scripts (``python -m benchmarks.alternate``,
``python -m benchmarks.timeline``), never asserted here; these tests pin the behaviour each cut
changes (how often something is done) and that the results stay the same.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from rhbench import kernels, loader, registry


def test_a_registry_scans_the_installed_entry_points_once(monkeypatch):
    """The plugins' group and the misspelt groups come from one scan of every distribution
    (~5-14 ms a scan), not two; the plugins found are those of two separate scans."""
    scans = []
    real = metadata.entry_points

    def counting(**kwargs):
        scans.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(registry.metadata, "entry_points", counting)
    built = registry.build_registry()
    assert scans == [{}]  # one scan of every group
    monkeypatch.setattr(registry.metadata, "entry_points", real)
    again = registry.build_registry()
    assert built.packages == again.packages and len(built.sources) > 30
    assert {ep.name for ep in registry.entry_points("rhbench")} == {ep.name for ep in real(group="rhbench")}
    assert built.broken == again.broken == []


def test_each_catalog_file_is_parsed_once_per_process(monkeypatch, tmp_path):
    """Two registries and every source's entry read again: each catalog YAML parsed once, with
    libyaml's safe loader for rhbench's own catalogs when PyYAML has it (safe_load semantics).
    (An empty cache folder: since session 10 a parse is kept there for the next processes.)"""
    import yaml

    from rhbench import catalog

    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path))

    parsed = []
    real = catalog._safe_yaml

    def counting(stream, loader_class):
        parsed.append((stream.name, loader_class))
        return real(stream, loader_class)

    monkeypatch.setattr(catalog, "_safe_yaml", counting)
    catalog._load_catalog.cache_clear()
    try:
        for _ in range(2):
            built = registry.build_registry()
            for source in built.sources.values():
                if source.files is None:
                    catalog.entry_for(source)
    finally:
        catalog._load_catalog.cache_clear()
    files = [name for name, _ in parsed]
    assert len(files) == len(set(files)) >= 2  # dgvms.yaml and obs_datasets.yaml, once each
    assert {loader for _, loader in parsed} == {getattr(yaml, "CSafeLoader", yaml.SafeLoader)}
    for name in set(files):  # the fast loader reads what yaml.safe_load reads
        with open(name, encoding="utf-8") as handle:
            assert real(handle, catalog._BUILTIN_LOADER) == yaml.safe_load(Path(name).read_text(encoding="utf-8"))


def _dirty(rng) -> np.ndarray:
    """float32 (steps, lat, lon) with every kind of fill value the loader masks, NaNs and ordinary values."""
    values = (rng.random((5, 7, 9)) * 1e-7).astype("float32")
    values[0, 0, :3] = 1e20  # magnitude >= FILL_MAGNITUDE
    values[1, 2, 2] = -99999.0  # FILL_VALUES
    values[2, 3, 4] = -9999.0
    values[3, 4, :2] = 7.5  # the file's own _FillValue below
    values[4, 5, 5] = np.nan
    values[4, 6, 6] = -1e20
    return values


@pytest.mark.parametrize("factor", [None, 1.0, 3.15576e10])
def test_cleaning_in_place_gives_the_same_numbers_without_a_copy(factor):
    values = _dirty(np.random.default_rng(1))
    expected = kernels.clean_values(values, factor, (7.5,))
    assert expected is not values and not np.shares_memory(expected, values)  # the default never writes its input
    owned = values.copy()
    cleaned = kernels.clean_values(owned, factor, (7.5,), overwrite=True)
    assert cleaned is owned  # written in place
    np.testing.assert_array_equal(cleaned, expected)  # bit for bit, NaN where masked
    assert cleaned.dtype == expected.dtype == np.float32


@pytest.mark.parametrize("which", ["read-only", "not C-ordered", "integer"])
def test_an_array_that_cannot_be_cleaned_in_place_is_cleaned_into_a_copy(which):
    values = _dirty(np.random.default_rng(2))
    if which == "read-only":
        values.flags.writeable = False
    elif which == "not C-ordered":
        values = np.asfortranarray(values)
    else:
        values = np.full((3, 4, 5), -99999, dtype="int32")
    before = values.copy()
    cleaned = kernels.clean_values(values, 2.0, (7.5,), overwrite=True)
    assert not np.shares_memory(cleaned, values)
    np.testing.assert_array_equal(values, before)
    np.testing.assert_array_equal(cleaned, kernels.clean_values(before, 2.0, (7.5,)))


def _rh_file(path: Path) -> Path:
    values = _dirty(np.random.default_rng(3))
    values[3, 4, :2] = 1e20
    rh = xr.DataArray(values, dims=("time", "lat", "lon"), attrs={"units": "kg m-2 s-1"})
    ds = xr.Dataset({"rh": rh}, coords={"time": 182.5 + 365.0 * np.arange(5), "lat": np.linspace(-60, 60, 7)})
    ds = ds.assign_coords(lon=np.linspace(-170, 170, 9))
    ds["time"].attrs.update(units="days since 2000-01-01", calendar="noleap")
    ds.to_netcdf(path, encoding={"rh": {"_FillValue": 1e20}})
    return path


@pytest.mark.parametrize("preprocess", [None, lambda ds: ds])
def test_the_loader_cleans_in_place_only_what_it_read_itself(tmp_path, monkeypatch, preprocess):
    """In memory, the values the loader just read are masked and scaled in place (no second
    full-size array); on dask, or after a plugin's preprocess (whose arrays may be its own), a copy."""
    from rhbench.sources import Source, Var

    path = _rh_file(tmp_path / "rh.nc")
    source = Source("M", "dgvm", "test.M", {"rh": Var("rh", "kg m-2 s-1")}, "test", preprocess=preprocess)
    in_place = []
    real = kernels._clean_in_place
    monkeypatch.setattr(kernels, "_clean_in_place", lambda *a: in_place.append(a[0].shape) or real(*a))
    eager = loader.open_variable(source, "rh", path, annual=True, in_memory=True)
    assert in_place == ([] if preprocess else [(5, 7, 9)])
    lazy = loader.open_variable(source, "rh", path, annual=True)
    xr.testing.assert_identical(eager, lazy.compute())
    assert in_place == ([] if preprocess else [(5, 7, 9)])  # the dask path never writes its chunks
    again = loader.open_variable(source, "rh", path, annual=True, in_memory=True)  # nothing cached was written
    xr.testing.assert_identical(again, eager)


@pytest.mark.parametrize("stored", ["rh_sd", "RH_sd", None])
def test_the_reference_sd_is_read_when_its_file_has_it_under_any_case(tmp_path, stored):
    from rhbench import grid, observations
    from rhbench.sources import Source, Var
    from rhbench.upscaling import rhmap

    lat, lon = np.arange(-87.0, 90.0, 6.0), np.arange(-177.0, 180.0, 6.0)
    field = np.full((lat.size, lon.size), 100.0, dtype="float32")
    data = {"rh": (("lat", "lon"), field, {"units": "g C m-2 yr-1"})}
    if stored:
        data[stored] = (("lat", "lon"), field / 10, {"units": "g C m-2 yr-1"})
    path = tmp_path / "ref.nc"
    xr.Dataset(data, coords={"lat": lat, "lon": lon}, attrs={"global_total_sd_PgC_per_yr": 1.25}).to_netcdf(path)
    source = Source("Ref", "rh", "test.none", {"rh": Var("rh", "g C m-2 yr-1")}, "test", files={"rh": (str(path),)})
    names, total_sd = observations._reference_header(source, tmp_path)
    assert total_sd == 1.25 == rhmap.ensemble_total_sd(path)
    assert names >= {"rh", "lat", "lon"} and (stored is None) == (names == {"rh", "lat", "lon"})
    sd = observations._reference_sd(source, tmp_path, grid.common_grid(6.0), names)
    if stored is None:
        assert sd is None
    else:
        np.testing.assert_array_equal(sd.values, field / 10)


def _old_attribution_maps(c_mod, r_mod, c_obs, r_obs, used):
    """The maps as attribute_tau_bias wrote them before session 9: every expression over every cell, then masked."""
    from rhbench.metrics.turnover import CSOIL_DOMINATED, RH_DOMINATED, tau_values

    with np.errstate(invalid="ignore", divide="ignore"):
        tau_obs = np.where(used, tau_values(c_obs, r_obs), np.nan)
        from_rh = 100.0 * (r_obs / r_mod - 1.0)
        from_csoil = 100.0 * (c_mod / c_obs - 1.0)
        tau_bias = 100.0 * (tau_values(c_mod, r_mod) / tau_obs - 1.0)
        rh_bias = 100.0 * (r_mod / r_obs - 1.0)
        attribution = np.where(np.abs(from_rh) > np.abs(from_csoil), float(RH_DOMINATED), float(CSOIL_DOMINATED))
    maps = (tau_bias, from_rh, from_csoil, rh_bias, attribution)
    return [np.where(used, values, np.nan) for values in maps]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("observed_csoil", [False, True])
def test_the_tau_attribution_without_any_cell_to_attribute_skips_its_arithmetic(monkeypatch, dtype, observed_csoil):
    """No observed cSoil (an Rh-only run): no cell can be attributed, every map is NaN (same dtypes) and
    the summary undefined, without evaluating the per-cell expressions; with cSoil, the same maps as before."""
    from rhbench.metrics import turnover

    rng = np.random.default_rng(5)
    lat, lon = np.arange(-87.0, 90.0, 6.0), np.arange(-177.0, 180.0, 6.0)

    def field(scale):
        return xr.DataArray(
            (rng.random((lat.size, lon.size)) * scale + 1).astype(dtype), coords={"lat": lat, "lon": lon}
        )

    c_mod, r_mod, r_obs = field(20), field(500), field(500)
    c_obs = field(20) if observed_csoil else xr.full_like(c_mod, np.nan)
    area = xr.full_like(c_mod, 1e10, dtype="float64")
    evaluated = []
    real = turnover.tau_values
    monkeypatch.setattr(turnover, "tau_values", lambda s, f: evaluated.append(np.size(s)) or real(s, f))
    result = turnover.attribute_tau_bias(c_mod, r_mod, c_obs, r_obs, area)
    evaluated, sizes = [], list(evaluated)  # the oracle below evaluates every cell
    assert list(result.maps.data_vars) == list(turnover.ATTRIBUTION_MAPS)
    used = (r_obs.values >= turnover.RH_FLOOR_FOR_TAU) & (r_mod.values >= turnover.RH_FLOOR_FOR_TAU)
    used &= (np.nan_to_num(c_obs.values) > 0) & ~np.isnan(c_mod.values)
    expected = _old_attribution_maps(c_mod.values, r_mod.values, c_obs.values, r_obs.values, used)
    for name, values in zip(turnover.ATTRIBUTION_MAPS, expected, strict=True):
        np.testing.assert_array_equal(result.maps[name].values, values)
        assert result.maps[name].dtype == values.dtype
    if observed_csoil:
        assert max(sizes) == c_mod.size and np.isfinite(result.summary["tau_bias_pct"])
    else:
        assert sizes and max(sizes) == 0  # evaluated on no cell, for the dtypes only
        assert result.summary["area_m2"] == 0.0 and np.isnan(result.summary["tau_bias_pct"])


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_the_period_mean_kernel_adds_each_year_in_float64_in_year_order(dtype):
    """kernels.nanmean_years (models' and observations' native period means) against a plain loop:
    each year's present values added in year order into float64, divided by their count."""
    rng = np.random.default_rng(6)
    values = (rng.random((6, 4, 5)) * 1000).astype(dtype)
    if dtype != "int32":
        values[1, 0, 0] = values[:, 1, 1] = np.nan
    data = xr.DataArray(values, dims=("year", "lat", "lon"), coords={"year": range(2000, 2006)})
    mean = kernels.nanmean_years(data.transpose("lat", "year", "lon"))
    total, count = np.zeros((4, 5)), np.zeros((4, 5), int)
    for year in values:
        present = ~np.isnan(year.astype("float64"))
        total += np.where(present, year.astype("float64"), 0.0)
        count += present
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_array_equal(mean.values, total / count)
    assert mean.dtype == "float64" and mean.dims == ("lat", "lon")
