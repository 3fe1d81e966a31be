"""Issue 18: the Random Forest reference cache (rhbench.refcache).

Fast tests drive :func:`rhbench.refcache.cached_build` with a counting build (small files);
the slow ones run the REAL reference (../shared/data) with an empty cache, then from it,
and compare every output.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from rhbench import refcache
from rhbench.errors import RhbenchError
from tests.conftest import shared_data_path

TARGET = xr.Dataset(coords={"lat": [-45.0, 45.0], "lon": [0.0, 90.0, 180.0]})


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("RHBENCH_CACHE", str(folder))
    return folder


@pytest.fixture
def inputs(tmp_path) -> dict[str, Path]:
    srdb = tmp_path / "srdb-data.csv"
    srdb.write_text("Record_number,Rh_annual\n1,350.5\n2,410.0\n")
    stack = tmp_path / "stack.nc"
    stack.write_bytes(b"stack bytes")
    return {"sites": srdb, "stack": stack, "land_fraction": None}


class Build:
    """A stand-in for the forest: writes a product whose bytes depend on a counter."""

    def __init__(self, out: Path) -> None:
        self.out, self.calls = out, 0

    def __call__(self) -> None:
        self.calls += 1
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "rh_rf.nc").write_bytes(b"map %d" % self.calls)
        (self.out / "cv_metrics.json").write_text(json.dumps({"r2": 0.5, "build": self.calls}))
        (self.out / "run_log.json").write_text(json.dumps({"seconds": 19.0}))


def _build(out: Path, build, inputs, *, use_cache=True, seed=0, quick=False, classes=None) -> None:
    refcache.cached_build(
        out,
        build,
        use_cache=use_cache,
        files=inputs,
        entries={"SRDB": {"sha256": "pinned"}},
        seed=seed,
        quick=quick,
        target=TARGET,
        classes=classes,
    )


def _entries(cache: Path) -> list[Path]:
    folder = cache / refcache.FOLDER
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def test_second_build_is_served_from_the_cache_with_the_same_bytes(tmp_path, cache, inputs, caplog):
    build = Build(tmp_path / "run1" / "upscaling")
    _build(build.out, build, inputs)
    second = Build(tmp_path / "run2" / "upscaling")
    with caplog.at_level(logging.INFO, logger="rhbench.refcache"):
        _build(second.out, second, inputs)
    assert (build.calls, second.calls) == (1, 0)
    for name in ("rh_rf.nc", "cv_metrics.json"):
        assert (second.out / name).read_bytes() == (build.out / name).read_bytes()
    log = json.loads((second.out / "run_log.json").read_text())
    assert log["built"] == {"seconds": 19.0} and log["from_cache"] == _entries(cache)[0].name
    assert f"reference from the cache (key {_entries(cache)[0].name})" in caplog.text
    # the cache is RHBENCH_CACHE's, never inside the run's output folder
    assert all(not entry.is_relative_to(tmp_path / "run1") for entry in _entries(cache))
    assert _entries(cache)[0].is_relative_to(cache)


def test_one_edited_srdb_value_or_another_seed_rebuilds(tmp_path, cache, inputs, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    build = Build(tmp_path / "out")
    _build(build.out, build, inputs)
    inputs["sites"].write_text(inputs["sites"].read_text().replace("350.5", "350.6"))
    _build(build.out, build, inputs)
    assert build.calls == 2
    _build(build.out, build, inputs, seed=1)
    assert build.calls == 3
    _build(build.out, build, inputs, quick=True)
    assert build.calls == 4
    classes = xr.DataArray(np.zeros((2, 3)), dims=("lat", "lon"))
    _build(build.out, build, inputs, classes=classes)
    _build(build.out, build, inputs, classes=classes + 1)
    assert build.calls == 6
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # dates the map's history
    _build(build.out, build, inputs, classes=classes + 1)
    assert build.calls == 7
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    _build(build.out, build, inputs, seed=1)  # an earlier key is still served
    assert build.calls == 7 and len(_entries(cache)) == 7


def test_input_files_are_hashed_once_per_run_and_whole(tmp_path, monkeypatch):
    """The key takes an input's SHA-256 from the run's memoised checksums (the provenance hashes the same
    files), and a file too large for those (only fingerprinted there) is still hashed whole."""
    from rhbench import fileops

    path = tmp_path / "srdb.csv"
    path.write_bytes(b"Record_number,Rh_annual\n1,300\n" * 100)
    whole = fileops.sha256_of(path)
    assert fileops.file_checksum(path) == f"sha256:{whole}"  # hashed once, as the run's provenance does
    monkeypatch.setattr(refcache, "sha256_of", lambda p: pytest.fail(f"{p} hashed a second time"))
    assert refcache._input_sha256(path) == whole
    monkeypatch.undo()
    monkeypatch.setattr(fileops, "FULL_CHECKSUM_BYTES", 16)  # the file is now "large": fingerprinted only
    path.write_bytes(path.read_bytes() + b"2,400\n")
    assert fileops.file_checksum(path).startswith("fingerprint:")
    assert refcache._input_sha256(path) == fileops.sha256_of(path)


def test_key_covers_the_upscaling_code_and_every_file():
    code = refcache.code_fingerprint()
    package = Path(refcache.__file__).parent  # benchmark/ in a checkout, rhbench/ when installed
    top = package.name
    assert f"{top}/upscaling/forest.py" in code and f"{top}/upscaling/product.py" in code
    # what shapes the product beyond the forest: the stack's reading, cell areas, labels, the plugins' quirks
    assert {f"{top}/{name}.py" for name in ("loader", "grid", "landfrac", "datalabel")} <= set(code)
    assert {f"{top}/{p.relative_to(package).as_posix()}" for p in package.rglob("*.py")} <= set(code)
    assert any(name.startswith("plugins/obs_datasets/") for name in code)


def test_edited_upscaling_code_changes_the_key(inputs, monkeypatch):
    def key() -> str:
        return refcache.reference_key(inputs, seed=0, quick=False, target=TARGET, classes=None, entries={})

    before = key()
    real = refcache.code_fingerprint()
    monkeypatch.setattr(refcache, "code_fingerprint", lambda: {**real, next(iter(real)): "edited"})
    assert key() != before


@pytest.mark.parametrize("victim", ["rh_rf.nc", refcache.MANIFEST])
def test_a_corrupted_entry_is_not_served_but_rebuilt_with_a_warning(tmp_path, cache, inputs, caplog, victim):
    build = Build(tmp_path / "out")
    _build(build.out, build, inputs)
    path = _entries(cache)[0] / victim
    data = bytearray(path.read_bytes())
    data[0] ^= 0x01  # one byte
    path.write_bytes(bytes(data))
    second = Build(tmp_path / "out2")
    with caplog.at_level(logging.WARNING, logger="rhbench.refcache"):
        _build(second.out, second, inputs)
    assert second.calls == 1 and (second.out / "rh_rf.nc").read_bytes() == b"map 1"
    assert "ignored, the reference is rebuilt" in caplog.text
    third = Build(tmp_path / "out3")  # the rebuilt entry is good again
    _build(third.out, third, inputs)
    assert third.calls == 0


def test_no_cache_neither_reads_nor_writes(tmp_path, cache, inputs):
    build = Build(tmp_path / "out")
    _build(build.out, build, inputs, use_cache=False)
    assert build.calls == 1 and _entries(cache) == []
    _build(build.out, build, inputs)  # stores
    stored = {p.name: p.read_bytes() for p in _entries(cache)[0].iterdir()}
    _build(build.out, build, inputs, use_cache=False)
    assert build.calls == 3  # not read
    assert {p.name: p.read_bytes() for p in _entries(cache)[0].iterdir()} == stored  # not written


def test_a_failed_reference_is_never_cached(tmp_path, cache, inputs):
    from rhbench.upscaling.product import run_upscaling

    inputs["sites"].write_text("this is not,an SRDB table\n\x00\x01\n")
    out = tmp_path / "out"
    with pytest.raises(RhbenchError):
        _build(out, lambda: run_upscaling(inputs["sites"], out, quick=True), inputs)
    assert _entries(cache) == []
    assert not list((cache / refcache.FOLDER).glob("*.sha256"))


# --- the REAL reference, end to end ---------------------------------------------------------

STAMPS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


def _run(out: Path, *extra: str) -> None:
    root = shared_data_path("srdb", "srdb-data.csv").parents[1]
    command = [sys.executable, "-m", "rhbench.cli", "-q", "run", "--data-root", str(root), "--out", str(out)]
    subprocess.run([*command, "--force", *extra], check=True, capture_output=True)


def _blank(text: str, out: Path) -> str:
    text = STAMPS.sub("STAMP", text.replace(str(out), "OUT"))
    text = re.sub(r'^  "sha256": "[0-9a-f]{64}"', "DIGEST", text, flags=re.M)  # scorecard's digest covers the path
    return re.sub(r"(<dt>seconds</dt><dd>)[0-9.]+", r"\1S", text)


def _nc(path: Path) -> dict:
    """Every group's variables (values) and attributes (stamps blanked) of a results.nc."""
    import netCDF4

    found = {}

    def walk(group, name: str) -> None:
        found[name] = {k: STAMPS.sub("STAMP", str(group.getncattr(k))) for k in group.ncattrs()}
        for var in group.variables.values():
            found[f"{name}/{var.name}"] = np.ma.getdata(var[:]), np.ma.getmaskarray(var[:])
        for child in group.groups.values():
            walk(child, f"{name}/{child.name}")

    with netCDF4.Dataset(path) as ds:
        walk(ds, "")
    return found


