"""Thirteenth audit (session 11), part B: model files as centres write them (docs/trust-cases.md,
"Thirteenth audit (session 11)"). Totals against hand calculations on test_audit11_trendy's grid."""

from __future__ import annotations

import cftime
import pytest
import xarray as xr

from rhbench import loader, timeaxis
from rhbench.sources import Source, Var
from tests.test_audit11_trendy import _hand, _rates, _total, _yearly_file, _yearly_means
from tests.test_audit13_known_open import _file

NOON = "days since 1850-01-01 12:00:00"


@pytest.mark.parametrize("units", [NOON, "hours since 1850-01-01 06:00", "days since 1850-1-1T12:00:00Z"])
def test_yearly_stamps_at_new_year_counted_from_a_reference_at_noon_keep_their_years(tmp_path, units):
    """Yearly means stamped at 1 January 00:00 of their year, in units whose reference date has a time
    of day. Before: the time of day was dropped, so each stamp read as 31 December 12:00 (or 18:00) of
    the year before: **every year labelled a year early, silently** (2000-2003 read as 1999-2002: the
    period 2000-2003 averaged over the wrong years: 212.67 instead of 212.34 Pg C yr-1 here).
    Now the stamps are 1 January 00:00 again (the stamp rules decide, here by the period): the hand total."""
    rates = _rates()
    starts = [cftime.datetime(y, 1, 1, calendar="noleap") for y in range(2000, 2004)]
    plain = units.replace("Z", "")
    path = _yearly_file(
        tmp_path / "rh.nc",
        _yearly_means(rates),
        cftime.date2num(starts, plain, "noleap"),
        {"units": units, "calendar": "noleap"},
    )
    assert _total({"rh": [path]}) == pytest.approx(_hand(rates, "noleap"), rel=1e-6)
    source = Source("T", "dgvm", "x.T", {"rh": Var("rh", "kg m-2 s-1")}, "-", period=(2000, 2003))
    assert loader.open_variable(source, "rh", [path], annual=True)["year"].values.tolist() == [2000, 2001, 2002, 2003]


def test_monthly_stamps_at_month_starts_counted_from_noon_are_read_as_their_months(tmp_path):
    """Before: "incomplete years" (the first month read as December of the year before); now the hand total."""
    rates = _rates()
    path = _file(tmp_path / "rh.nc", rates, (2000, 2001, 2002, 2003), NOON, "noleap", bounds=False)
    with xr.open_dataset(path, decode_times=False) as ds:  # mid-month stamps: move them to each month's start
        starts = [cftime.datetime(y, m, 1, calendar="noleap") for y in range(2000, 2004) for m in range(1, 13)]
        moved = ds.load().assign_coords(time=("time", cftime.date2num(starts, NOON, "noleap"), ds["time"].attrs))
    moved.to_netcdf(tmp_path / "starts.nc", encoding={n: {"_FillValue": None} for n in moved.variables})
    assert _total({"rh": [tmp_path / "starts.nc"]}) == pytest.approx(_hand(rates, "noleap"), rel=1e-6)


def test_the_reference_time_of_day_is_a_fraction_of_a_day():
    assert timeaxis._time_of_day("days since 1850-01-01 12:00:00") == 0.5
    assert timeaxis._time_of_day("hours since 1850-01-01 06:30") == pytest.approx(6.5 / 24)
    assert timeaxis._time_of_day("days since 1850-01-01") == timeaxis._time_of_day("years since AD 1700-Jan-1st") == 0.0
