"""Eleventh audit (session 9): the part-B attacks on the REAL CMIP6 sample (ACCESS-ESM1-5 gpp, CMOR,
10 degrees, 2000-2014, proleptic_gregorian; ../shared/data/cmip6-sample), its gpp read as a model's rh
as the tenth audit does (docs/trust-cases.md, "Eleventh audit (session 9)")."""

from __future__ import annotations

import calendar as pycalendar
import shutil
from pathlib import Path

import netCDF4
import numpy as np
import pytest

from rhbench import cmip6, grid, harmonize, reduce
from tests.conftest import shared_data_path

SAMPLE = "gpp_Lmon_ACCESS-ESM1-5_historical_r1i1p1f1_gn_200001-201412.nc"


def _real_gpp_as_rh(folder: Path, name: str | None = None) -> Path:
    """The shared sample's gpp copied as a model's rh file (no fx files), optionally renamed."""
    folder.mkdir(parents=True, exist_ok=True)
    sample = shared_data_path("cmip6-sample", SAMPLE)
    path = folder / (name or sample.name.replace("gpp_", "rh_"))
    shutil.copyfile(sample, path)
    with netCDF4.Dataset(path, "a") as ds:
        ds.renameVariable("gpp", "rh")
    return path


def _total(folder: Path) -> float:
    (source,) = cmip6.discover(folder)
    annual, cells = harmonize.load_native(source, None)
    products = reduce.reduce_native(annual, cells, grid.common_grid(10.0), (2000, 2014))
    return float(products.regions["rh_total"].sel(region="global"))


@pytest.mark.shared_data
def test_the_real_sample_as_per_month_amounts_gives_the_same_total(tmp_path):
    """B11-9 on the real file: rh rewritten as each month's amount ('kg m-2 month-1', x the seconds of
    its proleptic-Gregorian month). Before: 112.503 instead of 112.304 Pg C yr-1 (+0.18 %), silently; now
    the original's total to float32 rounding."""
    original = _total(_real_gpp_as_rh(tmp_path / "rate").parent)
    path = _real_gpp_as_rh(tmp_path / "amount")
    days = np.array([pycalendar.monthrange(y, m)[1] for y in range(2000, 2015) for m in range(1, 13)], float)
    with netCDF4.Dataset(path, "a") as ds:
        rh = ds["rh"]
        rh.set_auto_maskandscale(False)
        values = rh[:]
        fill = rh.getncattr("_FillValue")
        scaled = np.where(values == fill, fill, values * (days * 86400.0)[:, None, None]).astype(values.dtype)
        rh[:] = scaled
        rh.units = "kg m-2 month-1"
    assert _total(path.parent) == pytest.approx(original, rel=2e-6)


@pytest.mark.shared_data
def test_the_real_sample_with_coordinates_in_radians_is_refused_naming_the_file(tmp_path):
    """B11-13 on the real file: lat/lon rewritten in radians. Before: read as degrees, a band of 3 x 6
    'degrees' around (0, 0): a total of a few thousandths of the file's, no word."""
    from rhbench.errors import CoordinateError

    path = _real_gpp_as_rh(tmp_path)
    with netCDF4.Dataset(path, "a") as ds:
        for name in ("lat", "lon", "lat_bnds", "lon_bnds"):
            ds[name][:] = np.deg2rad(ds[name][:])
        ds["lat"].units, ds["lon"].units = "radians", "radians"
    with pytest.raises(CoordinateError, match="lat coordinate not in degrees north") as info:
        _total(tmp_path)
    assert f"file: {path}" in str(info.value) and "'radians'" in str(info.value)


@pytest.mark.shared_data
def test_the_real_sample_renamed_as_a_dcpp_hindcast_is_suggested_for_its_variant(tmp_path):
    """A11-5 on real files: the sample named as two DCPP hindcast members (s1960-, s1961-r1i1p1f1); the user
    types the variant 'ACCESS-ESM1-5.r1i1p1f1' and is told both (before: difflib's one closest, s1961)."""
    from rhbench.config import RunConfig
    from rhbench.errors import ConfigError
    from rhbench.registry import build_registry
    from rhbench.selection import check_models

    for start in (1960, 1961):
        name = SAMPLE.replace("gpp_", "rh_").replace("historical_r1i1p1f1", f"dcppA-hindcast_s{start}-r1i1p1f1")
        _real_gpp_as_rh(tmp_path, name)
    registry = build_registry()
    found = cmip6.register(registry, [tmp_path])
    members = ["ACCESS-ESM1-5.s1960-r1i1p1f1", "ACCESS-ESM1-5.s1961-r1i1p1f1"]
    assert sorted(s.name for s in found) == members
    with pytest.raises(ConfigError) as info:
        check_models(RunConfig(models=("ACCESS-ESM1-5.r1i1p1f1",), cmip6=(tmp_path,)), registry, found)
    assert f"did you mean {members[0]!r} or {members[1]!r} for 'ACCESS-ESM1-5.r1i1p1f1'?" in str(info.value)