@pytest.mark.slow
@pytest.mark.shared_data
def test_real_run_from_the_cache_gives_identical_outputs(tmp_path, cache):
    cold, warm = tmp_path / "cold", tmp_path / "warm"
    _run(cold)
    assert len(_entries(cache)) == 1
    _run(warm)
    log = json.loads((warm / "upscaling" / "run_log.json").read_text())
    assert log["from_cache"] == _entries(cache)[0].name  # really served
    for name in ("scorecard.json", "scores.csv", "cmec.json", "index.html"):
        assert _blank((warm / name).read_text(), warm) == _blank((cold / name).read_text(), cold), name
    hot, frozen = _nc(warm / "results.nc"), _nc(cold / "results.nc")
    assert hot.keys() == frozen.keys() and len(hot) > 10
    for name, value in frozen.items():
        if isinstance(value, dict):
            assert hot[name] == value, name
        else:  # the same bytes: NaN where NaN, the same mask
            np.testing.assert_array_equal(hot[name][0], value[0], err_msg=name, strict=True)
            np.testing.assert_array_equal(hot[name][1], value[1], err_msg=name)
    for path in (cold / "upscaling").iterdir():
        if path.name != "run_log.json":
            assert (warm / "upscaling" / path.name).read_bytes() == path.read_bytes(), path.name
    assert not any(p.is_relative_to(warm) for p in cache.rglob("*"))


