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


def test_each_catalog_file_is_parsed_once_per_process(monkeypatch):
    """Two registries and every source's entry read again: each catalog YAML parsed once, with
    libyaml's safe loader for rhbench's own catalogs when PyYAML has it (safe_load semantics)."""
    import yaml

    from rhbench import catalog

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
