"""Cell measures a plugin declares (issue 14): TRENDY ``landArea``; sphere areas from CMOR bounds."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from rhbench import harmonize
from rhbench.metrics.native import global_total
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
    assert global_total(field, weights) == pytest.approx(expected, rel=1e-6)
