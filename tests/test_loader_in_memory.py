"""Small model variables read into memory without dask (issue 18, session 8).

``open_variable(..., in_memory=True)`` must give exactly the numbers of the dask path (every
step of the loader is elementwise or per calendar year), stay on dask above
:data:`rhbench.loader.IN_MEMORY_BYTES` (checked on disk, then as decoded), and report damaged
data as the dask path's reduction does: a :class:`DataError` naming the source, file and variable.
"""

from __future__ import annotations

import dataclasses

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from rhbench import grid, harmonize, loader, reduce
from rhbench.errors import DataError
from rhbench.sources import Source, Var

RH_KG_S = 3e-8  # ~950 g C m-2 yr-1


def _write(path, values, *, monthly=False, first=2000, fill=True, compress=False):
    """``rh`` (time, lat, lon) in kg m-2 s-1 with a fill value over a few cells; times in days."""
    steps = values.shape[0]
    if monthly:
        time = 15.0 + 365.0 * (first - 2000) + np.arange(steps) * (365.0 / 12)
    else:
        time = 182.5 + 365.0 * (first - 2000 + np.arange(steps))
    lat = np.linspace(-60, 60, values.shape[1])
    lon = np.linspace(-170, 170, values.shape[2])
    values = values.astype("float32")
    if fill:
        values[:, 0, :2] = 1e20
    rh = xr.DataArray(values, dims=("time", "lat", "lon"), attrs={"units": "kg m-2 s-1"})
    ds = xr.Dataset({"rh": rh}, coords={"time": time, "lat": lat, "lon": lon})
    ds["time"].attrs.update(units="days since 2000-01-01", calendar="noleap")
    encoding = {"rh": {"_FillValue": 1e20, **({"zlib": True, "complevel": 9} if compress else {})}}
    ds.to_netcdf(path, encoding=encoding)
    return path


def _source():
    return Source("M", "dgvm", "test.M", {"rh": Var("rh", "kg m-2 s-1")}, "test")


def _both(paths, **kwargs):
    lazy = loader.open_variable(_source(), "rh", paths, annual=True, **kwargs)
    eager = loader.open_variable(_source(), "rh", paths, annual=True, in_memory=True, **kwargs)
    return lazy, eager


@pytest.mark.parametrize("monthly", [False, True])
def test_a_small_variable_in_memory_is_the_dask_one_bit_for_bit(tmp_path, monthly):
    rng = np.random.default_rng(3)
    steps = 60 if monthly else 30  # two dask chunks and a part in each case
    path = _write(tmp_path / "rh.nc", rng.random((steps, 9, 12)) * RH_KG_S, monthly=monthly)
    lazy, eager = _both(path)
    assert isinstance(lazy.data, da.Array) and isinstance(eager.data, np.ndarray)
    xr.testing.assert_identical(eager, lazy.compute())
    assert np.isnan(eager.values[:, 0, :2]).all() and np.isfinite(eager.values[:, 1:]).all()


def test_a_series_of_files_in_memory_is_the_dask_one(tmp_path):
    rng = np.random.default_rng(4)
    paths = [
        _write(tmp_path / f"rh_{first}.nc", rng.random((12 * 3, 6, 8)) * RH_KG_S, monthly=True, first=first)
        for first in (2000, 2003)
    ]
    lazy, eager = _both(paths)
    assert isinstance(eager.data, np.ndarray) and eager.sizes["year"] == 6
    xr.testing.assert_identical(eager, lazy.compute())


def test_above_the_limit_a_variable_streams_through_dask(tmp_path, monkeypatch):
    path = _write(tmp_path / "rh.nc", np.ones((30, 9, 12)) * RH_KG_S)
    monkeypatch.setattr(loader, "IN_MEMORY_BYTES", path.stat().st_size - 1)
    _, eager = _both(path)
    assert isinstance(eager.data, da.Array)


