"""The SYNTHETIC demo roots in the cache: named by settings, held while a run reads one, old ones pruned.

``rhbench run`` with no data root writes the demo once into the cache
(:func:`rhbench.fileops.cache_dir`), in a folder named by rhbench's version and the settings
(:func:`demo_root`). Every version bump leaves the previous version's folder behind (the
seventh audit's W7-4: they piled up). :func:`prune` removes them, and nothing else:

- only cache folders named like a demo root (``demo-VERSION-RESdeg-FREQ-seedN``) of an
  *earlier* version, never the one in use, never a link;
- only when rhbench wrote the folder: its marker (``demo.json``) is a regular file, a JSON
  object naming the folder's version, frequency and seed, beside the demo's ``truth.json``;
  nothing in it is a link; and no file in it was changed after the marker (the demo writes
  the marker last), so a file a user put there keeps the whole folder;
- only when no run holds it: a run reading a demo root holds a shared lock on its
  :data:`LOCK_NAME` (:func:`holding`); the pruner takes the exclusive lock without waiting
  and keeps the folder when it cannot (runs of rhbench versions before this module take no
  lock).

What is kept is logged with the reason; a folder that cannot be removed is warned about,
never an error: pruning never fails a run.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from rhbench import __version__
from rhbench.fileops import cache_dir
from rhbench.ownership import holds_marker

log = logging.getLogger(__name__)

#: The empty file a run reading a demo root holds a shared lock on (:func:`holding`).
LOCK_NAME = ".rhbench-demo.lock"
#: The demo's record of its true fields, written beside the marker (:mod:`rhbench.demo`).
TRUTH_NAME = "truth.json"
#: A demo root's folder name (:func:`demo_root`).
NAME = re.compile(r"^demo-(?P<version>.+)-(?P<resolution>[0-9.]+)deg-(?P<freq>annual|monthly)-seed(?P<seed>-?\d+)$")
#: Seconds a file may be newer than the marker and still count as the demo's own (file-system clocks).
MTIME_SLACK = 2.0


def demo_root(resolution: float, monthly: bool, seed: int = 0) -> Path:
    """The cache folder of the SYNTHETIC demo ensemble for these settings (the seed included)."""
    suffix = "monthly" if monthly else "annual"
    return cache_dir() / f"demo-{__version__}-{resolution:g}deg-{suffix}-seed{seed}"


@contextlib.contextmanager
def holding(root: Path) -> Iterator[None]:
    """Hold a shared lock on ``root``'s :data:`LOCK_NAME` while a run reads the demo in ``root``,
    so that :func:`prune` (of a newer rhbench) keeps it. The lock file stays (empty)."""
    with open(Path(root) / LOCK_NAME, "a+") as handle:  # noqa: PTH123 - the lock lives as long as the handle
        fcntl.flock(handle, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prune(keep: Path, cache: Path | None = None) -> list[Path]:
    """Remove the demo roots of earlier rhbench versions from ``cache`` (default: the cache
    folder) that rhbench wrote and no run holds (module doc); never ``keep``. Returns what was
    removed."""
    cache = Path(cache) if cache is not None else cache_dir()
    removed = []
    try:
        children = sorted(cache.iterdir())
    except OSError:
        return removed
    for child in children:
        match = NAME.match(child.name)
        if match is None or match["version"] == __version__ or child.is_symlink() or not child.is_dir():
            continue
        if not earlier(match["version"]):  # a newer rhbench's demo (review 4: it was removed too)
            log.info("kept %s: not of an earlier rhbench version than %s", child, __version__)
            continue
        if child.resolve() == Path(keep).resolve():
            continue
        why = not_ours(child, match)
        if why is None:
            why = _remove_unless_held(child)
        if why is None:
            removed.append(child)
            log.info("removed the demo of rhbench %s from the cache: %s", match["version"], child)
        else:
            log.info("kept %s: %s", child, why)
    return removed


def _release(version: str) -> tuple[int, ...] | None:
    """The release numbers of ``version`` (``0.1.0`` -> (0, 1, 0)); None unless it is such numbers
    (a pre-, post- or dev-release suffix, or anything else, cannot be ordered here)."""
    return tuple(int(part) for part in version.split(".")) if re.fullmatch(r"\d+(\.\d+)*", version) else None


def earlier(version: str, current: str = __version__) -> bool:
    """True when rhbench ``version`` is certainly earlier than ``current`` (both plain release
    numbers, compared as numbers: 0.9.0 < 0.10.0); a version that cannot be ordered is not."""
    found, now = _release(version), _release(current)
    if found is None or now is None:
        return False
    width = max(len(found), len(now))
    return found + (0,) * (width - len(found)) < now + (0,) * (width - len(now))


def not_ours(folder: Path, match: re.Match) -> str | None:
    """Why ``folder`` (named ``match`` by :data:`NAME`) may hold something rhbench did not write, or None."""
    from rhbench.results import SYNTHETIC_MARKER  # xarray: not imported with the CLI (rhbench.importcost)

    marker = folder / SYNTHETIC_MARKER
    if not holds_marker(folder, SYNTHETIC_MARKER, links=False) or not (folder / TRUTH_NAME).is_file():
        return f"no demo marker ({SYNTHETIC_MARKER}, {TRUTH_NAME}) of rhbench's"
    try:
        meta = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"its marker is unreadable ({exc})"
    expected = {"rhbench_version": match["version"], "monthly": match["freq"] == "monthly", "seed": int(match["seed"])}
    if not isinstance(meta, dict) or any(meta.get(k) != v for k, v in expected.items()) or "demo_format" not in meta:
        return f"its marker does not describe this folder (expected {expected})"
    written = marker.stat().st_mtime + MTIME_SLACK
    for where, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            path = Path(where) / name
            if path.is_symlink():
                return f"it holds a link ({path})"
            if name != LOCK_NAME and path.is_file() and path.stat().st_mtime > written:
                return f"it holds a file changed after the demo was written ({path})"
    return None


def _remove_unless_held(folder: Path) -> str | None:
    """Remove ``folder`` while holding its lock exclusively; the reason it was kept, or None."""
    try:
        with open(folder / LOCK_NAME, "a+") as handle:  # noqa: PTH123
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return "a run is reading it (its lock is held)"
            shutil.rmtree(folder)
    except OSError as exc:
        log.warning("cannot remove the old demo %s from the cache: %s", folder, exc)
        return f"cannot be removed ({exc})"
    return None
