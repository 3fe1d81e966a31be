"""rhbench.reduce: a model's period means and per-class yearly totals, by hand."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rhbench import reduce

LAT, LON = [-10.0, 10.0], [0.0, 20.0]


def _grid(values, name="") -> xr.DataArray:
    return xr.DataArray(
        np.asarray(values, dtype=float), dims=("lat", "lon"), coords={"lat": LAT, "lon": LON}, name=name
    )


def _annual(years, **fields) -> xr.Dataset:
    coords = {"year": years, "lat": LAT, "lon": LON}
    return xr.Dataset(
        {k: (("year", "lat", "lon"), np.asarray(v, dtype=float)) for k, v in fields.items()}, coords=coords
    )


AREA = _grid([[1.0, 2.0], [3.0, 4.0]])
FOREST = _grid([[1, 1], [0, 0]]).astype(bool)  # the southern row
GRASS = _grid([[0, 0], [1, 0]]).astype(bool)  # one northern cell; (north, east) is in no class


def test_partition_numbers_cells_by_class_and_puts_the_rest_last():
    parts = reduce.partition({"forest": FOREST, "grass": GRASS}, AREA)
    assert parts.index.tolist() == [[0, 0], [1, 2]]
    assert parts.names == ("forest", "grass", reduce.REST)
    assert parts.area.values.ravel().tolist() == [1.0, 1.0, 1.0]
    assert parts.masks["grass"].values.ravel().tolist() == [False, True, False]


def test_partition_refuses_overlapping_regions():
    with pytest.raises(ValueError, match="overlaps"):
        reduce.partition({"forest": FOREST, "all": FOREST | GRASS}, AREA)


def test_partition_totals_sum_value_times_area_over_valid_cells_of_each_class():
    ones = np.ones((2, 2, 2))
    rh = np.array([[[10, 20], [30, 40]], [[11, 21], [31, np.nan]]])  # (north, east) missing in year 2
    annual = _annual([2000, 2001], rh=rh, npp=ones, cVeg=ones, cSoil=ones)
    parts = reduce.partition({"forest": FOREST, "grass": GRASS}, AREA)
    totals = reduce.partition_totals(annual, AREA, parts)
    # forest: 10*1 + 20*2 = 50, then 11 + 42 = 53; grass: 30*3 = 90, 93; rest: invalid -> 0
    assert totals["rh"].values[:, :, 0].tolist() == [[50.0, 90.0, 0.0], [53.0, 93.0, 0.0]]
    # the invalid cell is dropped from every variable, not only from rh
    assert totals["npp"].values[0, :, 0].tolist() == [3.0, 3.0, 0.0]


def test_period_means_average_the_period_and_derive_litterfall():
    years = [2000, 2001, 2002]
    npp = np.full((3, 2, 2), 500.0)
    cveg = np.array([1.0, 1.1, 1.3])[:, None, None] * np.ones((3, 2, 2))  # kg C m-2
    rh = np.array([1.0, 2.0, 6.0])[:, None, None] * np.ones((3, 2, 2))
    annual = _annual(years, rh=rh, npp=npp, cVeg=cveg, cSoil=cveg)
    means = reduce.period_means(annual, (2001, 2002))
    assert float(means["rh"][0, 0]) == pytest.approx(4.0)
    # dcVeg/dt, centred inside and one-sided at the end: 2001 (1.3-1.0)/2, 2002 0.2 kg C m-2 yr-1
    expected = 500.0 - 1000.0 * (0.15 + 0.2) / 2
    assert float(means["fVegLitter"][1, 1]) == pytest.approx(expected)


def test_period_means_keep_an_empty_year_axis_when_no_year_is_in_the_period():
    annual = _annual([2000, 2001], rh=np.ones((2, 2, 2)))
    means = reduce.period_means(annual, (1982, 1990))
    assert means.sizes["year"] == 0


def test_reduce_model_stores_float32_and_returns_both_products():
    annual = _annual(
        [2000, 2001],
        rh=np.full((2, 2, 2), 3.0),
        npp=np.ones((2, 2, 2)),
        cVeg=np.ones((2, 2, 2)),
        cSoil=np.ones((2, 2, 2)),
    )
    parts = reduce.partition({}, AREA)
    products = reduce.reduce_model(annual.chunk(year=1), AREA, parts, (2000, 2001))
    assert float(products.period["rh"][0, 0]) == 3.0
    assert products.totals["rh"].values[:, 0, 0].tolist() == [30.0, 30.0]  # 3 x 10 m2
