"""The reference Rh is read once for its common-grid map and its native-grid totals (issue 18).

:func:`rhbench.harmonize.period_means_once` must give exactly what the two reads gave
(the common-grid map of :func:`rhbench.harmonize.load_source` averaged over the period, and
the native totals of :func:`rhbench.metrics.observed.source_totals`), on the common grid, on
a coarser and on a finer grid, from float32 files, annual and monthly; and a run must open
the reference's Rh file once.
"""

from __future__ import annotations

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


@pytest.mark.parametrize("monthly", [False, True])
@pytest.mark.parametrize("resolution", [6.0, 3.0, 12.0])  # the same grid, a finer target, a coarser one
def test_one_read_gives_the_map_and_the_native_mean_of_two_reads(tmp_path, monthly, resolution):
    source = _reference(tmp_path, monthly)
    target = grid.common_grid(resolution)
    common, read = harmonize.period_means_once(source, None, target, "rh", PERIOD)
    two_reads = harmonize.period_mean(harmonize.load_source(source, None, target)["rh"], PERIOD).compute()
    xr.testing.assert_identical(common, two_reads)  # values bit for bit, dtype, coordinates, attributes
    assert common.dtype == two_reads.dtype == "float32"
    native = harmonize.period_mean(harmonize.load_native(source, None)[0]["rh"], PERIOD).astype("float64").compute()
    xr.testing.assert_identical(read.mean, native)
    assert read.variable == "rh" and set(read.opened) == {"rh"}


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
    """Would fail if the reference were read twice (map and native totals), as before."""
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
    assert opened.count(("Konings2019", "rh")) == 1, opened
    assert opened.count((models[0], "rh")) == 1, opened  # each model once too


def test_a_product_with_two_variables_of_other_years_reads_as_before(tmp_path):
    """Both former reads aligned a variable with the product's others (their years joined):
    the one read does too, on the common grid and on another."""
    import numpy as np

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
        two_reads = harmonize.period_mean(harmonize.load_source(source, None, target)["rh"], (1982, 2018)).compute()
        xr.testing.assert_identical(common, two_reads)
        native = harmonize.load_native(source, None)[0]["rh"]
        xr.testing.assert_identical(read.mean, harmonize.period_mean(native, (1982, 2018)).astype("float64").compute())