@pytest.mark.slow
@pytest.mark.shared_data
def test_real_run_with_no_cache_leaves_the_cache_alone(tmp_path, cache):
    _run(tmp_path / "out", "--no-cache")
    assert _entries(cache) == []


@pytest.mark.shared_data
def test_run_inputs_name_the_real_files_so_an_edited_srdb_changes_the_key(tmp_path):
    from rhbench.config import RunConfig
    from rhbench.registry import build_registry
    from rhbench.upscaling import inputs

    shared = shared_data_path("srdb", "srdb-data.csv").parents[1]
    root = tmp_path / "root"
    shutil.copytree(shared, root, symlinks=False)
    registry = build_registry()
    found = inputs.fetched_stack(registry, root)
    sites = registry.of_kind("sites")[0]
    config = RunConfig(data_root=root, out=tmp_path / "out")
    args = refcache.run_inputs(config, registry, root, sites, found, TARGET, None)
    assert args["files"]["sites"] == root / "srdb" / "srdb-data.csv"
    assert args["files"]["stack"] == found[1] and args["files"]["land_fraction"] is not None
    key_args = {k: v for k, v in args.items() if k != "use_cache"}
    before = refcache.reference_key(**key_args)
    csv = args["files"]["sites"]
    csv.chmod(0o644)
    text = csv.read_text(encoding="utf-8")
    first = re.search(r",(\d+\.\d+),", text)
    csv.write_text(text[: first.start(1)] + str(float(first.group(1)) + 1) + text[first.end(1) :], encoding="utf-8")
    assert refcache.reference_key(**key_args) != before
