"""Seventh audit (writers and the cache): the dev tools never overwrite or delete a user's files."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest

from benchmarks import alternate, ilamb3_bench, workdir
from benchmarks import run as bench_run
from rhbench.errors import OutputExistsError

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _users_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    (folder / "demo-cache").mkdir(parents=True)
    (folder / "demo-cache" / "thesis.tex").write_text("years of work")
    (folder / "ilamb3.json").write_text("mine")
    (folder / "rhbench.json").write_text("mine")
    return folder


def _kept(folder: Path) -> None:
    assert (folder / "demo-cache" / "thesis.tex").read_text() == "years of work"
    assert (folder / "ilamb3.json").read_text() == "mine"
    assert (folder / "rhbench.json").read_text() == "mine"
    assert not (folder / workdir.MARKER).exists()


def test_benchmarks_run_refuses_a_users_folder_before_touching_it(tmp_path: Path) -> None:
    folder = _users_folder(tmp_path)
    with pytest.raises(OutputExistsError, match="did not write") as err:
        bench_run.main(["--out", str(folder), "--quick"])
    assert err.value.file == str(folder)
    _kept(folder)


def test_ilamb3_bench_refuses_a_users_folder(tmp_path: Path) -> None:
    folder = _users_folder(tmp_path)
    with pytest.raises(OutputExistsError, match="did not write"):
        ilamb3_bench.main(["--out", str(folder), "--models", "1", "--freq", "annual"])
    _kept(folder)


def test_a_new_empty_or_marked_work_folder_is_accepted_and_a_file_refused(tmp_path: Path) -> None:
    new = workdir.claim_workdir(tmp_path / "a" / "b")
    assert (new / workdir.MARKER).is_file()
    (new / "data").mkdir()
    assert workdir.claim_workdir(new) == new  # an earlier benchmark's folder is reused
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (workdir.claim_workdir(empty) / workdir.MARKER).is_file()
    plain = tmp_path / "notes.txt"
    plain.write_text("mine")
    with pytest.raises(OutputExistsError, match="not a folder"):
        workdir.claim_workdir(plain)
    assert plain.read_text() == "mine"


def test_alternate_json_refuses_a_users_file_before_measuring(tmp_path: Path, monkeypatch) -> None:
    users = tmp_path / "results.json"
    users.write_text(json.dumps({"mine": 1}))
    monkeypatch.setattr(alternate, "alternate", lambda *a: pytest.fail("measured before the --json check"))
    with pytest.raises(OutputExistsError, match="not one this benchmark wrote"):
        alternate.main(["--config", "x.toml", "--json", str(users)])
    assert json.loads(users.read_text()) == {"mine": 1}


def test_alternate_json_replaces_its_own_report(tmp_path: Path, monkeypatch) -> None:
    ours = tmp_path / "samples.json"
    ours.write_text(json.dumps({alternate.REPORT_MARKER: True, "run": {}}))
    sample = {"run": {"old": [{"wall": 1.0, "cpu": 1.0}], "new": [{"wall": 2.0, "cpu": 2.0}]}}
    monkeypatch.setattr(alternate, "alternate", lambda *a: sample)
    monkeypatch.setattr(alternate.compileall, "compile_dir", lambda *a, **k: True)
    assert alternate.main(["--config", "x.toml", "--what", "run", "--json", str(ours)]) == 0
    assert json.loads(ours.read_text()) == {alternate.REPORT_MARKER: True, **sample}


def test_rf_figures_refuses_to_draw_over_a_users_png(tmp_path: Path, monkeypatch) -> None:
    dest = tmp_path / "pictures"
    dest.mkdir()
    (dest / "rf_real_map.png").write_bytes(b"my holiday photo")
    folder = tmp_path / "upscale"
    folder.mkdir()
    (folder / "cv_metrics.json").write_text(json.dumps({"data_label": "SYNTHETIC"}))
    monkeypatch.setattr(sys, "argv", ["rf_figures.py", str(folder), "--dest", str(dest)])
    with pytest.raises(OutputExistsError, match="not overwritten") as err:
        runpy.run_path(str(DOCS / "rf_figures.py"), run_name="__main__")
    assert err.value.file == str(dest / "rf_real_map.png")
    assert (dest / "rf_real_map.png").read_bytes() == b"my holiday photo"


@pytest.mark.parametrize("text", ["{broken", "[1, 2]", "\udcff"])
def test_a_damaged_demo_marker_in_the_cache_is_rebuilt_not_a_traceback(tmp_path: Path, text: str) -> None:
    from rhbench.demo import MARKER_FILE, demo_is_current
    from rhbench.registry import build_registry

    root = tmp_path / "demo"
    root.mkdir()
    (root / MARKER_FILE).write_bytes(text.encode("utf-8", "surrogateescape"))
    (root / "neighbour.txt").write_text("mine")
    assert demo_is_current(root, resolution=2.0, monthly=False, registry=build_registry()) is False
    assert (root / "neighbour.txt").read_text() == "mine"


@pytest.mark.parametrize("damage", ["truncate", "append"])
def test_a_damaged_gunzip_cache_copy_is_rebuilt_and_its_neighbours_kept(tmp_path: Path, monkeypatch, damage) -> None:
    import gzip

    import numpy as np
    import xarray as xr

    from rhbench.readers import gunzip

    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    plain = tmp_path / "rh.nc"
    xr.Dataset({"rh": ("x", np.arange(5.0))}).to_netcdf(plain)
    packed = tmp_path / "rh.nc.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    copy = gunzip.decompressed(packed)
    (copy.parent / "neighbour.txt").write_text("mine")
    size = copy.stat().st_size
    if damage == "truncate":
        copy.write_bytes(copy.read_bytes()[: size // 2])
    else:
        copy.write_bytes(copy.read_bytes() + b"junk")
    assert gunzip.decompressed(packed) == copy
    assert copy.read_bytes() == plain.read_bytes()
    with xr.open_dataset(copy) as ds:
        np.testing.assert_array_equal(ds["rh"].values, np.arange(5.0))
    assert (copy.parent / "neighbour.txt").read_text() == "mine"


def _gzipped_netcdf(tmp_path: Path) -> tuple[Path, bytes]:
    """A gzipped netCDF file of rh = 0..4 and the bytes of its plain netCDF."""
    import gzip

    import numpy as np
    import xarray as xr

    plain = tmp_path / "rh.nc"
    xr.Dataset({"rh": ("x", np.arange(5.0))}).to_netcdf(plain)
    packed = tmp_path / "rh.nc.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    return packed, plain.read_bytes()


@pytest.mark.parametrize("mtime", ["moved", "set back"])
def test_a_same_size_edit_of_a_gunzip_cache_copy_is_rebuilt(tmp_path: Path, monkeypatch, caplog, mtime) -> None:
    """Session 7, item 5: a byte of the cached copy changed in place (same size; its modification time
    left as the edit made it, or set back to the old one). Before: served as it was (only the size was
    checked); now the copy's record (size, mtime, ctime, inode) no longer matches and it is made again.
    A neighbour in the cache folder is kept."""
    import logging
    import os

    from rhbench.readers import gunzip

    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    packed, plain = _gzipped_netcdf(tmp_path)
    copy = gunzip.decompressed(packed)
    (copy.parent / "neighbour.nc").write_text("mine")
    before = copy.stat()
    edited = bytearray(copy.read_bytes())
    edited[-1] ^= 0xFF
    with copy.open("r+b") as handle:  # in place: same inode, same size
        handle.write(bytes(edited))
    if mtime == "set back":
        os.utime(copy, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert copy.stat().st_size == before.st_size and copy.read_bytes() != plain
    with caplog.at_level(logging.WARNING):
        assert gunzip.decompressed(packed) == copy
    assert copy.read_bytes() == plain and "changed since rhbench wrote it" in caplog.text
    assert (copy.parent / "neighbour.nc").read_text() == "mine"


def test_an_intact_gunzip_cache_copy_is_reused_and_an_unrecorded_one_made_again_once(tmp_path: Path, monkeypatch):
    """An intact copy is served as it is (not rewritten); a copy without its record (an older rhbench's,
    or a crash between the copy and its record) or with a damaged record is made again, then reused."""
    from rhbench.readers import gunzip

    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    packed, plain = _gzipped_netcdf(tmp_path)
    copy = gunzip.decompressed(packed)
    record = copy.with_name(copy.name + gunzip.RECORD_SUFFIX)
    first = copy.stat()
    assert gunzip.decompressed(packed) == copy and copy.stat().st_ino == first.st_ino
    assert copy.stat().st_mtime_ns == first.st_mtime_ns
    for damage in ("remove", "garbage"):
        record.unlink() if damage == "remove" else record.write_text("{broken")
        inode = copy.stat().st_ino
        assert gunzip.decompressed(packed) == copy and copy.read_bytes() == plain
        assert copy.stat().st_ino != inode  # made again (a new file renamed over the name)
        again = copy.stat().st_ino
        assert gunzip.decompressed(packed) == copy and copy.stat().st_ino == again
    pointers = [p.name for p in copy.parent.glob("path-*.json")]  # the source path's pointer (audit 11)
    assert len(pointers) == 1
    assert sorted(p.name for p in copy.parent.iterdir()) == sorted([copy.name, record.name, *pointers])


def test_a_users_file_named_like_the_run_lock_is_refused_and_kept(tmp_path: Path) -> None:
    from rhbench import outdir

    out = tmp_path / "run"
    lock = tmp_path / ".run.lock"
    lock.write_text("mine")
    with pytest.raises(OutputExistsError, match="lock file name is taken") as err:
        with outdir.staging_dir(out):
            pass
    assert err.value.file == str(lock)
    assert lock.read_text() == "mine"
    lock.write_text("")  # an empty lock left by a killed run is reused, then removed
    with outdir.staging_dir(out) as staging:
        (staging / "x").write_text("1")
    assert (out / "x").read_text() == "1"
    assert not lock.exists()
