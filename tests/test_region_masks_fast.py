"""Region masks stacked with numpy (issue 18) are identical to the xarray construction they replace."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rhbench.metrics import native, totals
from rhbench.vegclass import class_masks


def _xarray_bands(lat: xr.DataArray, lon: xr.DataArray, width: float) -> dict[str, xr.DataArray]:
    """latitude_band_masks as written before issue 18 (xarray comparisons per band)."""
    edges = np.arange(-90.0, 90.0 + width / 2, width)
    masks = {}
    for south, north in zip(edges[:-1], edges[1:], strict=True):
        upper = lat <= north if north >= 90.0 else lat < north
        masks[totals.band_name(south, north)] = totals._broadcast_lat((lat >= south) & upper, lon)
    return masks


def _xarray_stack(masks: dict[str, xr.DataArray]) -> xr.DataArray:
    """stack_masks as written before issue 18 (xarray.concat)."""
    names = list(masks)
    stacked = xr.concat([masks[name].astype(bool) for name in names], dim="region")
    return stacked.assign_coords(region=names).rename("region_mask")


def _xarray_native(like: xr.DataArray, vegclass: xr.DataArray | None, band_width: float) -> xr.DataArray:
    """native._build_regions as written before issue 18."""
    from rhbench import grid

    lat, lon = like["lat"], like["lon"]
    masks = {"global": xr.ones_like(lat * lon, dtype=bool).transpose("lat", "lon")}
    masks |= totals.latitude_band_masks(lat, lon, width=band_width)
    masks |= totals.climate_zone_masks(lat, lon)
    if vegclass is not None:
        sampled = grid.regrid_nearest(vegclass, xr.Dataset(coords={"lat": lat.values, "lon": lon.values}))
        masks |= class_masks(sampled)
    stacked = _xarray_stack({k: v.assign_coords(lat=lat.values, lon=lon.values) for k, v in masks.items()})
    return stacked.transpose("region", "lat", "lon")


def _grid(step: float, *, attrs: bool) -> xr.DataArray:
    lat = np.arange(-90 + step / 2, 90, step)
    lon = np.arange(-180 + step / 2, 180, step)
    da = xr.DataArray(np.zeros((lat.size, lon.size), np.float32), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    if attrs:
        da["lat"].attrs, da["lon"].attrs = {"units": "degrees_north"}, {"units": "degrees_east"}
    return da


@pytest.mark.parametrize(("step", "width", "attrs"), [(0.5, 10.0, True), (2.0, 10.0, False), (1.0, 30.0, True)])
def test_band_and_zone_masks_and_their_stack_are_identical(step, width, attrs):
    like = _grid(step, attrs=attrs)
    lat, lon = like["lat"], like["lon"]
    bands = totals.latitude_band_masks(lat, lon, width=width)
    expected = _xarray_bands(lat, lon, width)
    assert list(bands) == list(expected)
    for name in bands:
        assert bands[name].identical(expected[name]), name
    masks = bands | totals.climate_zone_masks(lat, lon)
    assert totals.stack_masks(masks).identical(_xarray_stack(masks))
    land = xr.DataArray(np.arange(lat.size * lon.size).reshape(lat.size, lon.size) % 3 > 0, coords=like.coords)
    land.attrs = {"units": "gC m-2 yr-1", "long_name": "a reference's attributes"}  # the stack takes the first's
    with_land = {"global": land} | masks  # the reference's region set starts with its land mask
    assert totals.stack_masks(with_land).identical(_xarray_stack(with_land))


def test_masks_with_other_coordinates_take_the_xarray_path():
    like = _grid(2.0, attrs=False)
    masks = totals.climate_zone_masks(like["lat"], like["lon"])
    masks["tropical"] = masks["tropical"].assign_coords(height=2.0)
    assert totals.stack_masks(masks).identical(_xarray_stack(masks))


@pytest.mark.parametrize("attrs", [True, False])
def test_native_regions_identical_with_and_without_classes(attrs):
    like = _grid(1.0, attrs=attrs)
    coarse = _grid(2.0, attrs=False)
    codes = np.random.default_rng(0).integers(0, 8, coarse.shape).astype(float)
    vegclass = xr.DataArray(codes, coords=coarse.coords, dims=coarse.dims, name="vegclass")
    for veg in (None, vegclass):
        native._REGIONS_CACHE.clear()
        built = native.native_regions(like, vegclass=veg, band_width=10.0)
        assert built.identical(_xarray_native(like, veg, 10.0))
        assert built.dtype == bool and built.sizes["region"] > 20
