"""The reference Rh is read once for its common-grid map and its native-grid totals (issue 18).

:func:`rhbench.harmonize.period_means_once` gives the map of :func:`rhbench.harmonize.load_source`
averaged over the period and the native totals of :func:`rhbench.metrics.observed.source_totals`
(the same coordinates, dtype and attributes), on the common grid, on a coarser and on a finer grid,
from float32 files, annual and monthly; and a run opens the reference's Rh file once.

Since session 9 the period mean is accumulated in float64 (:func:`rhbench.harmonize.period_mean_float64`)
and a small file is read into memory: the values are then the exact mean (math.fsum) rounded once,
where the float32 mean of before (dask, chunk by chunk) was off by up to ~3e-7 and depended on the
chunking. So these tests compare with an exact hand calculation, and require the new values to be
at least as close to it as a float32 mean of the two reads, cell by cell.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from benchmarks import ilamb3_bench
from benchmarks.ilamb3_data import write_files
from rhbench import grid, harmonize, loader
from rhbench.metrics.observed import source_totals
from rhbench.sources import Source, Var

PERIOD = (1985, 2010)


def _reference(tmp_path, monthly: bool) -> Source:
    """The benchmark's SYNTHETIC reference file (float32, g m-2 d-1, 6 degree) as a source."""
    files = write_files(tmp_path / ("monthly" if monthly else "annual"), 1, monthly=monthly, resolution=6.0)
    return Source(
        name="Ref",
        kind="rh",
        catalog_entry="test.none",
        variables={"rh": Var("rh", "g m-2 d-1")},
        citation="test",
        files={"rh": (str(files["reference"]),)},
    )


def _exact_mean(series: xr.DataArray, period: tuple[int, int]) -> np.ndarray:
    """Hand calculation: each cell's mean over ``period`` of its values present, summed exactly (math.fsum)."""
    window = series.sel(year=slice(*period)).transpose("year", ...)
    values = np.asarray(window.values, dtype="float64").reshape(window.sizes["year"], -1)
    exact = np.full(values.shape[1], np.nan)
    for cell in range(values.shape[1]):
        present = values[~np.isnan(values[:, cell]), cell]
        if present.size:
            exact[cell] = math.fsum(present.tolist()) / present.size
    return exact.reshape(window.shape[1:])


def _at_least_as_close(new: xr.DataArray, old: xr.DataArray, exact: np.ndarray) -> None:
    """``new`` is ``old`` with other values only (coordinates, dtype, attributes identical), no farther
    from ``exact`` in any cell (NaN in the same cells), and within float rounding of it."""
    xr.testing.assert_identical(new.copy(data=old.values), old)
    assert new.dtype == old.dtype
    np.testing.assert_array_equal(np.isnan(new.values), np.isnan(exact))
    new_error = np.abs(new.values.astype("float64") - exact)
    old_error = np.abs(old.values.astype("float64") - exact)
    assert np.all(new_error[~np.isnan(exact)] <= old_error[~np.isnan(exact)])
    ulp = np.spacing(np.abs(exact).astype(new.dtype)).astype("float64")  # half an ulp: correctly rounded
    assert np.all(new_error[~np.isnan(exact)] <= 0.5 * ulp[~np.isnan(exact)] * (1 + 1e-9))


@pytest.mark.parametrize("monthly", [False, True])
@pytest.mark.parametrize("resolution", [6.0, 3.0, 12.0])  # the same grid, a finer target, a coarser one
def test_one_read_gives_the_map_and_the_native_mean_exactly_rounded(tmp_path, monthly, resolution):
    source = _reference(tmp_path, monthly)
    target = grid.common_grid(resolution)
    common, read = harmonize.period_means_once(source, None, target, "rh", PERIOD)
    on_target = harmonize.load_source(source, None, target)["rh"]
    two_reads = harmonize.period_mean(on_target, PERIOD).compute()  # float32, as before session 9
    _at_least_as_close(common, two_reads, _exact_mean(on_target, PERIOD))
    assert common.dtype == "float32"
    annual = harmonize.load_native(source, None)[0]["rh"]
    native = harmonize.period_mean(annual, PERIOD).astype("float64").compute()
    _at_least_as_close(read.mean, native, _exact_mean(annual, PERIOD))
    assert read.variable == "rh" and set(read.opened) == {"rh"}


def test_the_reference_is_read_into_memory_and_its_mean_does_not_depend_on_chunks(tmp_path, monkeypatch):
    """A small file is read without dask; a large one streams through dask's chunks: the same mean,
    bit for bit (a float32 mean taken chunk by chunk differed in its last digits)."""
    source = _reference(tmp_path, monthly=False)
    target = grid.common_grid(6.0)
    common, read = harmonize.period_means_once(source, None, target, "rh", PERIOD)
    assert read.opened["rh"].chunks is None  # numpy: read in one go
    monkeypatch.setattr(loader, "IN_MEMORY_BYTES", 1)  # as for a file too large to read at once
    streamed_common, streamed = harmonize.period_means_once(source, None, target, "rh", PERIOD)
    assert streamed.opened["rh"].chunks is not None
    xr.testing.assert_identical(streamed.mean, read.mean)
    xr.testing.assert_identical(streamed_common, common)
    for steps in (1, 5, 37):
        rechunked = read.opened["rh"].chunk({"year": steps})
        xr.testing.assert_identical(harmonize.period_mean_float64(rechunked, PERIOD), read.mean)


