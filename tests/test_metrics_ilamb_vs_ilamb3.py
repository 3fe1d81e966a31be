"""Cross-check: rhbench's ILAMB scores equal ilamb3's own analyses on the same SYNTHETIC files.

ilamb3 runs in its own environment (it pins other versions of xarray and friends), found as
in ``benchmarks/ilamb3_bench.py``: ``RHBENCH_ILAMB3_PYTHON``, else ``/tmp/ilamb3-venv/bin/python``
(set up with ``python3 -m venv /tmp/ilamb3-venv && /tmp/ilamb3-venv/bin/pip install ilamb3``).
Without it the test is skipped with that instruction (CI does not install ilamb3).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from rhbench.grid import cell_area
from rhbench.metrics import ilamb

ILAMB3_PYTHON = Path(os.environ.get("RHBENCH_ILAMB3_PYTHON", "/tmp/ilamb3-venv/bin/python"))

ILAMB3_SIDE = """
import json, sys, xarray as xr
from ilamb3.analysis.bias import bias_analysis
from ilamb3.analysis.rmse import rmse_analysis
from ilamb3.analysis.spatial_distribution import spatial_distribution_analysis
root = sys.argv[1]
def score(analysis, var, ref, com, name):
    df, _, _ = analysis(var)(xr.open_dataset(f"{root}/{ref}.nc"), xr.open_dataset(f"{root}/{com}.nc"))
    return float(df[df["name"] == name]["value"].iloc[0])
print(json.dumps({
    "bias": score(bias_analysis, "cSoil", "ref", "com", "Bias Score"),
    "spatial": score(spatial_distribution_analysis, "cSoil", "ref", "com", "Spatial Distribution Score"),
    "rmse": score(rmse_analysis, "rh", "rref", "rcom", "RMSE Score"),
    "bias_series": score(bias_analysis, "rh", "rref", "rcom", "Bias Score"),
}))
"""


def _coords(lat, lon) -> dict:
    return {
        "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude", "axis": "Y"}),
        "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude", "axis": "X"}),
    }


def _write_files(root: Path) -> None:
    """SYNTHETIC static cSoil maps with gaps, and 36-year annual rh series."""
    rng = np.random.default_rng(3)
    lat, lon = np.arange(-59.5, 80, 1.0), np.arange(-179.5, 180, 1.0)
    base = 10 + 5 * np.cos(np.deg2rad(lat))[:, None] + rng.gamma(2, 2, (lat.size, lon.size))
    ref = np.where(rng.random(base.shape) < 0.3, np.nan, base)
    com = np.where(rng.random(base.shape) < 0.05, np.nan, base * rng.lognormal(0.1, 0.4, base.shape) + 3)
    for name, values in (("ref", ref), ("com", com)):
        data = {"cSoil": (("lat", "lon"), values, {"units": "kg m-2"})}
        xr.Dataset(data, coords=_coords(lat, lon)).to_netcdf(root / f"{name}.nc")
    time = xr.date_range("1982-07-01", periods=36, freq="YS-JUL", use_cftime=True)
    series = 5 + np.sin(np.arange(36) / 3)[:, None, None] + rng.normal(0, 0.3, (36, 20, 30))
    for name, values in (("rref", series), ("rcom", 1.2 * series + rng.normal(0, 0.5, series.shape))):
        data = {"rh": (("time", "lat", "lon"), values, {"units": "kg m-2 s-1"})}
        coords = {"time": time, **_coords(np.arange(-9.5, 10), np.arange(0.5, 30))}
        xr.Dataset(data, coords=coords).to_netcdf(root / f"{name}.nc")


@pytest.mark.slow
def test_scores_equal_ilamb3s_own_analyses(tmp_path: Path) -> None:
    if not ILAMB3_PYTHON.is_file():
        pytest.skip(f"ilamb3 not installed at {ILAMB3_PYTHON}: python3 -m venv /tmp/ilamb3-venv && pip install ilamb3")
    _write_files(tmp_path)
    done = subprocess.run(
        [str(ILAMB3_PYTHON), "-c", ILAMB3_SIDE, str(tmp_path)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    ref, com = xr.open_dataset(tmp_path / "ref.nc")["cSoil"], xr.open_dataset(tmp_path / "com.nc")["cSoil"]
    area = cell_area(ref["lat"], ref["lon"])
    assert ilamb.bias_score(ref, com, area) == pytest.approx(theirs["bias"], rel=1e-12)
    assert ilamb.spatial_distribution(ref, com)["score"] == pytest.approx(theirs["spatial"], rel=1e-12)
    decode = xr.coders.CFDatetimeCoder(use_cftime=True)
    rref = xr.open_dataset(tmp_path / "rref.nc", decode_times=decode)["rh"]
    rcom = xr.open_dataset(tmp_path / "rcom.nc", decode_times=decode)["rh"]
    series_area = cell_area(rref["lat"], rref["lon"])
    assert ilamb.rmse_score(rref, rcom, series_area, time_dim="time") == pytest.approx(theirs["rmse"], rel=1e-12)
    # ilamb3 weights years by their length in days, rhbench equally: agreement to 1e-5
    bias_series = ilamb.bias_score(rref, rcom, series_area, time_dim="time")
    assert bias_series == pytest.approx(theirs["bias_series"], rel=1e-5)
