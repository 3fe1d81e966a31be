"""Twelfth audit (session 10): A12-2/A12-3 on the REAL CMIP6 sample (ACCESS-ESM1-5 gpp, CMOR, 10 degrees,
2000-2014; ../shared/data/cmip6-sample), its gpp read as a model's rh as the eleventh audit does
(docs/trust-cases.md, "Twelfth audit (session 10)")."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from tests.test_audit11_real_cmip6 import _real_gpp_as_rh, _total


def _without_bounds(path) -> xr.Dataset:
    """The file's dataset without its lat/lon bounds (so both versions take spherical cell areas)."""
    with xr.open_dataset(path, decode_times=False) as ds:
        ds = ds.load()
    ds = ds.drop_vars(["lat_bnds", "lon_bnds"])
    for name in ("lat", "lon"):
        ds[name].attrs.pop("bounds", None)
    return ds


@pytest.mark.shared_data
def test_the_real_sample_as_2d_coordinates_and_a_tstep_time_gives_the_same_total(tmp_path):
    """The sample rewritten as a tool writing every grid as 2-D does (`lat(y, x)`, `lon(y, x)`, as
    `cdo setgrid,curvilinear`) with its time dimension named `tstep`. Before: refused ('curvilinear grid
    not supported', then 'unexpected extra dimension'); now the original's total to float rounding."""
    original = _real_gpp_as_rh(tmp_path / "source")
    plain = _without_bounds(original)
    (tmp_path / "regular").mkdir()
    plain.to_netcdf(tmp_path / "regular" / original.name)
    lat2, lon2 = np.meshgrid(plain["lat"].values, plain["lon"].values, indexing="ij")
    curvi = plain.drop_vars(["lat", "lon"]).rename({"lat": "y", "lon": "x", "time": "tstep"})
    curvi = curvi.rename_vars({"time_bnds": "tstep_bnds"})
    curvi["tstep"].attrs["bounds"] = "tstep_bnds"
    curvi = curvi.assign_coords(
        lat=(("y", "x"), lat2, {"units": "degrees_north", "standard_name": "latitude"}),
        lon=(("y", "x"), lon2, {"units": "degrees_east", "standard_name": "longitude"}),
    )
    (tmp_path / "curvi").mkdir()
    curvi.to_netcdf(tmp_path / "curvi" / original.name)
    expected = _total(tmp_path / "regular")
    assert expected > 50.0  # the sample's gpp: ~112 Pg C yr-1 read as rh
    assert _total(tmp_path / "curvi") == pytest.approx(expected, rel=1e-9)
