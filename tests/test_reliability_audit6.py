"""Sixth audit (science rows and interop): each test failed before its fix (docs/trust-cases.md, A6 rows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr


def test_the_reference_sd_attribute_is_read_without_decoding_the_time_axis(tmp_path: Path) -> None:
    """A6-1: a reference file whose time units cftime cannot decode (VISIT's convention, the
    demo's Tang2020) crashed a run with `reference = "Tang2020"` (traceback, exit 1) where the
    run only reads the file's global attributes for the SD of its members' totals."""
    from rhbench.upscaling.rhmap import ensemble_total_sd

    path = tmp_path / "rh.nc"
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), np.ones((2, 2, 2)))},
        coords={"time": ("time", [282.5, 283.5], {"units": "years since AD 1700-Jan-1st"})},
        attrs={"global_total_sd_PgC_per_yr": 0.9},
    )
    ds.to_netcdf(path, engine="netcdf4")
    assert ensemble_total_sd(path) == pytest.approx(0.9)
    ds.attrs.clear()
    ds.to_netcdf(tmp_path / "plain.nc", engine="netcdf4")
    assert ensemble_total_sd(tmp_path / "plain.nc") is None
    (tmp_path / "map.tif").write_bytes(b"II*\x00not a netCDF file")
    assert ensemble_total_sd(tmp_path / "map.tif") is None
