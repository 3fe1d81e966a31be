"""Harmonise: annual means weighted by days in month for each calendar; period selection."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rhbench import timeaxis
from rhbench.harmonize import annual_mean, select_period


def _monthly(values: np.ndarray, year: int, calendar: str) -> xr.DataArray:
    return xr.DataArray(
        values.reshape(12, 1, 1),
        dims=("time", "lat", "lon"),
        name="rh",
        coords={"year": ("time", np.full(12, year)), "month": ("time", np.arange(1, 13)), "lat": [0.0], "lon": [0.0]},
        attrs={"calendar": calendar},
    )


@pytest.mark.parametrize(("calendar", "february"), [("noleap", 28), ("standard", 29), ("360_day", 30)])
def test_annual_mean_weights_days_in_month(calendar, february):
    values = np.arange(1.0, 13.0)
    days = {"360_day": [30] * 12}.get(calendar, [31, february, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    expected = np.sum(values * np.array(days)) / np.sum(days)
    out = annual_mean(_monthly(values, 2000, calendar))
    assert out.sel(year=2000).item() == pytest.approx(expected, rel=1e-12)


def test_days_in_month_gregorian_century_rule():
    assert timeaxis.days_in_month(np.array([1900, 2000]), np.array([2, 2]), "standard").tolist() == [28, 29]
    assert timeaxis.days_in_month(np.array([1900]), np.array([2]), "julian").tolist() == [29]


def test_yearly_steps_pass_through_with_year_dimension():
    data = xr.DataArray(
        np.array([1.0, 2.0]),
        dims="time",
        name="cSoil",
        coords={"year": ("time", [1901, 1902]), "month": ("time", [7, 7])},
    )
    out = annual_mean(data)
    assert out.dims == ("year",) and out.sel(year=1902) == 2.0


def test_incomplete_monthly_years_are_refused():
    data = _monthly(np.ones(12), 2000, "standard").isel(time=slice(0, 11))
    with pytest.raises(Exception, match="incomplete years"):
        annual_mean(data)


def test_select_period_is_inclusive():
    data = xr.DataArray(np.arange(5.0), dims="year", coords={"year": np.arange(1980, 1985)})
    assert select_period(data, (1981, 1983)).year.values.tolist() == [1981, 1982, 1983]
