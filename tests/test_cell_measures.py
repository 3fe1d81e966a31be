"""Cell measures a plugin declares (issue 14): TRENDY ``landArea``; sphere areas from CMOR bounds."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from rhbench import grid, harmonize
from rhbench.metrics.totals import global_total
from rhbench.sources import trendy_dgvm

SECONDS_PER_YEAR = 365.25 * 86400.0  # the Julian year of rhbench.units


def test_trendy_land_area_is_a_cell_measure(tmp_path):
    lat = np.arange(-75.0, 90.0, 30.0)
    lon = np.arange(-165.0, 180.0, 30.0)
    rng = np.random.default_rng(3)
    rh = rng.uniform(1e-9, 3e-8, (lat.size, lon.size))
    land_area = rng.uniform(0.0, 1.0, (lat.size, lon.size)) * 1e12  # m2, below every 30 degree cell's area
    land_area[0, 0] = np.nan  # an ocean cell
    coords = {"lat": ("lat", lat, {"units": "degrees_north"}), "lon": ("lon", lon, {"units": "degrees_east"})}
    xr.Dataset({"rh": (("lat", "lon"), rh, {"units": "kg m-2 s-1"})}, coords=coords).to_netcdf(tmp_path / "rh.nc")
    xr.Dataset({"landArea": (("lat", "lon"), land_area, {"units": "m2"})}, coords=coords).to_netcdf(
        tmp_path / "area.nc"
    )
    source = trendy_dgvm("Model", "test", variables=("rh", "landArea"))
    source = replace(source, files={"rh": (str(tmp_path / "rh.nc"),), "landArea": (str(tmp_path / "area.nc"),)})
    annual, cells = harmonize.load_native(source, None)
    assert "landArea" not in annual  # a cell measure, not a benchmark variable
    assert "landArea" in cells.origin
    # hand calculation: sum of rh (g C m-2 yr-1) x landArea (m2), ocean cell excluded
    expected = np.nansum(rh * 1000.0 * SECONDS_PER_YEAR * land_area) / 1e15
    weights = cells.resolved(annual).weights
    np.testing.assert_allclose(weights.values, np.nan_to_num(land_area), rtol=1e-12)
    field = annual["rh"] if "year" not in annual["rh"].dims else annual["rh"].mean("year")
    assert float(global_total(field, weights)) == pytest.approx(expected, rel=1e-6)


def test_sphere_areas_come_from_the_files_bounds_on_a_gaussian_grid(tmp_path):
    """A T31-like Gaussian grid (48 latitudes) with CMOR lat_bnds/lon_bnds, 0..360 longitudes."""
    nodes, weights = np.polynomial.legendre.leggauss(48)
    lat = np.degrees(np.arcsin(nodes))  # ascending Gaussian latitudes
    edges = np.degrees(np.arcsin(np.clip(np.concatenate([[-1.0], -1.0 + np.cumsum(weights)]), -1.0, 1.0)))
    lat_bnds = np.stack([edges[:-1], edges[1:]], axis=1)
    lon = np.arange(0.0, 360.0, 3.75)
    lon_bnds = np.stack([lon - 1.875, lon + 1.875], axis=1)
    rh = np.full((lat.size, lon.size), 1e-8)
    ds = xr.Dataset(
        {
            "rh": (("lat", "lon"), rh, {"units": "kg m-2 s-1"}),
            "lat_bnds": (("lat", "bnds"), lat_bnds),
            "lon_bnds": (("lon", "bnds"), lon_bnds),
        },
        coords={
            "lat": ("lat", lat, {"units": "degrees_north", "bounds": "lat_bnds"}),
            "lon": ("lon", lon, {"units": "degrees_east", "bounds": "lon_bnds"}),
        },
    )
    ds.to_netcdf(tmp_path / "rh.nc")
    source = replace(trendy_dgvm("Gauss", "test", variables=("rh",)), files={"rh": (str(tmp_path / "rh.nc"),)})
    annual, cells = harmonize.load_native(source, None)
    assert "bounds" in cells.origin
    r = grid.EARTH_RADIUS_M
    assert float(cells.area.sum()) == pytest.approx(4 * np.pi * r**2, rel=1e-10)
    # one cell by hand: the northernmost row at longitude 90 E (the loader keeps lon 90)
    north = lat_bnds[-1]
    by_hand = r**2 * np.radians(3.75) * (np.sin(np.radians(north[1])) - np.sin(np.radians(north[0])))
    assert float(cells.area.sel(lat=lat[-1], lon=90.0)) == pytest.approx(by_hand, rel=1e-12)
    # the midpoint rule would be wrong here: the Gaussian edges are not half way between centres
    midpoint = grid.cell_area(annual["lat"], annual["lon"])
    assert float(midpoint.sel(lat=lat[-1], lon=90.0)) != pytest.approx(by_hand, rel=1e-3)
    plain = ds.drop_vars(["lat_bnds", "lon_bnds"])
    for name in ("lat", "lon"):
        del plain[name].attrs["bounds"]
    plain.to_netcdf(tmp_path / "plain.nc")
    _, cells = harmonize.load_native(replace(source, files={"rh": (str(tmp_path / "plain.nc"),)}), None)
    assert "bounds" not in cells.origin
    np.testing.assert_allclose(cells.area.values, midpoint.values, rtol=1e-12)


def _bounded_file(path, lat_edges, lon_edges):
    lat = 0.5 * (lat_edges[:-1] + lat_edges[1:])
    lon = 0.5 * (lon_edges[:-1] + lon_edges[1:])
    ds = xr.Dataset(
        {
            "rh": (("lat", "lon"), np.ones((lat.size, lon.size))),
            "lat_bnds": (("lat", "bnds"), np.stack([lat_edges[:-1], lat_edges[1:]], axis=1)),
            "lon_bnds": (("lon", "bnds"), np.stack([lon_edges[:-1], lon_edges[1:]], axis=1)),
        },
        coords={"lat": ("lat", lat, {"bounds": "lat_bnds"}), "lon": ("lon", lon, {"bounds": "lon_bnds"})},
    )
    ds.to_netcdf(path, format="NETCDF3_64BIT")
    return ds


@pytest.mark.parametrize("gzipped", [False, True])
def test_file_bounds_are_read_from_plain_and_gzipped_netcdf(tmp_path, gzipped, monkeypatch):
    """Uneven bounds (not the midpoints) come back as written, from a .nc and a TRENDY-style .nc.gz."""
    import gzip
    import shutil

    from rhbench.landfrac import file_bounds

    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    lat_edges = np.array([-90.0, -30.0, 10.0, 90.0])
    lon_edges = np.array([-180.0, -60.0, 0.0, 180.0])
    path = tmp_path / "rh.nc"
    ds = _bounded_file(path, lat_edges, lon_edges)
    if gzipped:
        with open(path, "rb") as src, gzip.open(tmp_path / "rh.nc.gz", "wb") as out:
            shutil.copyfileobj(src, out)
        path = tmp_path / "rh.nc.gz"
    bounds = file_bounds(path, ds["rh"])
    assert bounds is not None
    np.testing.assert_array_equal(bounds[0], ds["lat_bnds"].values)
    np.testing.assert_array_equal(bounds[1], ds["lon_bnds"].values)


def test_a_geotiff_has_no_bounds_file_and_is_not_opened_as_netcdf(tmp_path, caplog):
    from rhbench.landfrac import file_bounds

    path = tmp_path / "socs.tif"
    path.write_bytes(b"II*\x00not really")  # never opened: a raster's cells are regular
    like = xr.DataArray(np.ones((2, 2)), coords={"lat": [-45.0, 45.0], "lon": [-90.0, 90.0]}, dims=("lat", "lon"))
    with caplog.at_level("INFO"):
        assert file_bounds(path, like) is None
    assert "no cell bounds read" not in caplog.text
