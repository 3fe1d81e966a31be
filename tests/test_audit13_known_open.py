"""Thirteenth audit (session 11), part A: known-open items (docs/trust-cases.md, "Thirteenth audit
(session 11)"). A1: a model series whose files count time in other units of the day family (days,
hours) from other dates is joined by each file's own dates; totals against a hand calculation on
test_audit11_trendy's 10-degree grid."""

from __future__ import annotations

from pathlib import Path

import cftime
import numpy as np
import pytest
import xarray as xr

from rhbench.errors import TimeAxisError
from tests.test_audit11_trendy import LAT, LON, _hand, _rates, _total

#: The three files of the series: (years, time units), as a model's output re-written piecewise.
THREE_FILES = (
    ((2000,), "days since 1850-01-01"),
    ((2001,), "hours since 1900-01-01"),
    ((2002, 2003), "days since 2000-01-01"),
)


def _month_edges(years: tuple[int, ...], units: str, calendar: str) -> np.ndarray:
    """The start and end of each month of ``years`` in ``units`` (n, 2), through cftime."""
    starts = [cftime.datetime(y, m, 1, calendar=calendar) for y in years for m in range(1, 13)]
    ends = [cftime.datetime(y + (m == 12), m % 12 + 1, 1, calendar=calendar) for y in years for m in range(1, 13)]
    return np.stack([cftime.date2num(starts, units, calendar), cftime.date2num(ends, units, calendar)], axis=1)


def _file(path: Path, values: np.ndarray, years, units, calendar, *, bounds: bool = True) -> Path:
    """A monthly rh file (kg m-2 s-1) of ``years``: mid-month stamps in ``units`` (``None``: no units)."""
    edges = _month_edges(years, units or "days since 2000-01-01", calendar)
    time_attrs = {"calendar": calendar} | ({"units": units} if units else {})
    if bounds:
        time_attrs["bounds"] = "time_bnds"
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), values.astype("float32"), {"units": "kg m-2 s-1"})},
        coords={"time": ("time", edges.mean(axis=1), time_attrs), "lat": LAT, "lon": LON},
    )
    if bounds:
        ds["time_bnds"] = (("time", "nv"), edges)
    encoding = {name: {"_FillValue": None} for name in ds.variables}
    if units is None:  # xarray would write units of its own for a time without them
        encoding["time"]["dtype"] = "float64"
    ds.to_netcdf(path, encoding=encoding)
    return path


def _series(folder: Path, rates: np.ndarray, calendar: str, files=THREE_FILES, **kw) -> list[Path]:
    paths, start = [], 0
    for k, (years, units) in enumerate(files):
        n = 12 * len(years)
        paths.append(_file(folder / f"rh_{k}.nc", rates[start : start + n], years, units, calendar, **kw))
        start += n
    return paths


@pytest.mark.parametrize("bounds", [True, False], ids=["time_bnds", "no bounds"])
@pytest.mark.parametrize("calendar", ["noleap", "standard"])
def test_a_series_in_days_and_hours_since_other_dates_is_joined_to_the_hand_total(tmp_path, calendar, bounds):
    """Before: "files of a series have different time units" (the model lost). Now each file's times are
    converted to the first file's units through their dates: the hand total of the 48 months, day-weighted
    in the file's calendar (2000 a leap year in `standard`), and the same total as the one-unit file."""
    rates = _rates(seasonal=True)
    paths = _series(tmp_path, rates, calendar, bounds=bounds)
    one = _file(tmp_path / "one.nc", rates, (2000, 2001, 2002, 2003), "days since 2000-01-01", calendar, bounds=bounds)
    total = _total({"rh": paths})
    assert total == pytest.approx(_hand(rates, calendar), rel=1e-6)
    assert total == pytest.approx(_total({"rh": [one]}), rel=1e-12)


