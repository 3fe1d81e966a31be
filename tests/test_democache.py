"""Old SYNTHETIC demo roots in the cache are pruned, and nothing else (rhbench.democache).

Before: every rhbench version left its ``demo-VERSION-...`` folder in the cache (seventh audit,
W7-4: "old demo-* folders pile up"). Now the folders of earlier versions that rhbench wrote
are removed when a run uses the demo; a user's file in one, a folder without rhbench's
marker, a link, the folder in use and a folder another run is reading are kept.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from rhbench import __version__, democache


def _demo(cache: Path, version: str, *, monthly: bool = False, seed: int = 0, marker: dict | None = None) -> Path:
    """A demo root as rhbench writes it: data files, ``truth.json``, then the marker (last)."""
    folder = cache / f"demo-{version}-2deg-{'monthly' if monthly else 'annual'}-seed{seed}"
    (folder / "obs").mkdir(parents=True)
    (folder / "obs" / "rh.nc").write_bytes(b"CDF\x01 demo")
    (folder / democache.TRUTH_NAME).write_text("{}")
    meta = {"rhbench_version": version, "demo_format": 7, "resolution": 2.0, "monthly": monthly, "seed": seed}
    (folder / "demo.json").write_text(json.dumps(meta if marker is None else marker))
    return folder


def _later(path: Path) -> None:
    """Give ``path`` a modification time well after the marker's (a user's edit)."""
    stamp = time.time() + 60
    os.utime(path, (stamp, stamp))


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def test_only_earlier_versions_demo_roots_that_rhbench_wrote_are_removed(cache):
    current = _demo(cache, __version__)
    old = _demo(cache, "0.0.1")
    old_monthly = _demo(cache, "0.0.2", monthly=True, seed=3)
    edited = _demo(cache, "0.0.3")
    (edited / "obs" / "my-notes.txt").write_text("mine")
    _later(edited / "obs" / "my-notes.txt")
    unmarked = cache / "demo-0.0.4-2deg-annual-seed0"
    (unmarked / "obs").mkdir(parents=True)
    foreign = _demo(cache, "0.0.5", marker={"rhbench_version": "9.9", "demo_format": 7, "monthly": False, "seed": 0})
    linked = _demo(cache, "0.0.6")
    (linked / "elsewhere").symlink_to(cache.parent)
    other = cache / "demo-notes"
    other.mkdir()
    (cache / "demo-0.0.7-2deg-annual-seed0").symlink_to(old_monthly)
    removed = democache.prune(current, cache)
    assert sorted(removed) == sorted([old, old_monthly])
    assert not old.exists() and not old_monthly.exists()
    for kept in (current, edited, unmarked, foreign, linked, other):
        assert kept.is_dir(), kept
    assert (edited / "obs" / "my-notes.txt").read_text() == "mine"


def test_a_folder_a_run_is_reading_is_kept(cache):
    current, old = _demo(cache, __version__), _demo(cache, "0.0.1")
    with democache.holding(old):
        assert democache.prune(current, cache) == [] and (old / "demo.json").is_file()
    assert democache.prune(current, cache) == [old] and not old.exists()


def test_the_folder_in_use_is_never_removed_even_when_named_for_another_version(cache):
    """A user pointing ``data_root`` at an old demo folder in the cache keeps it."""
    old = _demo(cache, "0.0.1")
    assert democache.prune(old, cache) == [] and old.is_dir()


def test_a_run_on_the_cached_demo_prunes_the_earlier_ones_and_holds_its_own(tmp_path, monkeypatch):
    """``rhbench run`` on the demo (prepare_demo) prunes; its own root is held while it runs."""
    from rhbench.commands import run as run_command
    from rhbench.config import RunConfig

    cache = tmp_path / "cache"
    monkeypatch.setenv("RHBENCH_CACHE", str(cache))
    old = _demo(cache, "0.0.1")
    current = democache.demo_root(2.0, False, 0)
    current.mkdir(parents=True)
    monkeypatch.setattr("rhbench.demo.demo_is_current", lambda *a, **k: True)
    config = RunConfig(data_root=None, out=tmp_path / "out", resolution=2.0, demo=True)
    assert run_command.prepare_demo(config, registry=None) == current
    assert not old.exists() and current.is_dir()
