"""Grid: sphere areas, coordinate conventions, nearest-neighbour regrid."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rhbench import fileaxes, grid
from rhbench.errors import CoordinateError


@pytest.mark.parametrize("resolution", [0.5, 1.0, 2.0, 4.0])
def test_cell_areas_sum_to_sphere_area(resolution):
    target = grid.common_grid(resolution)
    total = float(grid.cell_area(target.lat, target.lon).sum())
    assert total == pytest.approx(4 * np.pi * grid.EARTH_RADIUS_M**2, rel=1e-9)


def test_equatorial_cell_area_by_hand():
    target = grid.common_grid(1.0)
    area = grid.cell_area(target.lat, target.lon).sel(lat=0.5, lon=0.5)
    expected = grid.EARTH_RADIUS_M**2 * np.deg2rad(1.0) * np.sin(np.deg2rad(1.0))
    assert float(area) == pytest.approx(expected, rel=1e-12)


def _field(lat, lon):
    values = np.add.outer(np.asarray(lat), np.asarray(lon) / 1000.0)
    return xr.Dataset({"v": (("lat", "lon"), values)}, coords={"lat": lat, "lon": lon})


def test_normalize_wraps_0_360_and_sorts_descending_latitudes():
    ds = _field([10.0, 0.0, -10.0], [0.0, 90.0, 180.0, 270.0])
    out = grid.normalize_coordinates(ds)
    assert list(out.lon.values) == [-180.0, -90.0, 0.0, 90.0]
    assert list(out.lat.values) == [-10.0, 0.0, 10.0]
    assert float(out.v.sel(lat=10, lon=-90)) == pytest.approx(10 + 270 / 1000)


def test_duplicated_seam_is_dropped():
    ds = _field([0.0], [0.0, 120.0, 240.0, 360.0])
    out = grid.normalize_coordinates(ds)
    assert out.sizes["lon"] == 3


def test_latitude_longitude_names_are_renamed():
    ds = _field([0.0], [0.0]).rename(lat="latitude", lon="longitude")
    assert set(grid.normalize_coordinates(ds).dims) == {"lat", "lon"}


def test_missing_coordinate_names_file_and_expected():
    ds = xr.Dataset({"v": (("a", "b"), np.zeros((2, 2)))})
    with pytest.raises(CoordinateError, match="no lat coordinate.*file: f.nc"):
        grid.normalize_coordinates(ds, file="f.nc")


def test_regrid_nearest_to_same_grid_is_identity():
    target = grid.common_grid(10.0)
    ds = _field(target.lat.values, target.lon.values)
    out = grid.regrid_nearest(ds, target)
    np.testing.assert_array_equal(out.v.values, ds.v.values)


def test_regrid_nearest_refinement_duplicates_cells():
    coarse = grid.common_grid(2.0)
    fine = grid.common_grid(1.0)
    ds = _field(coarse.lat.values, coarse.lon.values)
    out = grid.regrid_nearest(ds, fine)
    assert float(out.v.sel(lat=0.5, lon=0.5)) == float(ds.v.sel(lat=1.0, lon=1.0))
    assert float(out.v.sel(lat=-0.5, lon=179.5)) == float(ds.v.sel(lat=-1.0, lon=179.0))


def test_conservative_mean_of_aligned_blocks_is_the_area_weighted_block_mean():
    from rhbench.regrid import conservative_mean

    fine = grid.common_grid(1.0)
    coarse = grid.common_grid(2.0)
    ds = _field(fine.lat.values, fine.lon.values)
    out = conservative_mean(ds.v, coarse)
    block = ds.v.sel(lat=[0.5, 1.5], lon=[0.5, 1.5])
    weights = grid.cell_area(block.lat, block.lon)
    assert float(out.sel(lat=1.0, lon=1.0)) == pytest.approx(float((block * weights).sum() / weights.sum()))


def test_resolution_must_divide_180():
    with pytest.raises(CoordinateError):
        grid.common_grid(0.7)


def test_regional_product_is_not_copied_beyond_its_extent():
    regional = _field(np.array([40.5, 41.5]), np.array([10.5, 11.5, 12.5]))
    out = grid.regrid_nearest(regional, grid.common_grid(1.0))
    assert int(out.v.notnull().sum()) == 6
    assert float(out.v.sel(lat=41.5, lon=12.5)) == float(regional.v.sel(lat=41.5, lon=12.5))
    assert np.isnan(float(out.v.sel(lat=-30.5, lon=100.5)))


def test_repeats_compares_longitudes_modulo_360_and_takes_missing_values_as_not_repeated():
    """The one regular-grid test of 2-D coordinates (used by fileaxes and _without_auxiliary_2d)."""
    column = np.array([[180.0], [-180.0], [540.0]])  # one longitude written three ways
    assert fileaxes.repeats(column, np.array([[180.0]]), longitude=True, tolerance=1e-6)
    assert not fileaxes.repeats(column, np.array([[180.0]]), longitude=False, tolerance=1e-6)  # latitudes: no modulo
    rows = np.array([[10.0, 10.0 + 5e-4], [20.0, 20.0]])
    assert fileaxes.repeats(rows, rows[:, :1], longitude=False, tolerance=1e-3)
    assert not fileaxes.repeats(rows, rows[:, :1], longitude=False, tolerance=1e-4)
    assert not fileaxes.repeats(np.array([[np.nan, 10.0]]), np.array([[10.0]]), longitude=False, tolerance=1.0)


def test_a_2d_latitude_mixing_180_and_minus_180_longitudes_beside_1d_ones_is_dropped_as_auxiliary():
    lat, lon = np.array([-45.0, 45.0]), np.array([-180.0, 0.0])
    lon2d = np.array([[180.0, 0.0], [-180.0, 360.0]])  # the same columns, written modulo 360
    ds = xr.Dataset(
        {"v": (("lat", "lon"), np.ones((2, 2))), "nav_lon": (("lat", "lon"), lon2d)},
        coords={"lat": lat, "lon": lon},
    )
    out = fileaxes.rename_coordinates(ds)
    assert "nav_lon" not in out.variables and list(out.lon.values) == [-180.0, 0.0]
