"""Review 4 of the session's product changes (docs/trust-cases.md "Review 4")."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rhbench import loader
from rhbench.errors import TimeAxisError
from rhbench.sources import Source, Var


def _yearly(path, calendar: str, start: float, step: float, years: tuple[int, int]) -> Source:
    """A yearly rh file (2 x 2 cells, 1e-8 kg m-2 s-1) of ``years`` stamped ``start + step * i`` days."""
    n = years[1] - years[0] + 1
    units = f"days since {years[0]}-01-01"
    time = xr.DataArray(start + step * np.arange(n), dims="time", attrs={"units": units, "calendar": calendar})
    field = xr.DataArray(np.ones((n, 2, 2)) * 1e-8, dims=("time", "lat", "lon"), attrs={"units": "kg m-2 s-1"})
    xr.Dataset({"rh": field}, coords={"time": time, "lat": [-45.0, 45.0], "lon": [-90.0, 90.0]}).to_netcdf(path)
    return Source("M", "dgvm", "test.M", {"rh": Var("rh", "kg m-2 s-1")}, "test", period=years)


def test_mid_year_365_day_steps_in_a_standard_calendar_keep_their_years(tmp_path):
    """TRENDY-style 1700-2018 yearly means at 182.5 + 365 i days in a ``standard`` calendar: the
    stamps drift a day per leap year (July 1700 to April 2018) but every year keeps its label.
    check_even_steps compared month steps (11 once, at the July->June crossing) and refused the
    model; yearly steps are now compared in years."""
    source = _yearly(tmp_path / "rh.nc", "standard", 182.5, 365.0, (1700, 2018))
    years = loader.open_variable(source, "rh", tmp_path / "rh.nc", annual=True)["year"].values
    assert years.tolist() == list(range(1700, 2019))


def test_yearly_steps_that_skip_a_year_label_are_still_refused(tmp_path):
    """The same check still refuses 365-day steps in a 360_day calendar (a year label skipped)."""
    source = _yearly(tmp_path / "rh.nc", "360_day", 182.5, 365.0, (1700, 2018))
    with pytest.raises(TimeAxisError, match="do not fit the calendar"):
        loader.open_variable(source, "rh", tmp_path / "rh.nc", annual=True)


def _packed_file(path, valid: dict, unsigned: bool = False):
    """A tiny int16-packed file: stored -5, 0, 50, 100, 101 (scale 0.5, offset 10: 7.5, 10, 35, 60, 60.5)."""
    stored = np.array([-5, 0, 50, 100, 101], dtype="int16")
    attrs = {"scale_factor": np.float32(0.5), "add_offset": np.float32(10.0), "_FillValue": np.int16(-999), **valid}
    if unsigned:
        attrs["_Unsigned"] = "true"
    ds = xr.Dataset({"v": xr.Variable(("x",), stored, attrs)})
    ds.to_netcdf(path, encoding={"v": {"dtype": "int16", "_FillValue": None}})
    return path


@pytest.mark.parametrize("raw", [True, False], ids=["read-raw", "decoded-on-opening"])
@pytest.mark.parametrize(
    ("valid", "expected"),
    [
        # of the packed type (int16): packed units, 0..100 stored -> 10..60 unpacked
        ({"valid_range": np.array([0, 100], dtype="int16")}, [np.nan, 10.0, 35.0, 60.0, np.nan]),
        ({"valid_min": np.int16(0)}, [np.nan, 10.0, 35.0, 60.0, 60.5]),
        ({"valid_max": np.int16(100)}, [7.5, 10.0, 35.0, 60.0, np.nan]),
        # of another type (float32): unpacked units
        ({"valid_range": np.array([10.0, 40.0], dtype="float32")}, [np.nan, 10.0, 35.0, np.nan, np.nan]),
    ],
    ids=["packed-range", "packed-min", "packed-max", "unpacked-range"],
)
def test_a_packed_variables_valid_range_is_applied_in_the_units_cf_says(tmp_path, valid, expected, raw):
    """Eighth audit's open item: a packed variable's valid range was not applied. Values outside
    it (packed units when of the packed type, else unpacked) are missing; inside keep their value."""
    from rhbench import layout
    from rhbench.readers import netcdf

    path = _packed_file(tmp_path / "p.nc", valid)
    with netcdf.open_file(path, variable="v", raw_values=raw) as ds:
        out, _ = layout.fill_values(ds, "v", file=str(path))
        values = np.asarray(out["v"].values, dtype=float)
    np.testing.assert_allclose(values, expected, rtol=1e-6, equal_nan=True)
    assert not set(out["v"].attrs) & {"valid_range", "valid_min", "valid_max"}


def test_an_unsigned_packed_variables_valid_range_reads_its_limits_as_unsigned(tmp_path):
    """int16 with _Unsigned: stored -5 is 65531 (32775.5 unpacked); valid_range [0, -1] (int16) is
    0..65535 unsigned, so every value is inside; [0, 100] keeps 0..100 only."""
    from rhbench import layout
    from rhbench.readers import netcdf

    for limits, expected in (([0, -1], [32775.5, 10.0, 35.0, 60.0, 60.5]), ([0, 100], [np.nan, 10, 35, 60, np.nan])):
        path = _packed_file(tmp_path / "u.nc", {"valid_range": np.array(limits, dtype="int16")}, unsigned=True)
        with netcdf.open_file(path, variable="v", raw_values=True) as ds:
            values = np.asarray(layout.fill_values(ds, "v", file=str(path))[0]["v"].values, dtype=float)
        np.testing.assert_allclose(values, expected, rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize(
    "valid",
    [{"valid_min": np.float32("nan")}, {"valid_range": np.array([0.0, 1.0, 2.0])}, {"valid_max": np.array([])}],
    ids=["nan-min", "range-of-3", "empty-max"],
)
def test_an_unusable_valid_limit_is_ignored_with_a_warning_not_applied(tmp_path, valid, caplog):
    """A NaN valid_min compared false with every value and made the whole variable missing; an
    empty valid_max was an IndexError traceback. They are ignored, with a warning naming the file."""
    from rhbench import layout
    from rhbench.readers import netcdf

    stored = np.array([-5.0, 0.5, 3.0])
    xr.Dataset({"v": xr.Variable(("x",), stored, valid)}).to_netcdf(tmp_path / "v.nc")
    with caplog.at_level("WARNING"), netcdf.open_file(tmp_path / "v.nc", variable="v", raw_values=True) as ds:
        values = np.asarray(layout.fill_values(ds, "v", file=str(tmp_path / "v.nc"))[0]["v"].values)
    np.testing.assert_array_equal(values, stored)
    assert "v.nc" in caplog.text and "ignored" in caplog.text


def test_a_newer_rhbench_versions_demo_root_is_kept_by_an_older_one(tmp_path):
    """democache.prune promised "only an earlier version's" demo roots but removed every other
    version's: an older rhbench deleted a newer one's demo (regenerated at its next run)."""
    from rhbench import __version__, democache
    from tests.test_democache import _demo

    cache = tmp_path / "cache"
    current, older, newer = (_demo(cache, v) for v in (__version__, "0.0.1", "999.0.0"))
    odd = _demo(cache, "0.1.0rc1")  # cannot be ordered by release numbers alone: kept
    assert democache.prune(current, cache) == [older]
    assert newer.is_dir() and odd.is_dir() and current.is_dir()
    assert democache.earlier("0.9.0", "0.10.0") and not democache.earlier("0.10.0", "0.9.0")
    assert not democache.earlier("0.1", "0.1.0")


def test_sites_either_side_of_the_equator_within_the_rounding_are_one_location():
    """location_key rounds to 1e-4 degree, but -0.00001 rounded to "-0.0" and 0.00001 to "0.0":
    two keys for one location (its rows could sit in different grouped folds)."""
    import pandas as pd

    from rhbench.upscaling.grouped import location_key

    sites = pd.DataFrame({"Latitude": [-0.00001, 0.00001, 10.0], "Longitude": [-0.00002, 0.00003, 5.0]})
    keys = location_key(sites).tolist()
    assert keys[0] == keys[1] == "0.0|0.0" and keys[2] == "10.0|5.0"
