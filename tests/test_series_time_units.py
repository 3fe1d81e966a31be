"""S8-5: period files each counting time from their own origin (xarray/CDO re-writes: file 1 in
'days since 1999-01-01', file 2 in 'days since 2002-01-01', one calendar) are read as one series,
each file's time and bounds converted to the first file's units; other calendars, or months beside
days, stay a TimeAxisError naming both files and both units (days beside hours are joined since the
thirteenth audit: tests/test_audit13_known_open.py)."""

from __future__ import annotations

import cftime
import numpy as np
import pytest
import xarray as xr

from rhbench import loader
from rhbench.errors import TimeAxisError
from rhbench.sources import Source, Var


def _source() -> Source:
    return Source("M", "dgvm", "test.M", {"rh": Var("rh", "gC m-2 yr-1")}, "test")


def _steps(years: list[int], monthly: bool, calendar: str) -> list[tuple[cftime.datetime, cftime.datetime]]:
    """(start, end) of each step of ``years``: months or whole years."""
    if not monthly:
        return [
            (cftime.datetime(y, 1, 1, calendar=calendar), cftime.datetime(y + 1, 1, 1, calendar=calendar))
            for y in years
        ]
    out = []
    for y in years:
        for m in range(1, 13):
            end = cftime.datetime(y + (m == 12), m % 12 + 1, 1, calendar=calendar)
            out.append((cftime.datetime(y, m, 1, calendar=calendar), end))
    return out


def _write(path, years, first_value, *, monthly, calendar, units, bounds):
    """A file of ``years`` whose step k holds ``first_value + k`` gC m-2 yr-1, its time (the middle
    of each step) in ``units``; ``bounds``: None, "inherit" (CF: the time's units) or "own" (xarray's
    encoding of bounds from their own first value: here 'days since' a year before the first step,
    stated on the bounds; units equal to the time's xarray does not write)."""
    steps = _steps(years, monthly, calendar)
    if units.startswith("months since"):  # cftime counts months in 360_day only; whole months here
        origin = int(units.split()[2][:4]) * 12
        starts = np.array([s.year * 12 + s.month - 1 - origin for s, _ in steps], float)
        ends = starts + 1
    else:
        starts = cftime.date2num([s for s, _ in steps], units, calendar)
        ends = cftime.date2num([e for _, e in steps], units, calendar)
    time = xr.DataArray(
        (np.asarray(starts, float) + np.asarray(ends, float)) / 2,
        dims="time",
        attrs={"units": units, "calendar": calendar},
    )
    values = first_value + np.arange(len(steps), dtype=float)
    field = xr.DataArray(
        values[:, None, None] * np.ones((1, 2, 2)), dims=("time", "lat", "lon"), attrs={"units": "gC m-2 yr-1"}
    )
    ds = xr.Dataset({"rh": field}, coords={"time": time, "lat": [-45.0, 45.0], "lon": [-90.0, 90.0]})
    if bounds is not None:
        edges = np.stack([np.asarray(starts, float), np.asarray(ends, float)], axis=1)
        attrs = {}
        if bounds == "own":
            own = f"days since {steps[0][0].year - 1:04d}-01-01"
            edges = np.stack(
                [
                    cftime.date2num([s for s, _ in steps], own, calendar),
                    cftime.date2num([e for _, e in steps], own, calendar),
                ],
                axis=1,
            ).astype(float)
            attrs = {"units": own, "calendar": calendar}
        ds["time_bnds"] = xr.DataArray(edges, dims=("time", "nv"), attrs=attrs)
        ds["time"].attrs["bounds"] = "time_bnds"
    ds.to_netcdf(path)
    return path


def _three_then_two_years(tmp_path, names, *, monthly, calendar, units, second_units, bounds, second_calendar=None):
    """Files ``names`` holding 1999-2001 (time in ``units``) then 2002-2003 (in ``second_units``, and
    ``second_calendar`` when given): the step values run on across the two files from 100."""
    first = _write(
        tmp_path / names[0], [1999, 2000, 2001], 100.0, monthly=monthly, calendar=calendar, units=units, bounds=bounds
    )
    steps = 3 * (12 if monthly else 1)
    second = _write(
        tmp_path / names[1],
        [2002, 2003],
        100.0 + steps,
        monthly=monthly,
        calendar=second_calendar or calendar,
        units=second_units,
        bounds=bounds,
    )
    return first, second


def _by_hand(years: list[int], monthly: bool, calendar: str) -> np.ndarray:
    """Annual means of the step values 100, 101, ... by hand (monthly: weighted by days per month)."""
    if not monthly:
        return 100.0 + np.arange(len(years))
    out = []
    for k, y in enumerate(years):
        leap = calendar == "standard" and (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0))
        days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        out.append(np.average(100.0 + 12 * k + np.arange(12), weights=days))
    return np.array(out)


