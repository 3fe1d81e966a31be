"""Thirteenth audit (session 11), part B: the cache folder shared, damaged or unusable
(docs/trust-cases.md, "Thirteenth audit (session 11)"). A run must stay right without it."""

from __future__ import annotations

import hashlib
import logging
import marshal
import shutil

import pandas as pd
import pytest
import yaml

from rhbench import cache, catalog, fileops, refcache
from rhbench.config import RunConfig
from rhbench.errors import CacheError
from rhbench.pipeline import run
from tests.conftest import SMALL_DEMO_RESOLUTION
from tests.test_refcache import Build, _build, _entries

KEY = ["source", "kind", "metric", "region", "status"]


def test_a_cache_path_that_is_a_file_is_a_cache_error_naming_rhbench_cache(tmp_path, monkeypatch):
    """Before: "cannot read or write a file: ...: File exists" (an OSError the CLI printed, no variable)."""
    (tmp_path / "file").write_text("a user's file")
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "file"))
    with pytest.raises(CacheError) as info:
        fileops.cache_dir()
    text = str(info.value)
    assert "variable: RHBENCH_CACHE" in text and "found: a file, not a folder" in text and "expected: a folder" in text
    assert isinstance(info.value, OSError)  # every stage keeping the cache optional goes on without it
    assert (tmp_path / "file").read_text() == "a user's file"
    assert cache.load("abc") is None  # the products cache: not used, no exception


def _rows(outcome) -> pd.DataFrame:
    frame = pd.DataFrame([vars(r) for r in outcome.results.rows])
    return frame.sort_values(KEY).reset_index(drop=True)


@pytest.mark.slow
def test_a_run_whose_cache_is_a_file_gives_the_numbers_of_a_run_with_a_cache(demo_root, tmp_path, monkeypatch, caplog):
    """Before: exit 2, nothing written, even with --no-cache (the output check made the cache folder).
    Now the run goes on without the cache, warning once per model, and its rows equal a cached run's."""

    def once(name: str):
        config = RunConfig(
            data_root=demo_root,
            out=tmp_path / name,
            resolution=SMALL_DEMO_RESOLUTION,
            quick_upscaling=True,
            models=("CLM5.0",),
            n_draws=10,
        )
        return run(config)

    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    good = once("out-good")
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "file"))
    with caplog.at_level(logging.WARNING):
        bad = once("out-bad")
    assert bad.failures == good.failures == {}
    pd.testing.assert_frame_equal(_rows(bad), _rows(good))
    assert "products cache not used: the cache folder cannot be used" in caplog.text
    assert "RHBENCH_CACHE" in caplog.text


def test_a_reference_entry_replaced_while_it_is_copied_is_rebuilt_not_a_crash(tmp_path, monkeypatch, caplog):
    """Two runs sharing RHBENCH_CACHE: one restores the reference while the other stores the same key
    (`store` removes the entry, then renames its own into place). Before: FileNotFoundError out of
    `restore`, the reference failed (every row needing it); now the reference is built."""
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    inputs_dir = tmp_path / "in"
    inputs_dir.mkdir()
    (inputs_dir / "srdb-data.csv").write_text("Record_number,Rh_annual\n1,350.5\n")
    (inputs_dir / "stack.nc").write_bytes(b"stack bytes")
    inputs = {"sites": inputs_dir / "srdb-data.csv", "stack": inputs_dir / "stack.nc", "land_fraction": None}
    first = Build(tmp_path / "run1" / "upscaling")
    _build(first.out, first, inputs)
    (entry,) = _entries(tmp_path / "cache")
    real_copy = shutil.copyfile

    def other_run_stores(src, dst, *args, **kwargs):  # the other run's store: the folder gone mid-copy
        shutil.rmtree(entry, ignore_errors=True)
        return real_copy(src, dst, *args, **kwargs)

    monkeypatch.setattr(refcache.shutil, "copyfile", other_run_stores)
    second = Build(tmp_path / "run2" / "upscaling")
    with caplog.at_level(logging.WARNING, logger="rhbench.refcache"):
        _build(second.out, second, inputs)
    assert second.calls == 1
    assert (second.out / "rh_rf.nc").read_bytes() == b"map 1"
    assert "not used" in caplog.text and "the reference is built" in caplog.text


def test_a_kept_catalog_parse_altered_in_the_cache_is_never_used(tmp_path, monkeypatch):
    """The built-in catalogs' parse kept in RHBENCH_CACHE/catalogs: a valid marshal of another document
    (a pinned hash or a path edited in the cache) was served as the catalog. Now each kept file carries
    the SHA-256 of its bytes; an altered one is parsed again from the YAML (and kept again)."""
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path))
    path = catalog.BUILTIN_CATALOG_DIR / "obs_datasets.yaml"
    catalog._load_catalog.cache_clear()
    entries = catalog._load_catalog(path)
    (kept,) = (tmp_path / "catalogs").iterdir()
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    name = next(iter(document["entries"]))
    document["entries"][name]["metadata"] = {"sha256": "0" * 64, "edited": True}
    forged = marshal.dumps(document)
    for altered in (forged, hashlib.sha256(b"other").digest() + forged, kept.read_bytes()[:-5]):
        kept.write_bytes(altered)
        catalog._load_catalog.cache_clear()
        assert catalog._load_catalog(path) == entries
    catalog._load_catalog.cache_clear()
