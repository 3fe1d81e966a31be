"""The loader's single-pass kernel: fill masking, unit scaling and day-weighted annual means."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from rhbench import timeaxis
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
