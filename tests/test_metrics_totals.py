"""Tests of area-weighted totals, means and regions."""

import numpy as np
import pytest
import xarray as xr

from rhbench.grid import EARTH_RADIUS_M, cell_area, common_grid, regrid_nearest
from rhbench.metrics.totals import (
    GRAMS_PER_KILOGRAM,
    band_name,
    climate_zone_masks,
    global_mean,
    global_total,
    latitude_band_masks,
    regional_means,
    regional_totals,
    stack_masks,
    zonal_profile,
)

SPHERE_M2 = 4 * np.pi * EARTH_RADIUS_M**2


def _field(resolution: float, seed: int = 0) -> xr.DataArray:
    grid = common_grid(resolution)
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1000.0, (grid.sizes["lat"], grid.sizes["lon"]))
    values[rng.uniform(size=values.shape) < 0.3] = np.nan
    return xr.DataArray(values, dims=("lat", "lon"), coords=grid.coords)


def test_global_total_of_unit_flux_is_sphere_area_in_pg():
    grid = common_grid(2.0)
    area = cell_area(grid.lat, grid.lon)
    ones = xr.ones_like(area)
    assert float(global_total(ones, area)) == pytest.approx(SPHERE_M2 / 1e15, rel=1e-12)
    stock = float(global_total(ones, area, grams_per_unit=GRAMS_PER_KILOGRAM))
    assert stock == pytest.approx(SPHERE_M2 * 1e3 / 1e15, rel=1e-12)


def test_global_mean_weights_by_area_and_ignores_missing_cells():
    field = xr.DataArray([[1.0, 4.0, np.nan]], dims=("lat", "lon"))
    area = xr.DataArray([[1.0, 3.0, 100.0]], dims=("lat", "lon"))
    assert float(global_mean(field, area)) == pytest.approx((1 * 1 + 4 * 3) / 4)


def test_band_names_and_every_cell_in_exactly_one_of_18_bands():
    assert band_name(-10, 0) == "10S-EQ"
    assert band_name(0, 10) == "EQ-10N"
    assert band_name(80, 90) == "80N-90N"
    grid = common_grid(0.5)
    masks = latitude_band_masks(grid.lat, grid.lon)
    assert len(masks) == 18
    assert list(masks)[0] == "90S-80S"
    count = sum(m.astype(int) for m in masks.values())
    assert (count == 1).all()
    assert masks["EQ-10N"].dims == ("lat", "lon")


def test_climate_zone_rule_uses_absolute_cell_centre_latitude():
    lat = xr.DataArray([-60.0, -50.0, -23.5, -23.4, 0.0, 23.4, 23.5, 49.9, 50.0], dims="lat")
    lat = lat.assign_coords(lat=lat)
    lon = xr.DataArray([0.0], dims="lon", coords={"lon": [0.0]})
    zones = {k: v.values[:, 0].tolist() for k, v in climate_zone_masks(lat, lon).items()}
    assert zones["tropical"] == [False, False, False, True, True, True, False, False, False]
    assert zones["boreal"] == [True, True, False, False, False, False, False, False, True]
    assert zones["temperate"] == [False, False, True, False, False, False, True, True, False]


def test_regional_totals_of_unit_field_equal_analytic_band_areas():
    grid = common_grid(1.0)
    area = cell_area(grid.lat, grid.lon)
    regions = stack_masks(latitude_band_masks(grid.lat, grid.lon))
    totals = regional_totals(xr.ones_like(area), area, regions)
    band = 2 * np.pi * EARTH_RADIUS_M**2 * (np.sin(np.deg2rad(10)) - 0.0) / 1e15
    assert float(totals.sel(region="EQ-10N")) == pytest.approx(band, rel=1e-12)
    polar = 2 * np.pi * EARTH_RADIUS_M**2 * (1 - np.sin(np.deg2rad(80))) / 1e15
    assert float(totals.sel(region="80N-90N")) == pytest.approx(polar, rel=1e-12)


def test_regional_means_and_zonal_profile_by_hand():
    field = xr.DataArray(
        [[1.0, 3.0], [np.nan, 5.0]],
        dims=("lat", "lon"),
        coords={"lat": [-1.0, 1.0], "lon": [0.0, 1.0]},
    )
    area = xr.DataArray([[1.0, 2.0], [3.0, 4.0]], dims=("lat", "lon"), coords=field.coords)
    regions = stack_masks(
        {
            "south": (field.lat < 0) & xr.ones_like(field, dtype=bool),
            "all": xr.ones_like(field, dtype=bool),
        }
    )
    means = regional_means(field, area, regions)
    assert float(means.sel(region="south")) == pytest.approx((1 + 6) / 3)
    assert float(means.sel(region="all")) == pytest.approx((1 + 6 + 20) / 7)
    assert zonal_profile(field, area).values.tolist() == pytest.approx([7 / 3, 5.0])


def test_totals_invariant_under_regrid_to_the_same_grid():
    field = _field(2.0)
    grid = common_grid(2.0)
    area = cell_area(grid.lat, grid.lon)
    same = regrid_nearest(field, grid)
    assert float(global_total(same, area)) == pytest.approx(float(global_total(field, area)), rel=1e-14)


def test_totals_invariant_under_nearest_neighbour_refinement_2_to_1_degree():
    coarse = _field(2.0, seed=3)
    fine_grid = common_grid(1.0)
    fine = regrid_nearest(coarse, fine_grid)
    coarse_area = cell_area(coarse.lat, coarse.lon)
    fine_area = cell_area(fine_grid.lat, fine_grid.lon)
    expected = float(global_total(coarse, coarse_area))
    assert float(global_total(fine, fine_area)) == pytest.approx(expected, rel=1e-9)
    coarse_bands = regional_totals(coarse, coarse_area, stack_masks(latitude_band_masks(coarse.lat, coarse.lon)))
    fine_bands = regional_totals(fine, fine_area, stack_masks(latitude_band_masks(fine.lat, fine.lon)))
    np.testing.assert_allclose(fine_bands.values, coarse_bands.values, rtol=1e-9)
    assert float(global_mean(fine, fine_area)) == pytest.approx(float(global_mean(coarse, coarse_area)), rel=1e-9)
