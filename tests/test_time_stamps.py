"""Time stamps without CF bounds: which year (month) each labels (rhbench.stamps, layout.label_time).

Tiny files built here, read through the loader (:func:`rhbench.loader.open_variable`) as a
run reads them. Each year y holds the value y (kg m-2 s-1 of rh), so the years read back
say which year each value was given. Before the fix, yearly means stamped 2001-01-01 for the
year 2000 without bounds were read as 2001 (a year late, exit 0).
"""

from __future__ import annotations

import logging
from pathlib import Path

import cftime
import numpy as np
import pytest
import xarray as xr

from rhbench import loader, stamps, timeaxis
from rhbench.errors import TimeAxisError
from rhbench.sources import Source, Var

UNITS = "days since 1850-01-01"
YEARS = np.arange(2000, 2005)


def _source(period: tuple[int, int] | None) -> Source:
    return Source(
        name="STAMP-MODEL",
        kind="dgvm",
        catalog_entry="test.STAMP-MODEL",
        variables={"rh": Var("rh", "kg m-2 s-1")},
        citation="test",
        period=period,
    )


def _write(
    path: Path,
    dates: list,
    values: np.ndarray,
    bounds: list | None = None,
    calendar: str = "standard",
    units: str = UNITS,
) -> Path:
    """rh(time, lat, lon) on a 2 x 2 grid, time in ``units`` (days since 1850) at ``dates`` (and ``bounds``)."""
    time = cftime.date2num(dates, units, calendar)
    attrs = {"units": units, "calendar": calendar}
    ds = xr.Dataset(coords={"lat": [-45.0, 45.0], "lon": [-90.0, 90.0]})
    if bounds is not None:
        attrs["bounds"] = "time_bnds"
        edges = cftime.date2num(bounds, units, calendar)
        ds["time_bnds"] = (("time", "bnds"), np.stack([edges[:-1], edges[1:]], axis=1))
    ds = ds.assign_coords(time=("time", time, attrs))
    field = np.broadcast_to(values[:, None, None], (values.size, 2, 2)).astype("float64") * 1e-9
    ds["rh"] = (("time", "lat", "lon"), field, {"units": "kg m-2 s-1"})
    ds.to_netcdf(path)
    return path


def _years(path: Path, period: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray, dict]:
    """(years read, the value of each year in 1e-9 kg m-2 s-1, attrs) of the file's rh as annual means."""
    data = loader.open_variable(_source(period), "rh", path, annual=True).load()
    seconds = 1e-3 / (365.25 * 86400)  # gC m-2 yr-1 -> kg m-2 s-1
    return data["year"].values, np.round(data.isel(lat=0, lon=0).values * seconds / 1e-9, 6), data.attrs


def _jan1(years) -> list:
    return [cftime.datetime(int(y), 1, 1, calendar="standard") for y in years]


def test_yearly_stamps_mid_year_label_their_year(tmp_path):
    dates = [cftime.datetime(int(y), 7, 2, 12, calendar="standard") for y in YEARS]
    years, values, attrs = _years(_write(tmp_path / "rh.nc", dates, YEARS.astype(float)), None)
    assert years.tolist() == YEARS.tolist() and values.tolist() == YEARS.tolist() and "time_stamps" not in attrs


def test_yearly_stamps_on_31_december_label_their_year(tmp_path):
    dates = [cftime.datetime(int(y), 12, 31, calendar="standard") for y in YEARS]
    years, values, _ = _years(_write(tmp_path / "rh.nc", dates, YEARS.astype(float)), (2000, 2004))
    assert years.tolist() == YEARS.tolist() and values.tolist() == YEARS.tolist()


@pytest.mark.parametrize("stamp", ["start", "end"])
def test_yearly_stamps_with_bounds_are_labelled_by_their_bounds(tmp_path, stamp):
    edges = _jan1(range(2000, 2006))
    dates = edges[:-1] if stamp == "start" else edges[1:]
    path = _write(tmp_path / "rh.nc", dates, YEARS.astype(float), bounds=edges)
    years, values, attrs = _years(path, None)
    assert years.tolist() == YEARS.tolist() and values.tolist() == YEARS.tolist() and "time_stamps" not in attrs


def test_yearly_end_stamps_without_bounds_are_read_a_year_earlier_when_the_plugin_period_says_so(tmp_path, caplog):
    """2001-01-01 .. 2005-01-01 for the years 2000-2004 (plugin period 2000-2004): before, read as 2001-2005."""
    path = _write(tmp_path / "rh.nc", _jan1(range(2001, 2006)), YEARS.astype(float))
    with caplog.at_level(logging.WARNING):
        years, values, attrs = _years(path, (2000, 2004))
    assert years.tolist() == YEARS.tolist() and values.tolist() == YEARS.tolist()
    assert "END of each year" in attrs["time_stamps"] and "2000-2004" in attrs["time_stamps"]
    assert "END of each year" in caplog.text and "rh.nc" in caplog.text


