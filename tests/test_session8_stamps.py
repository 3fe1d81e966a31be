"""Session 8, item 3: year-end stamped yearly files re-written by xarray.

Where time bounds exist they decide exactly (a stamp at the end bound is a year end); the
reference-date ASSUMPTION (stamps.py) and its warning remain only where there are no bounds.
Files are written here by xarray from decoded dates, as a user's re-write does: xarray then
encodes ``time`` and ``time_bnds`` each from its own first value ('days since 1999-01-01' for the
stamps, 'days since 1998-01-01' for the bounds), which CF does not allow (bounds inherit the
time's units) and which, compared as raw numbers, put every year's bounds one year late.
"""

from __future__ import annotations

import logging

import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from test_time_stamps import _years

pytestmark = pytest.mark.filterwarnings("ignore:Variable time has datetime type and a bounds variable")

TRUE_YEARS = np.arange(1998, 2005)


def _rewritten(path, *, bounds: bool):
    """Year ends 1998-2004 stamped 1999-01-01 .. 2005-01-01, each year y holding y x 1e-9 kg m-2 s-1,
    written by xarray from decoded dates (default encoding), with CF bounds [y-01-01, (y+1)-01-01] or none."""
    stamps = pd.to_datetime([f"{y + 1}-01-01" for y in TRUE_YEARS])
    field = np.broadcast_to(TRUE_YEARS[:, None, None] * 1e-9, (TRUE_YEARS.size, 2, 2)).copy()
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), field, {"units": "kg m-2 s-1"})},
        coords={"time": stamps, "lat": [-45.0, 45.0], "lon": [-90.0, 90.0]},
    )
    if bounds:
        starts = pd.to_datetime([f"{y}-01-01" for y in TRUE_YEARS])
        ds["time_bnds"] = (("time", "nv"), np.stack([starts, stamps], axis=1))
        ds["time"].attrs["bounds"] = "time_bnds"
    ds.to_netcdf(path)
    return path


def test_xarray_writes_bounds_in_units_of_their_own(tmp_path):
    """The premise: the bounds' units differ from the stamps' (so raw numbers cannot be compared)."""
    path = _rewritten(tmp_path / "rh.nc", bounds=True)
    with netCDF4.Dataset(path) as ds:
        assert ds["time"].units.startswith("days since 1999-01-01") and ds["time"][0] == 0
        assert ds["time_bnds"].units.startswith("days since 1998-01-01")


def test_year_end_stamps_re_written_with_bounds_are_read_by_their_bounds_without_a_warning(tmp_path, caplog):
    """Bounds [1998-01-01, 1999-01-01] .. around stamps 1999-01-01 ..: the stamp is the end bound, the
    years are 1998-2004 (hand: each year's value is its own year), no assumption, no warning."""
    path = _rewritten(tmp_path / "rh.nc", bounds=True)
    with caplog.at_level(logging.WARNING):
        years, values, attrs = _years(path, (2000, 2004))
    assert years.tolist() == TRUE_YEARS.tolist()
    assert values.tolist() == TRUE_YEARS.tolist()
    assert "time_stamps" not in attrs
    assert not [r for r in caplog.records if r.name == "rhbench.layout"], caplog.text


def test_year_end_stamps_re_written_without_bounds_keep_the_warned_assumption(tmp_path, caplog):
    """No bounds: the reference-date rule reads them as year starts (a year late), and says so: a
    warning naming the file and the assumption."""
    path = _rewritten(tmp_path / "rh.nc", bounds=False)
    with caplog.at_level(logging.WARNING):
        years, values, attrs = _years(path, (2000, 2004))
    assert years.tolist() == (TRUE_YEARS + 1).tolist()  # the stated assumption
    assert values.tolist() == TRUE_YEARS.tolist()
    warned = [r for r in caplog.records if r.name == "rhbench.layout" and r.levelno == logging.WARNING]
    assert len(warned) == 1, caplog.text
    text = warned[0].getMessage()
    assert "rh.nc" in text and "ASSUMED year starts" in text and "re-written by xarray" in text, text
    assert "ASSUMED year starts" in attrs["time_stamps"]


def test_bounds_in_units_of_their_own_are_converted_to_the_stamps_units(tmp_path):
    """Unit level: layout.time_values gives the middle of each bound in the time's units."""
    import cftime

    from rhbench import layout

    path = _rewritten(tmp_path / "rh.nc", bounds=True)
    with xr.open_dataset(path, decode_times=False) as ds:
        middle = layout.time_values(ds, "time").values
    units, calendar = "days since 1999-01-01", "proleptic_gregorian"
    day = [cftime.date2num(cftime.DatetimeProlepticGregorian(int(y), 1, 1), units, calendar) for y in range(1998, 2006)]
    expected = [(day[i] + day[i + 1]) / 2 for i in range(TRUE_YEARS.size)]  # e.g. 1998: (-365 + 0) / 2
    np.testing.assert_allclose(middle, expected)


def test_bounds_that_do_not_contain_their_stamps_are_ignored_with_a_warning_naming_the_file(tmp_path, caplog):
    """Bounds one year off their stamps (a broken file): the stamps are read as without bounds, and a
    warning says the bounds were ignored (before: silently)."""
    import cftime

    units, calendar = "days since 1850-01-01", "noleap"
    stamps = [cftime.date2num(cftime.datetime(y, 7, 2, calendar=calendar), units, calendar) for y in TRUE_YEARS]
    edges = [cftime.date2num(cftime.datetime(y, 1, 1, calendar=calendar), units, calendar) for y in range(1990, 1998)]
    field = np.broadcast_to(TRUE_YEARS[:, None, None] * 1e-9, (TRUE_YEARS.size, 2, 2)).copy()
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), field, {"units": "kg m-2 s-1"})},
        coords={"lat": [-45.0, 45.0], "lon": [-90.0, 90.0]},
    )
    ds = ds.assign_coords(time=("time", stamps, {"units": units, "calendar": calendar, "bounds": "time_bnds"}))
    ds["time_bnds"] = (("time", "nv"), np.stack([edges[:-1], edges[1:]], axis=1))
    path = tmp_path / "rh.nc"
    ds.to_netcdf(path)
    with caplog.at_level(logging.WARNING):
        years, values, _ = _years(path, None)
    assert years.tolist() == TRUE_YEARS.tolist() and values.tolist() == TRUE_YEARS.tolist()  # mid-year stamps
    warned = [r.getMessage() for r in caplog.records if r.name == "rhbench.layout"]
    assert len(warned) == 1 and "rh.nc" in warned[0] and "do not contain their time stamps" in warned[0], warned