def test_the_first_file_in_hours_puts_the_series_in_hours(tmp_path):
    """The first file sets the units: hours since 1900 first, then days since 1850 and days since 2000."""
    rates = _rates()
    files = (THREE_FILES[1][1], THREE_FILES[0][1], THREE_FILES[2][1])
    order = tuple(((y,), u) for y, u in zip((2000, 2001), files[:2], strict=True)) + (((2002, 2003), files[2]),)
    paths = _series(tmp_path, rates, "standard", files=order)
    assert _total({"rh": paths}) == pytest.approx(_hand(rates, "standard"), rel=1e-6)


def test_a_file_of_the_series_without_time_units_stays_refused_naming_it(tmp_path):
    rates = _rates()
    files = (THREE_FILES[0], ((2001,), None), THREE_FILES[2])
    paths = _series(tmp_path, rates, "noleap", files=files)
    assert "units" not in xr.open_dataset(paths[1], decode_times=False)["time"].attrs
    with pytest.raises(TimeAxisError, match="time coordinate has no units") as info:
        _total({"rh": paths})
    assert "rh_1.nc" in str(info.value)


def test_months_beside_days_stay_refused_naming_both_files_and_units(tmp_path):
    """'months since' counts calendar months (rhbench's reading), not a fixed length: not converted."""
    rates = _rates()
    paths = _series(tmp_path, rates[:24], "360_day", files=(((2000,), "days since 2000-01-01"),))
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), rates[12:24].astype("float32"), {"units": "kg m-2 s-1"})},
        coords={
            "time": ("time", np.arange(12) + 0.5, {"units": "months since 2001-01-01", "calendar": "360_day"}),
            "lat": LAT,
            "lon": LON,
        },
    )
    ds.to_netcdf(tmp_path / "rh_months.nc", encoding={n: {"_FillValue": None} for n in ds.variables})
    with pytest.raises(TimeAxisError, match="different time units") as info:
        _total({"rh": [paths[0], tmp_path / "rh_months.nc"]})
    text = str(info.value)
    assert "rh_0.nc" in text and "rh_months.nc" in text and "months since 2001-01-01" in text


@pytest.mark.shared_data
def test_the_real_sample_split_into_files_of_their_own_time_units_gives_the_same_total(tmp_path):
    """A13-1 and B13-9 on the REAL CMIP6 sample (ACCESS-ESM1-5 gpp read as rh, proleptic_gregorian, with
    time_bnds): split into 2000-2004 in its own 'days since 1850-01-01', 2005-2009 in 'hours since
    1900-01-01' and 2010-2014 in 'days since 2000-01-01 12:00:00', time and bounds converted through their
    dates (cftime). Before: refused ("different time units"); now the unsplit file's total (rel 1e-9)."""
    from tests.test_audit11_real_cmip6 import _real_gpp_as_rh
    from tests.test_audit11_real_cmip6 import _total as _cmip6_total

    original = _real_gpp_as_rh(tmp_path / "whole")
    with xr.open_dataset(original, decode_times=False) as ds:
        ds = ds.load()
    calendar, own = ds["time"].attrs["calendar"], ds["time"].attrs["units"]
    (tmp_path / "split").mkdir()
    for (first, last), units in zip(
        ((2000, 2004), (2005, 2009), (2010, 2014)),
        (own, "hours since 1900-01-01", "days since 2000-01-01 12:00:00"),
        strict=True,
    ):
        part = ds.isel(time=slice((first - 2000) * 12, (last - 1999) * 12)).copy()
        for name in ("time", "time_bnds"):
            dates = cftime.num2date(part[name].values, own, calendar)
            part[name] = (part[name].dims, np.asarray(cftime.date2num(dates, units, calendar), float), part[name].attrs)
        part["time"].attrs["units"] = units
        name = original.name.replace("200001-201412", f"{first}01-{last}12")
        part.to_netcdf(tmp_path / "split" / name)
    expected = _cmip6_total(tmp_path / "whole")
    assert expected > 50.0  # the sample's gpp: ~112 Pg C yr-1 read as rh
    assert _cmip6_total(tmp_path / "split") == pytest.approx(expected, rel=1e-9)
