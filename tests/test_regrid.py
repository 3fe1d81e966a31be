"""Conservative remapping: any finer grid onto a coarser one, totals kept (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rhbench import grid
from rhbench.products import to_common_grid
from rhbench.regrid import conservative_mean, lat_overlaps, lon_overlaps


def _global(resolution: float, seed: int = 0) -> xr.DataArray:
    """A global field on a regular grid of ``resolution`` degrees (cells from -90 and -180)."""
    lat = np.arange(-90.0 + resolution / 2, 90.0, resolution)
    lon = np.arange(-180.0 + resolution / 2, 180.0, resolution)
    rng = np.random.default_rng(seed)
    values = 100.0 + 50.0 * np.cos(np.deg2rad(lat))[:, None] + rng.uniform(0, 10, (lat.size, lon.size))
    return xr.DataArray(values, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, name="rh")


def _integral(field: xr.DataArray) -> float:
    return float((field * grid.cell_area(field.lat, field.lon)).sum())


def test_overlap_matrices_partition_the_sphere() -> None:
    src, dst = grid.cell_edges(np.arange(-89.8, 90, 0.4), "lat"), grid.cell_edges(np.arange(-89.5, 90, 1.0), "lat")
    assert lat_overlaps(src, dst).sum() == pytest.approx(2.0)  # sin(90) - sin(-90)
    lon_src, lon_dst = (
        grid.cell_edges(np.arange(-179.8, 180, 0.4), "lon"),
        grid.cell_edges(np.arange(-179.5, 180, 1.0), "lon"),
    )
    assert lon_overlaps(lon_src, lon_dst).sum() == pytest.approx(2 * np.pi)


@pytest.mark.parametrize("resolution", [0.4, 0.3, 0.75, 0.5])
def test_finer_grids_whose_spacing_does_not_divide_one_degree_keep_the_global_integral(resolution: float) -> None:
    fine = _global(resolution)
    coarse = to_common_grid(fine, grid.common_grid(1.0))
    assert coarse.notnull().all()
    assert _integral(coarse) == pytest.approx(_integral(fine), rel=1e-9)


def test_a_constant_field_stays_constant_across_the_seam_and_poles() -> None:
    fine = _global(0.75) * 0 + 3.0
    fine = fine.assign_coords(lon=fine.lon.values + 0.1)  # shifted columns straddle the seam
    out = conservative_mean(fine, grid.common_grid(2.0))
    np.testing.assert_allclose(out.values, 3.0, rtol=1e-12)


def test_missing_source_cells_are_ignored_and_weights_apply() -> None:
    lat, lon = np.array([0.25, 0.75]), np.array([0.25, 0.75])
    field = xr.DataArray([[1.0, np.nan], [3.0, 5.0]], dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    target = xr.Dataset(coords={"lat": [0.5, 1.5], "lon": [0.5, 1.5]})  # edges 0, 1, 2
    area = grid.cell_area(lat, lon).values
    plain = float(conservative_mean(field, target)[0, 0])
    valid = ~np.isnan(field.values)
    expected = np.nansum(field.values * area) / area[valid].sum()
    assert plain == pytest.approx(expected, rel=1e-6)  # target edges 0..1 match the cells' edges
    land = xr.DataArray([[1.0, 1.0], [0.0, 0.5]], dims=("lat", "lon"))
    weighted = float(conservative_mean(field, target, weights=land)[0, 0])
    w = area * land.values
    assert weighted == pytest.approx((1.0 * w[0, 0] + 5.0 * w[1, 1]) / (w[0, 0] + w[1, 1]), rel=1e-6)