def test_a_compressed_file_is_judged_by_its_decoded_size(tmp_path, monkeypatch):
    """Small on disk (zlib) but larger than the limit once decoded: dask."""
    path = _write(tmp_path / "rh.nc", np.ones((30, 90, 120)) * RH_KG_S, compress=True)
    decoded = 30 * 90 * 120 * 4
    assert path.stat().st_size < decoded // 2
    monkeypatch.setattr(loader, "IN_MEMORY_BYTES", decoded - 1)
    lazy, eager = _both(path)
    assert isinstance(eager.data, da.Array)
    monkeypatch.setattr(loader, "IN_MEMORY_BYTES", decoded)
    _, eager = _both(path)
    assert isinstance(eager.data, np.ndarray)
    xr.testing.assert_identical(eager, lazy.compute())


def test_damaged_data_read_in_memory_is_a_data_error_naming_the_file(tmp_path, monkeypatch):
    """Steps 2..9 of a netCDF-4 file unreadable: the value sample (first, middle and last steps)
    would not see it; the in-memory read does, as dask's compute in the reduction did."""
    path = _write(tmp_path / "rh.nc", np.random.default_rng(5).random((30, 9, 12)) * RH_KG_S)
    real = xr.backends.netCDF4_.NetCDF4ArrayWrapper._getitem

    def damaged(self, key):
        if self.variable_name == "rh" and isinstance(key, tuple) and key[0] == slice(None):
            raise RuntimeError("NetCDF: HDF error")
        return real(self, key)

    monkeypatch.setattr(xr.backends.netCDF4_.NetCDF4ArrayWrapper, "_getitem", damaged)
    loader.open_variable(_source(), "rh", path, annual=True)  # lazily: the sample reads only 3 steps
    with pytest.raises(DataError, match="cannot read data values") as info:
        loader.open_variable(_source(), "rh", path, annual=True, in_memory=True)
    assert f"file: {path}" in str(info.value) and "source: M" in str(info.value) and "variable: rh" in str(info.value)


def test_a_missing_file_is_still_the_readers_error(tmp_path):
    with pytest.raises(DataError, match="data file not found") as info:
        loader.open_variable(_source(), "rh", tmp_path / "absent.nc", annual=True, in_memory=True)
    assert "absent.nc" in str(info.value)


def test_a_model_reduced_from_memory_gives_the_products_of_dask(tmp_path):
    rng = np.random.default_rng(6)
    path = _write(tmp_path / "rh.nc", rng.random((10, 18, 36)) * RH_KG_S)
    source = dataclasses.replace(_source(), files={"rh": [str(path)]})
    target = grid.common_grid(10.0)
    products = []
    for in_memory in (False, True):
        annual, cells = harmonize.load_native(source, None, in_memory=in_memory)
        assert isinstance(annual["rh"].data, np.ndarray) == in_memory
        products.append(reduce.reduce_native(annual, cells, target, (2001, 2008)))
    for name in ("period", "totals", "regions"):
        xr.testing.assert_identical(getattr(products[1], name), getattr(products[0], name))


def test_reducing_a_float32_model_in_memory_takes_no_copy_and_changes_nothing(tmp_path):
    """``reduce_native`` casts to float32 without copying values already float32: its input is
    left as it was and the products are those of a reduction of a copy."""
    path = _write(tmp_path / "rh.nc", np.random.default_rng(7).random((10, 18, 36)) * RH_KG_S)
    source = dataclasses.replace(_source(), files={"rh": [str(path)]})
    annual, cells = harmonize.load_native(source, None, in_memory=True)
    before = annual.copy(deep=True)
    target = grid.common_grid(10.0)
    got = reduce.reduce_native(annual, cells, target, (2001, 2008))
    xr.testing.assert_identical(annual, before)
    expected = reduce.reduce_native(before.copy(deep=True), cells, target, (2001, 2008))
    for name in ("period", "totals", "regions"):
        xr.testing.assert_identical(getattr(got, name), getattr(expected, name))
