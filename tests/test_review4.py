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
