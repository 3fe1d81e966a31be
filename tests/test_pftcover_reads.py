"""A per-PFT model's land cover and own land fraction are read once for all its per-PFT variables in a
run (rhbench.runscope.latest), not once per variable; the numbers are those of reading them each time."""

from __future__ import annotations

from collections import Counter

import numpy as np
import xarray as xr

from rhbench import grid, harmonize, loader, reduce, runscope
from rhbench.sources import Source, Var
from tests.test_audit11_trendy import LAT, LON
from tests.test_audit12_pft import _cover_file, _fractions, _per_pft, _rh_file


def _model(tmp_path) -> Source:
    """rh and npp per PFT (same values), landCoverFrac in %, sftlf in %: a TRENDY-like per-PFT model."""
    per_pft, frac = _per_pft(), _fractions()
    rh = _rh_file(tmp_path / "rh.nc", per_pft)
    npp = tmp_path / "npp.nc"
    xr.open_dataset(rh).rename({"rh": "npp"}).load().to_netcdf(npp)
    cover = _cover_file(tmp_path / "landCoverFrac.nc", frac * 100.0, "%")
    sftlf = tmp_path / "sftlf.nc"
    land = xr.DataArray(frac.sum(axis=0) * 100.0, dims=("lat", "lon"), coords={"lat": LAT, "lon": LON}, name="sftlf")
    land.astype("float32").assign_attrs(units="%").to_dataset().to_netcdf(sftlf)
    files = {"rh": [rh], "npp": [npp], "landCoverFrac": [cover], "sftlf": [sftlf]}
    variables = {
        "rh": Var("rh", "kg m-2 s-1"),
        "npp": Var("npp", "kg m-2 s-1"),
        "landCoverFrac": Var("landCoverFrac", "%"),
        "sftlf": Var("sftlf", "%"),
    }
    return Source("PFTLIKE", "dgvm", "x.PFTLIKE", variables, "-", period=(2000, 2003), files=files)


def _read(source: Source, monkeypatch) -> tuple[Counter, reduce.ModelProducts]:
    """(how many times each variable was opened, the model's products) of loading ``source`` natively."""
    opened: Counter = Counter()
    real = loader.open_variable

    def counting(src, name, *args, **kwargs):
        opened[name] += 1
        return real(src, name, *args, **kwargs)

    monkeypatch.setattr(loader, "open_variable", counting)
    annual, cells = harmonize.load_native(source, None, in_memory=True)
    products = reduce.reduce_native(annual, cells, grid.common_grid(10.0), (2000, 2003))
    monkeypatch.setattr(loader, "open_variable", real)
    return opened, products


def test_a_runs_per_pft_variables_share_one_read_of_the_land_cover_and_land_fraction(tmp_path, monkeypatch):
    source = _model(tmp_path)
    each_time, before = _read(source, monkeypatch)  # outside a run: read for each per-PFT variable
    assert each_time["landCoverFrac"] == 2 and each_time["sftlf"] == 3  # rh's, npp's; and the totals'
    with runscope.scope():
        once, after = _read(source, monkeypatch)
    assert once["landCoverFrac"] == 1 and once["sftlf"] == 2  # one for the weights, one for the totals
    assert once["rh"] == once["npp"] == 1
    for name in ("rh_total", "npp_total"):
        np.testing.assert_array_equal(after.regions[name].values, before.regions[name].values)
    np.testing.assert_array_equal(after.period["rh"].values, before.period["rh"].values)


def test_the_land_cover_of_another_model_is_read_afresh_and_the_run_keeps_one(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first, second = _model(tmp_path / "a"), _model(tmp_path / "b")
    with runscope.scope() as scope:
        counts = [_read(source, monkeypatch)[0]["landCoverFrac"] for source in (first, second, first)]
        assert counts == [1, 1, 1]  # each model's own cover; the first's let go when the second's was read
        assert sorted(scope.latest) == ["land fraction", "landCoverFrac"]  # one value of each kind
        kept_cover_key = scope.latest["landCoverFrac"][0]
        assert kept_cover_key[2][0] == str(tmp_path / "a" / "landCoverFrac.nc")  # (name, in_memory, file identity)
    assert scope.latest == {}  # let go when the run ends
