"""rhbench.cache: a model's reduced products are reused while its inputs are unchanged
(small SYNTHETIC demo)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rhbench import cache, catalog, grid, reduce
from rhbench.cli import build_parser
from rhbench.config import RunConfig
from rhbench.config import resolve as _config
from rhbench.pipeline import run
from rhbench.registry import build_registry
from tests.conftest import SMALL_DEMO_RESOLUTION

MODEL = "CLM5.0"
KEY = ["source", "kind", "metric", "region", "status"]


def _products() -> reduce.ModelProducts:
    coords = {"lat": [-10.0, 10.0], "lon": [0.0, 20.0]}
    period = xr.Dataset(
        {"rh": (("lat", "lon"), [[1.5, np.nan], [3.0, 4.25]], {"units": "gC m-2 yr-1"})},
        coords=coords,
        attrs={"source": "M"},
    )
    totals = xr.Dataset(
        {"rh": (("year", "lat", "lon"), np.arange(6.0).reshape(2, 3, 1), {"includes_litter": 1})},
        coords={"year": [2000, 2001], "lat": [0.0, 1.0, 2.0], "lon": [0.0]},
    )
    return reduce.ModelProducts(period, totals)


def test_stored_products_read_back_identical(tmp_path, monkeypatch):
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path))
    products = _products()
    path = cache.store("abc", products)
    assert path == tmp_path / cache.FOLDER / "abc.nc"
    assert sorted(path.parent.iterdir()) == [path, path.with_suffix(".sha256")]  # no temporary file left
    back = cache.load("abc")
    xr.testing.assert_identical(back.period, products.period)
    xr.testing.assert_identical(back.totals, products.totals)
    assert cache.load("other") is None


def test_unreadable_cache_file_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path))
    cache.path_for("bad").parent.mkdir(parents=True)
    cache.path_for("bad").write_bytes(b"not netCDF")
    assert cache.load("bad") is None


def test_altered_cache_bytes_are_never_served(tmp_path, monkeypatch):
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path))
    path = cache.store("abc", _products())
    data = bytearray(path.read_bytes())
    data[-200] ^= 0xFF  # one flipped byte inside the stored values, the file stays readable netCDF
    path.write_bytes(bytes(data))
    assert cache.load("abc") is None
    assert not path.exists() and not path.with_suffix(".sha256").exists()  # dropped, recomputed next run
    cache.store("abc", _products())
    path.with_suffix(".sha256").unlink()  # an entry without its recorded checksum is not trusted either
    assert cache.load("abc") is None


def test_key_changes_when_the_plugin_code_changes_at_the_same_version(small_demo, tmp_path, monkeypatch):
    root, _ = small_demo
    source, files, target, parts, package = _key_inputs(root)
    module = tmp_path / "my_quirk_fix.py"
    module.write_text("def fix(ds):\n    return ds\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import my_quirk_fix

    patched = type(source)(**{**vars(source), "preprocess": my_quirk_fix.fix})
    base = dict(package=package, target=target, period=(1982, 2018), parts=parts)
    key = cache.product_key(patched, files, **base)
    assert set(cache.code_fingerprint(source)) == {"rhbench.plugins.dgvms.clm5"}  # the plugin's own module
    module.write_text("def fix(ds):\n    return ds * 2  # same version, other numbers\n")
    cache._module_hash.cache_clear()
    assert cache.product_key(patched, files, **base) != key


def _key_inputs(root):
    registry = build_registry()
    source = registry.sources[MODEL]
    entry = catalog.entry_for(source)
    files = {name: catalog.resolve_file(root, entry.files[name]) for name in source.variables}
    target = grid.common_grid(SMALL_DEMO_RESOLUTION)
    lat, lon = np.meshgrid(target["lat"].values, target["lon"].values, indexing="ij")
    parts = reduce.partition({"north": xr.DataArray(lat > 0, dims=("lat", "lon"))}, xr.DataArray(lat))
    return source, files, target, parts, registry.packages[MODEL]


def test_key_changes_with_every_input_it_depends_on(small_demo, tmp_path):
    root, _ = small_demo
    source, files, target, parts, package = _key_inputs(root)
    base = dict(package=package, target=target, period=(1982, 2018), parts=parts)
    key = cache.product_key(source, files, **base)
    assert cache.product_key(source, files, **base) == key
    assert cache.product_key(source, files, **{**base, "period": (1982, 2017)}) != key
    assert cache.product_key(source, files, **{**base, "package": "rhbench 9.9"}) != key
    other_grid = target.assign_coords(lat=target["lat"].values + 0.5)
    assert cache.product_key(source, files, **{**base, "target": other_grid}) != key
    no_classes = reduce.partition({}, xr.DataArray(np.zeros(parts.index.shape)))
    assert cache.product_key(source, files, **{**base, "parts": no_classes}) != key
    renamed = type(source)(**{**vars(source), "quirks": frozenset()})
    assert cache.product_key(renamed, files, **base) != key
    # a copy of a file with other contents (same name, size) is another input
    copy = tmp_path / files["rh"].name
    copy.write_bytes(files["rh"].read_bytes()[:-1] + b"\x01")
    assert cache.product_key(source, {**files, "rh": copy}, **base) != key


def _rows(outcome) -> pd.DataFrame:
    frame = pd.DataFrame([vars(r) for r in outcome.results.rows])
    return frame.sort_values(KEY).reset_index(drop=True)


@pytest.mark.slow
def test_rerun_reads_the_model_from_the_cache_until_an_input_changes(small_demo, tmp_path, monkeypatch):
    root, _ = small_demo
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    reductions = []
    original = reduce.reduce_native

    def counting(*args, **kwargs):
        reductions.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(reduce, "reduce_native", counting)

    def once(name: str, **changes):
        config = RunConfig(
            data_root=root,
            out=tmp_path / name,
            resolution=SMALL_DEMO_RESOLUTION,
            quick_upscaling=True,
            models=(MODEL,),
            n_draws=10,
            **changes,
        )
        outcome = run(config)
        assert outcome.failures == {}
        return outcome

    cold = once("cold")
    assert len(reductions) == 1 and len(list((tmp_path / "cache" / cache.FOLDER).glob("*.nc"))) == 1
    cached = once("cached")
    assert len(reductions) == 1  # the model was not read again
    uncached = once("uncached", use_cache=False)
    assert len(reductions) == 2
    for outcome in (cached, uncached):  # identical scorecards, to the last bit
        pd.testing.assert_frame_equal(_rows(outcome), _rows(cold))
    model_rows = _rows(cold).query("source == @MODEL")
    assert len(model_rows) > 10 and np.isfinite(model_rows["value"]).any()

    source = build_registry().sources[MODEL]
    rh = catalog.resolve_file(root, catalog.entry_for(source).files["rh"])
    stat = rh.stat()
    os.utime(rh, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touch: contents unchanged
    once("touched")
    assert len(reductions) == 3


def test_no_cache_flag_turns_the_cache_off(tmp_path):
    args = build_parser().parse_args(["run", "--data-root", str(tmp_path), "--no-cache"])
    assert _config(args).use_cache is False
    args = build_parser().parse_args(["run", "--data-root", str(tmp_path)])
    assert _config(args).use_cache is True