def test_yearly_end_stamps_without_bounds_are_read_a_year_earlier_when_the_file_name_says_so(tmp_path):
    """A CMIP6-style name (``_2000-2004.nc``) is the first evidence; the plugin period is not needed."""
    path = _write(tmp_path / "rh_Eyr_M_historical_r1i1p1f1_gn_2000-2004.nc", _jan1(range(2001, 2006)), YEARS * 1.0)
    years, values, attrs = _years(path, None)
    assert years.tolist() == YEARS.tolist() and values.tolist() == YEARS.tolist()
    assert "its file name says 2000-2004" in attrs["time_stamps"]


def test_yearly_end_stamps_over_a_longer_file_are_read_by_the_period_end(tmp_path):
    """A file of 1998-2004 stamped 1999-01-01 .. 2005-01-01 under a plugin period of 2000-2004 covers the
    period read either way (the period cannot tell, see below); its name (``_1998-2004``) says ends."""
    years_in = np.arange(1998, 2005)
    path = _write(tmp_path / "rh_1998-2004.nc", _jan1(range(1999, 2006)), years_in.astype(float))
    years, values, attrs = _years(path, (2000, 2004))
    assert years.tolist() == years_in.tolist() and values.tolist() == years_in.tolist()
    assert "END of each year" in attrs["time_stamps"] and "file name says 1998-2004" in attrs["time_stamps"]


def test_yearly_start_stamps_past_the_plugin_period_counted_from_their_first_year_keep_their_years(tmp_path):
    """Session 7, item 1: 1999-2005 stamped at 1 January of each year (days since 1999-01-01, the first
    stamp 0), plugin period 2000-2004. Before: read as year ends (1998-2004), every value a year late."""
    years_in = np.arange(1999, 2006)
    path = _write(tmp_path / "rh.nc", _jan1(years_in), years_in * 1.0, units="days since 1999-01-01")
    years, values, attrs = _years(path, (2000, 2004))
    assert years.tolist() == years_in.tolist() and values.tolist() == years_in.tolist()
    assert "start of each year" in attrs["time_stamps"] and "reference date" in attrs["time_stamps"]


@pytest.mark.parametrize("stamp", ["start", "end"])
def test_yearly_1_january_stamps_past_the_plugin_period_without_other_evidence_fail(tmp_path, stamp):
    """Session 7, item 1: stamps 1999-01-01 .. 2005-01-01 under a plugin period of 2000-2004, counted from
    1850: the years 1999-2005 stamped at their starts, or 1998-2004 at their ends. Both readings cover
    the period; nothing else tells. Before: read as ends whatever the file meant (the start-stamped one a
    year late, exit 0); now a typed error naming the file, what was found and what would decide."""
    years_in = np.arange(1999, 2006) if stamp == "start" else np.arange(1998, 2005)
    path = _write(tmp_path / "rh.nc", _jan1(range(1999, 2006)), years_in * 1.0)
    with pytest.raises(TimeAxisError) as info:
        _years(path, (2000, 2004))
    text = str(info.value)
    assert "cannot tell whether each stamp starts its year" in text and "rh.nc" in text and "variable: rh" in text
    assert "1999-2005 as year starts, 1998-2004 as year ends" in text and "plugin period (2000, 2004)" in text
    assert "time_bnds" in text and "file name" in text


def test_yearly_start_stamps_over_a_longer_history_are_read_by_the_period_they_cover(tmp_path):
    """1995-2004 stamped at 1 January of each year (days since 1850), period 2000-2004: as year ends
    (1994-2003) the file would lack 2004, so only the start reading covers the period."""
    years_in = np.arange(1995, 2005)
    years, values, attrs = _years(_write(tmp_path / "rh.nc", _jan1(years_in), years_in * 1.0), (2000, 2004))
    assert years.tolist() == years_in.tolist() and values.tolist() == years_in.tolist()
    assert "start of each year" in attrs["time_stamps"] and "only this reading covers" in attrs["time_stamps"]


def test_yearly_stamps_whose_evidence_disagrees_fail(tmp_path):
    """Stamps 2001-2005 counted from 2001-01-01 (a start) under a period of 2000-2004 (only as ends
    would the file cover it): the evidence disagrees, so the source fails rather than guessing."""
    path = _write(tmp_path / "rh.nc", _jan1(range(2001, 2006)), YEARS * 1.0, units="days since 2001-01-01")
    with pytest.raises(TimeAxisError, match="the evidence disagrees"):
        _years(path, (2000, 2004))


def test_yearly_start_stamps_without_bounds_keep_their_year_and_say_why(tmp_path):
    path = _write(tmp_path / "rh.nc", _jan1(YEARS), YEARS.astype(float))
    years, values, attrs = _years(path, (2000, 2004))
    assert years.tolist() == YEARS.tolist() and values.tolist() == YEARS.tolist()
    assert "start of each year" in attrs["time_stamps"]


