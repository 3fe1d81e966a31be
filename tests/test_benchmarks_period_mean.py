"""benchmarks.period_mean: the previous period-mean formulation it times gives the kernel's bits,
and it runs on a file."""

import sys

import numpy as np
import xarray as xr

from benchmarks import period_mean
from rhbench import kernels


def test_the_previous_formulation_gives_the_kernels_bits():
    rng = np.random.default_rng(2)
    values = rng.random((5, 8, 9), dtype=np.float32)
    values[:, 0] = np.nan
    values[1, 3, 3] = values[rng.random(values.shape) < 0.2] = np.nan
    new = kernels.nanmean_years(xr.DataArray(values, dims=("year", "lat", "lon"))).values
    assert np.array_equal(period_mean.zero_filled(values).view(np.int64), new.view(np.int64))


def test_it_times_a_files_variable(tmp_path, monkeypatch, capsys):
    path = tmp_path / "f.nc"
    values = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)
    values[0, 0, 0] = np.nan
    xr.Dataset({"rh": (("time", "lat", "lon"), values)}).to_netcdf(path)
    monkeypatch.setattr(sys, "argv", ["period_mean", str(path), "rh", "--repeats", "1"])
    period_mean.main()
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: previous ") and out.rstrip().endswith("same bits: True")
