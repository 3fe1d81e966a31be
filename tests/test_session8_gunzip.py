"""Session 8, item 2: the gunzip cache survives a CI restore but not an edit of the ``.nc.gz``.

A CI system restores RHBENCH_CACHE from an archive (every file a new inode and change time) and
checks the data out afresh (a new inode and modification time for the same bytes): the copies
must be reused, verified by the SHA-256 of the ``.nc.gz`` and of the copy kept in its record.
An edit of the ``.nc.gz`` in place at the same size with its modification time set back must be
decompressed again (it was served stale: the copy was named by the source's size and mtime).
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from rhbench.readers import gunzip


def _packed(path: Path, values: np.ndarray) -> bytes:
    """Write ``path`` (.nc.gz, stored blocks: its size is set by the plain size); return the plain bytes."""
    plain = path.with_suffix("")
    xr.Dataset({"rh": ("x", values)}).to_netcdf(plain)
    data = plain.read_bytes()
    path.write_bytes(gzip.compress(data, compresslevel=0, mtime=0))
    plain.unlink()
    return data


@pytest.fixture
def inflations(monkeypatch):
    """Count the decompressions (calls of gunzip._inflate)."""
    calls: list[Path] = []
    real = gunzip._inflate

    def counted(path, copy):
        calls.append(path)
        return real(path, copy)

    monkeypatch.setattr(gunzip, "_inflate", counted)
    return calls


def test_a_cache_folder_restored_with_new_inodes_and_a_fresh_checkout_is_not_decompressed_again(
    tmp_path, monkeypatch, inflations
):
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    packed = tmp_path / "data" / "rh.nc.gz"
    packed.parent.mkdir()
    plain = _packed(packed, np.arange(5.0))
    copy = gunzip.decompressed(packed)
    assert len(inflations) == 1 and copy.read_bytes() == plain
    # the CI restore: the cache folder copied to a new place (new inodes and change times) and moved back
    shutil.move(tmp_path / "cache", tmp_path / "archive")
    shutil.copytree(tmp_path / "archive", tmp_path / "cache")  # copy2: mtimes kept, new inode and ctime
    # and a fresh checkout of the data: the same bytes, a new inode and modification time
    fresh = packed.read_bytes()
    packed.unlink()
    packed.write_bytes(fresh)
    os.utime(packed, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    restored = gunzip.decompressed(packed)
    assert restored == copy and restored.read_bytes() == plain
    assert len(inflations) == 1  # verified by SHA-256, not decompressed again
    inode = restored.stat().st_ino
    assert gunzip.decompressed(packed) == copy and copy.stat().st_ino == inode and len(inflations) == 1


def test_a_cache_restored_without_modification_times_is_verified_and_reused(tmp_path, monkeypatch, inflations):
    """Some archivers do not keep mtimes: every stat field then differs; the hashes still match."""
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    packed = tmp_path / "rh.nc.gz"
    plain = _packed(packed, np.arange(5.0))
    gunzip.decompressed(packed)
    shutil.move(tmp_path / "cache", tmp_path / "archive")
    shutil.copytree(tmp_path / "archive", tmp_path / "cache", copy_function=shutil.copyfile)
    assert gunzip.decompressed(packed).read_bytes() == plain and len(inflations) == 1


def test_an_in_place_edit_of_the_nc_gz_keeping_size_and_mtime_is_decompressed_again(tmp_path, monkeypatch, inflations):
    """Before: the copy, named by the source's path, size and mtime, was served stale (rh 0..4 for 5..9)."""
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    packed = tmp_path / "rh.nc.gz"
    _packed(packed, np.arange(5.0))
    gunzip.decompressed(packed)
    before = packed.stat()
    other = tmp_path / "other.nc.gz"
    new_plain = _packed(other, np.arange(5.0, 10.0))
    with packed.open("r+b") as handle:  # in place: same inode, same size
        handle.write(other.read_bytes())
    os.utime(packed, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert packed.stat().st_size == before.st_size and packed.stat().st_mtime_ns == before.st_mtime_ns
    copy = gunzip.decompressed(packed)
    assert len(inflations) == 2 and copy.read_bytes() == new_plain
    with xr.open_dataset(copy) as ds:
        np.testing.assert_array_equal(ds["rh"].values, np.arange(5.0, 10.0))


def test_a_restored_copy_whose_bytes_differ_is_decompressed_again(tmp_path, monkeypatch, inflations, caplog):
    """A restore that brings a damaged copy (same size, other bytes, mtime kept): its SHA-256 fails."""
    import logging

    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    packed = tmp_path / "rh.nc.gz"
    plain = _packed(packed, np.arange(5.0))
    copy = gunzip.decompressed(packed)
    shutil.move(tmp_path / "cache", tmp_path / "archive")
    shutil.copytree(tmp_path / "archive", tmp_path / "cache")
    stat = copy.stat()
    damaged = bytearray(copy.read_bytes())
    damaged[-1] ^= 0xFF
    with copy.open("r+b") as handle:
        handle.write(bytes(damaged))
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with caplog.at_level(logging.WARNING):
        assert gunzip.decompressed(packed).read_bytes() == plain
    assert len(inflations) == 2 and "changed since rhbench wrote it" in caplog.text


def test_the_copy_an_older_rhbench_made_is_removed_once_the_new_one_is_made(tmp_path, monkeypatch):
    """A format-1 copy (named by path, size and mtime, record format 1) of the same file would only take
    disk space; it is removed, and an unrelated file of the folder is kept."""
    import hashlib
    import json

    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    packed = tmp_path / "rh.nc.gz"
    plain = _packed(packed, np.arange(5.0))
    folder = tmp_path / "cache" / gunzip.FOLDER
    folder.mkdir(parents=True)
    stat = packed.stat()
    key = hashlib.sha256(f"{packed.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:20]
    old = folder / f"{key}.nc"
    old.write_bytes(plain)
    (folder / f"{key}.nc.json").write_text(json.dumps({"format": 1, "size": len(plain)}))
    (folder / "mine.nc").write_text("kept")
    copy = gunzip.decompressed(packed)
    assert copy.read_bytes() == plain and not old.exists() and not (folder / f"{key}.nc.json").exists()
    assert (folder / "mine.nc").read_text() == "kept"
