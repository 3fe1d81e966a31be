"""A per-PFT model's land cover and own land fraction are read once for all its per-PFT variables in a
run (rhbench.runscope.latest), not once per variable; the numbers are those of reading them each time."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import xarray as xr

from rhbench import grid, harmonize, loader, pftcover, reduce, runscope
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


def _on_grid(lat: np.ndarray, lon: np.ndarray) -> xr.DataArray:
    return xr.DataArray(np.zeros((lat.size, lon.size)), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})


@pytest.mark.parametrize("axis", ["lat", "lon", "both"])
def test_the_land_fraction_memo_key_holds_the_grid_so_two_grids_of_one_source_never_share_it(tmp_path, axis):
    """B13-23 (Review 10's R10-2 mutation no test saw): ``pftcover._land`` keeps the model's land fraction
    per run under (source, grid, files). The same source and files asked on another grid (the latitudes,
    the longitudes or both differing) get their own land fraction, computed on that grid; asked twice on
    one grid, computed once (the memo is live). Red if the grid leaves the key, or either axis does."""
    source = _model(tmp_path)
    lat, lon = np.array([-10.0, 10.0]), np.array([0.0, 20.0, 40.0])
    other = {"lat": (lat + 5.0, lon), "lon": (lat, lon + 5.0), "both": (lat + 5.0, lon + 5.0)}[axis]
    first, second = _on_grid(lat, lon), _on_grid(*other)
    asked: list[tuple] = []

    def land_of(data: xr.DataArray) -> xr.DataArray:
        asked.append((tuple(data["lat"].values), tuple(data["lon"].values)))
        return xr.ones_like(data) * (len(asked) / 10.0)

    with runscope.scope():
        one = pftcover._land(source, source.files, first, land_of)
        again = pftcover._land(source, source.files, first, land_of)
        two = pftcover._land(source, source.files, second, land_of)
    assert again is one and len(asked) == 2
    assert asked[1] == (tuple(other[0]), tuple(other[1]))
    np.testing.assert_array_equal(two["lat"].values, other[0])
    np.testing.assert_array_equal(two["lon"].values, other[1])
    assert float(one.max()) == 0.1 and float(two.max()) == 0.2