@pytest.mark.parametrize("bounds", [None, "inherit", "own"], ids=["no bounds", "time_bnds", "time_bnds own units"])
@pytest.mark.parametrize("calendar", ["noleap", "standard"])
@pytest.mark.parametrize("monthly", [False, True], ids=["yearly", "monthly"])
def test_files_counting_from_their_own_origin_are_read_as_one_series(tmp_path, monthly, calendar, bounds):
    """1999-2001 in '<unit> since 1999-01-01' then 2002-2003 in '<unit> since 2002-01-01' (days; hours
    for monthly standard): refused before S8-5; now years 1999-2003, annual means = the hand
    calculation and = the same data written with one common unit."""
    first, second = [1999, 2000, 2001], [2002, 2003]
    n_first = len(first) * (12 if monthly else 1)
    unit = "hours" if (monthly and calendar == "standard") else "days"
    kw = {"monthly": monthly, "calendar": calendar, "bounds": bounds}

    def series(names: str, second_origin: str) -> list:
        return [
            _write(tmp_path / f"{names[0]}.nc", first, 100.0, units=f"{unit} since 1999-01-01", **kw),
            _write(tmp_path / f"{names[1]}.nc", second, 100.0 + n_first, units=f"{unit} since {second_origin}", **kw),
        ]

    own, common = series("ab", "2002-01-01"), series("cd", "1999-01-01")
    found = loader.open_variable(_source(), "rh", own, annual=True)
    same = loader.open_variable(_source(), "rh", common, annual=True)
    years = first + second
    assert found["year"].values.tolist() == years
    np.testing.assert_allclose(found.isel(lat=0, lon=0).values, _by_hand(years, monthly, calendar), rtol=1e-12)
    np.testing.assert_array_equal(found.values, same.values)


def test_monthly_files_in_months_from_their_own_origin_are_joined(tmp_path):
    """'months since 1999-01-01' then 'months since 2002-01-01' (noleap): the second file's months
    plus 36; the same years and means as the days-based series."""
    a, b = _three_then_two_years(
        tmp_path,
        ("a.nc", "b.nc"),
        monthly=True,
        calendar="noleap",
        units="months since 1999-01-01",
        second_units="months since 2002-01-01",
        bounds=None,
    )
    found = loader.open_variable(_source(), "rh", [a, b], annual=True)
    years = [1999, 2000, 2001, 2002, 2003]
    assert found["year"].values.tolist() == years
    np.testing.assert_allclose(found.isel(lat=0, lon=0).values, _by_hand(years, True, "noleap"), rtol=1e-12)


def test_the_time_values_and_bounds_are_converted_exactly_to_the_first_files_units(tmp_path):
    """The joined time (float64) and, before labelling, the bounds: the second file's values plus
    its origin counted in the first file's units (2002-01-01 is day 1095 of 'days since 1999-01-01',
    noleap), the bounds in units of their own converted as well."""
    from rhbench import layout

    a, b = _three_then_two_years(
        tmp_path,
        ("a.nc", "b.nc"),
        monthly=False,
        calendar="noleap",
        units="days since 1999-01-01",
        second_units="days since 2002-01-01",
        bounds="own",
    )
    datasets = [xr.open_dataset(p, decode_times=False) for p in (a, b)]
    rebased = layout.on_first_units(datasets, "rh")
    assert rebased[1]["time"].attrs["units"] == "days since 1999-01-01"
    assert rebased[1]["time"].dtype == np.float64
    np.testing.assert_array_equal(rebased[1]["time"].values, [1095 + 182.5, 1095 + 365 + 182.5])
    np.testing.assert_array_equal(rebased[1]["time_bnds"].values, [[1095, 1460], [1460, 1825]])
    assert rebased[1]["time_bnds"].attrs["units"] == "days since 1999-01-01"
    joined = loader.concat_files(datasets, [a, b], "rh")
    np.testing.assert_array_equal(joined["time"].values, 182.5 + 365 * np.arange(5))


@pytest.mark.parametrize(
    ("second", "what"),
    [
        (("days since 2002-01-01", "standard"), "calendars"),
        (("months since 2002-01-01", "noleap"), "units"),
    ],
    ids=["calendar", "months vs days"],  # days vs hours: joined since the thirteenth audit (test_audit13_known_open)
)
def test_another_calendar_or_unit_of_time_stays_an_error_naming_both_files_and_units(tmp_path, second, what):
    units, calendar = second
    a, b = _three_then_two_years(
        tmp_path,
        ("rh_1999.nc", "rh_2002.nc"),
        monthly=True,
        calendar="noleap",
        units="days since 1999-01-01",
        second_units=units,
        second_calendar=calendar,
        bounds=None,
    )
    with pytest.raises(TimeAxisError, match=f"files of a series have different time {what}") as info:
        loader.open_variable(_source(), "rh", [a, b], annual=True)
    text = str(info.value)
    assert "rh_1999.nc" in text and "rh_2002.nc" in text
    assert "days since 1999-01-01" in text and units in text
