"""The loader's single-pass kernel: fill masking, unit scaling and day-weighted annual means."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from rhbench import loader, timeaxis
from rhbench.kernels import clean_values, fill_mask, year_means_values


def test_fill_mask_finds_1e20_minus_99999_and_file_fill_values():
    values = np.array([1.0, 1e20, -99999.0, -9999.0, -5.0, 7.0, -1e20], dtype=np.float32)
    mask = fill_mask(values, fills=(7.0,))
    assert mask.tolist() == [False, True, True, True, False, True, True]


def test_clean_values_masks_then_scales_and_leaves_input_unchanged():
    values = np.array([2.0, 1e20, -99999.0])
    out = clean_values(values, factor=10.0)
    np.testing.assert_array_equal(out, [20.0, np.nan, np.nan])
    assert values[1] == 1e20


def test_clean_values_casts_integers_to_float():
    out = clean_values(np.array([1, -99999], dtype=np.int32))
    assert np.issubdtype(out.dtype, np.floating) and np.isnan(out[1]) and out[0] == 1.0


def _shares(years: np.ndarray, calendar: str) -> np.ndarray:
    year = np.repeat(years, 12)
    month = np.tile(np.arange(1, 13), years.size)
    days = timeaxis.days_in_month(year, month, calendar)
    per_year = np.repeat(days.reshape(-1, 12).sum(axis=1), 12)
    return days / per_year


def test_year_means_equal_a_plain_numpy_weighted_mean():
    rng = np.random.default_rng(0)
    years = np.array([2000, 2001])
    monthly = rng.random((24, 3, 4))
    share = _shares(years, "standard")
    expected = (monthly * share[:, None, None]).reshape(2, 12, 3, 4).sum(axis=1)
    out = year_means_values(monthly, share=share, factor=2.0)
    np.testing.assert_allclose(out, 2.0 * expected, rtol=1e-12)


def test_a_missing_month_makes_the_year_missing_and_fill_values_are_masked():
    monthly = np.ones((12, 2))
    monthly[5, 0] = 1e20
    out = year_means_values(monthly, share=_shares(np.array([2001]), "noleap"), clean=True)
    assert np.isnan(out[0, 0]) and out[0, 1] == pytest.approx(1.0)


def test_dask_blocks_give_the_same_annual_means_as_one_array():
    rng = np.random.default_rng(1)
    years = np.arange(1901, 1905)
    monthly = rng.random((48, 5, 6)).astype(np.float32)
    share = _shares(years, "360_day")
    whole = year_means_values(monthly, share=share)
    lazy = da.from_array(monthly, chunks=(24, 5, 6))
    blocked = lazy.map_blocks(year_means_values, share=share, chunks=((2, 2), (5,), (6,)), dtype=np.float32)
    np.testing.assert_array_equal(blocked.compute(), whole)


def _yearly_part(first: int, units: str, calendar: str) -> xr.Dataset:
    """rh of two mid-year steps from ``first``, time in ``units`` and ``calendar``."""
    import cftime

    dates = [cftime.datetime(first + i, 7, 1, calendar=calendar) for i in range(2)]
    if units.startswith("months since"):  # cftime counts months in 360_day only: whole months by hand
        values = [(d.year - int(units.split()[2][:4])) * 12 + d.month - 1 for d in dates]
    else:
        values = cftime.date2num(dates, units, calendar)
    time = xr.DataArray(values, dims="time", attrs={"units": units, "calendar": calendar})
    rh = xr.DataArray(np.ones((2, 1, 1)), dims=("time", "lat", "lon"))
    return xr.Dataset({"rh": rh}, coords={"time": time, "lat": [0.0], "lon": [0.0]})


@pytest.mark.parametrize(
    ("second", "what", "one", "found"),
    [
        (("months since 1850-01-01", "noleap"), "units", "unit", "'days since 1850-01-01', 'months since 1850-01-01'"),
        (("days since 1850-01-01", "standard"), "calendars", "calendar", "'noleap', 'standard'"),
    ],
)
def test_files_of_a_series_must_share_their_time_units_and_calendar(tmp_path, second, what, one, found):
    """Session 7, item 4 (the check written out, same behaviour): a series whose second file has other
    unit of time or another calendar is refused naming every file, both values and the one expected
    (units differing in their origin only are converted since S8-5: tests/test_series_time_units.py;
    days beside hours since the thirteenth audit: tests/test_audit13_known_open.py)."""
    from rhbench.errors import TimeAxisError

    paths = [tmp_path / "rh_2000.nc", tmp_path / "rh_2002.nc"]
    parts = [_yearly_part(2000, "days since 1850-01-01", "noleap"), _yearly_part(2002, *second)]
    with pytest.raises(TimeAxisError) as info:
        loader.concat_files(parts, paths, "rh")
    text = str(info.value)
    assert f"files of a series have different time {what}" in text
    assert f"expected: one time {one} for every file" in text
    assert found in text and "rh_2000.nc, " in text and "rh_2002.nc" in text


def test_files_of_a_series_in_calendars_counting_the_same_days_are_joined(tmp_path):
    """``365_day`` and ``noleap`` are one calendar: the series is joined, four steps in order."""
    units = "days since 1850-01-01"
    parts = [_yearly_part(2000, units, "noleap"), _yearly_part(2002, units, "365_day")]
    joined = loader.concat_files(parts, [tmp_path / "a.nc", tmp_path / "b.nc"], "rh")
    assert joined.sizes["time"] == 4 and np.all(np.diff(joined["time"].values) > 0)