@pytest.mark.parametrize("monthly", [False, True])
def test_native_totals_from_the_shared_read_equal_a_fresh_read(tmp_path, monthly):
    source = _reference(tmp_path, monthly)
    _, read = harmonize.period_means_once(source, None, grid.common_grid(6.0), "rh", PERIOD)
    opened_before = dict(read.opened)
    shared, shared_note = source_totals(source, "rh", None, PERIOD, land_mask=None, vegclass=None, read=read)
    fresh, fresh_note = source_totals(source, "rh", None, PERIOD, land_mask=None, vegclass=None)
    xr.testing.assert_identical(shared, fresh)
    assert shared_note == fresh_note
    assert read.opened == opened_before and all(read.opened[k] is opened_before[k] for k in opened_before)


def test_a_read_of_another_variable_is_not_taken_for_this_one(tmp_path):
    source = _reference(tmp_path, False)
    _, read = harmonize.period_means_once(source, None, grid.common_grid(6.0), "rh", PERIOD)
    other_period = (1982, 1990)
    totals, _ = source_totals(source, "rh", None, other_period, land_mask=None, vegclass=None)
    wrong = harmonize.NativeMean(read.opened, "cSoil", read.mean)  # names another variable: not used
    again, _ = source_totals(source, "rh", None, other_period, land_mask=None, vegclass=None, read=wrong)
    xr.testing.assert_identical(again, totals)


def test_a_run_opens_the_reference_rh_file_once(tmp_path, monkeypatch):
    """Would fail if the reference were read twice (map and native totals), as before, or if the loader
    were asked for an ``rh_sd`` the file's header says it lacks (session 9: it opened the whole file
    again to find that out)."""
    files = write_files(tmp_path / "data", 1, monthly=False, resolution=6.0)
    models = list(files["models"])
    config = ilamb3_bench.write_config(tmp_path / "annual-1.toml", tmp_path / "data", models)
    opened: list[tuple[str, str]] = []  # (source, name in the file); the SD companion is ``rh_sd``
    real = loader.open_variable

    def counting(source, variable, path, **kwargs):
        opened.append((source.name, source.variables[variable].file_name))
        return real(source, variable, path, **kwargs)

    monkeypatch.setattr(loader, "open_variable", counting)
    result = ilamb3_bench.confront({"config": str(config), "out": str(tmp_path / "out"), "models": models})
    assert "error" not in result, result
    assert [name for source, name in opened if source == "Konings2019"] == ["rh"], opened  # no rh_sd read
    assert opened.count((models[0], "rh")) == 1, opened  # each model once too


def test_a_product_with_two_variables_of_other_years_reads_as_before(tmp_path):
    """Both former reads aligned a variable with the product's others (their years joined):
    the one read does too, on the common grid and on another."""
    lat, lon = np.arange(-87.0, 90.0, 6.0), np.arange(-177.0, 180.0, 6.0)
    rng = np.random.default_rng(7)

    def write(name: str, years: range, units: str) -> str:
        values = rng.gamma(2.0, 50.0, (len(years), lat.size, lon.size)).astype("float32")
        values[:, :5] = np.nan
        time = xr.DataArray([f"{y}-07-01" for y in years], dims="time").astype("datetime64[ns]")
        ds = xr.Dataset({name: (("time", "lat", "lon"), values, {"units": units})}, coords={"time": time})
        ds = ds.assign_coords(lat=("lat", lat, {"units": "degrees_north"}), lon=("lon", lon, {"units": "degrees_east"}))
        path = tmp_path / f"{name}.nc"
        ds.to_netcdf(path)
        return str(path)

    source = Source(
        name="Two",
        kind="rh",
        catalog_entry="test.none",
        variables={"rh": Var("rh", "g C m-2 yr-1"), "cSoil": Var("cSoil", "kg C m-2")},
        citation="test",
        files={
            "rh": (write("rh", range(1990, 2011), "g C m-2 yr-1"),),
            "cSoil": (write("cSoil", range(1982, 2019), "kg C m-2"),),
        },
    )
    for resolution in (6.0, 12.0):
        target = grid.common_grid(resolution)
        common, read = harmonize.period_means_once(source, None, target, "rh", (1982, 2018))
        on_target = harmonize.load_source(source, None, target)["rh"]
        two_reads = harmonize.period_mean(on_target, (1982, 2018)).compute()
        _at_least_as_close(common, two_reads, _exact_mean(on_target, (1982, 2018)))
        native = harmonize.load_native(source, None)[0]["rh"]
        old = harmonize.period_mean(native, (1982, 2018)).astype("float64").compute()
        _at_least_as_close(read.mean, old, _exact_mean(native, (1982, 2018)))