def test_yearly_1_january_stamps_without_any_evidence_fail_naming_the_file(tmp_path):
    """No bounds, no years in the file name, no plugin period: a typed error, not a silent guess."""
    path = _write(tmp_path / "rh.nc", _jan1(range(2001, 2006)), YEARS.astype(float))
    with pytest.raises(TimeAxisError) as info:
        _years(path, None)
    text = str(info.value)
    assert "rh.nc" in text and "variable: rh" in text and "2001-01-01 .. 2005-01-01" in text and "time_bnds" in text


def test_yearly_1_january_stamps_that_match_neither_reading_fail(tmp_path):
    """Stamps 2003-2007 against a period of 2000-2004: neither a start nor an end reading fits."""
    path = _write(tmp_path / "rh.nc", _jan1(range(2003, 2008)), YEARS.astype(float))
    with pytest.raises(TimeAxisError, match="cannot tell whether each stamp starts its year"):
        _years(path, (2000, 2004))


def _monthly_dates(first_year: int, years: int, *, end: bool, day: int = 1) -> list:
    months = [(first_year + i // 12, i % 12 + 1) for i in range(12 * years + (1 if end else 0))]
    dates = [cftime.datetime(y, m, day, calendar="noleap") for y, m in months]
    return dates[1:] if end else dates


def _monthly_values(years: int) -> np.ndarray:
    return np.repeat(np.arange(2000, 2000 + years), 12).astype(float)


@pytest.mark.parametrize("end", [False, True])
def test_monthly_stamps_at_the_1st_without_bounds_give_whole_years(tmp_path, end):
    """1st-of-month stamps of 2000-2001 (start) or 2000-02-01 .. 2002-01-01 (CESM-style ends), noleap,
    no bounds: each year's mean is its own months' (values = the year); before, ends gave 'incomplete years'."""
    path = _write(tmp_path / "rh.nc", _monthly_dates(2000, 2, end=end), _monthly_values(2), calendar="noleap")
    years, values, attrs = _years(path, None)
    assert years.tolist() == [2000, 2001] and values.tolist() == [2000.0, 2001.0]
    assert ("END of each month" in attrs.get("time_stamps", "")) is end


def test_monthly_mid_month_stamps_are_unchanged(tmp_path):
    path = _write(tmp_path / "rh.nc", _monthly_dates(2000, 2, end=False, day=15), _monthly_values(2), calendar="noleap")
    years, values, attrs = _years(path, None)
    assert years.tolist() == [2000, 2001] and values.tolist() == [2000.0, 2001.0] and "time_stamps" not in attrs


def test_boundary_flags_of_decoded_stamps():
    """decode_time says which stamps sit at 00:00 on the 1st of a month, for days, months and years units."""
    days = xr.DataArray([0.0, 31.0, 45.5, 59.0 + 1 / 24], dims="time", attrs={"units": "days since 2000-01-01"})
    assert timeaxis.decode_time(days).boundary.tolist() == [True, True, False, False]
    months = xr.DataArray([0.0, 1.0, 1.5], dims="time", attrs={"units": "months since 2000-01-01"})
    assert timeaxis.decode_time(months).boundary.tolist() == [True, True, False]
    years = xr.DataArray([0.0, 0.5, 1.0], dims="time", attrs={"units": "years since AD 1700-Jan-1st"})
    assert timeaxis.decode_time(years).boundary.tolist() == [True, True, True]  # 0.5 yr = 1 July 00:00


def test_file_years_need_every_file_of_a_series_to_name_them():
    assert stamps.file_years(["rh_Eyr_M_x_r1_gn_2000-2007.nc", "rh_Eyr_M_x_r1_gn_2008-2014.nc"]) == (2000, 2014)
    assert stamps.file_years(["rh_Lmon_M_x_r1_gn_200001-201412.nc.gz"]) == (2000, 2014)
    assert stamps.file_years(["rh_Eyr_M_x_r1_gn_2000-2007.nc", "rh.nc"]) is None


def test_the_stamp_decision_is_in_the_first_and_last_year_rows():
    """The note a read leaves (``time_stamps``) reaches the period means and the source's year rows."""
    from rhbench.metrics.coverage import coverage_rows
    from rhbench.reduce import period_means

    note = "yearly time stamps ...: read as the END of each year"
    rh = xr.DataArray(np.ones((3, 1, 1)), dims=("year", "lat", "lon"), coords={"year": [2000, 2001, 2002]})
    means = period_means(xr.Dataset({"rh": rh.assign_attrs(time_stamps=note)}), (2000, 2002))
    assert means.attrs["time_stamps"] == f"rh: {note}"
    land = xr.DataArray(np.ones((1, 1), bool), dims=("lat", "lon"))
    rows = coverage_rows("M", "dgvm", means, None, land, land.astype(float))
    reasons = {r.metric: r.reason for r in rows}
    assert reasons["first_year"].endswith(f"rh: {note}") and reasons["last_year"].endswith(f"rh: {note}")
