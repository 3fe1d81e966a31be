"""Cache of the Random Forest Rh reference built from SRDB and a predictor stack (issue 18).

A real run builds its reference (:func:`rhbench.upscaling.product.run_upscaling`: map, SD,
totals, CV metrics, importance, partial dependence, location-grouped CV ...) in ~18-20 s,
although the same inputs and seed give byte-identical files. :func:`restore` and
:func:`store` keep the whole output folder of that build (every file the scorecard,
``results.nc`` and the page read) under ``<cache_dir>/reference/<key>/``
(:func:`rhbench.fileops.cache_dir`, i.e. ``RHBENCH_CACHE``, never inside a run's ``--out``).

The key (:func:`reference_key`) is a SHA-256 over everything the product depends on:

- :data:`rhbench.cache.CACHE_VERSION` and rhbench's version;
- the full SHA-256 of every input file (SRDB table, predictor stack, land fraction) with its role;
- the catalog entries of the sources used (their pinned SHA-256 decide the REAL/UNVERIFIED label);
- the seed, the quick/full tuning choice and both tuning grids;
- the target grid and the vegetation-class map (land cover) given for per-class totals;
- ``SOURCE_DATE_EPOCH``, which dates the map's ``history`` (:func:`rhbench.upscaling.product.history`);
- the SHA-256 of every Python source file of rhbench and of its plugins (:func:`code_fingerprint`):
  edited code (the forest, the loader, cell areas, a plugin's quirks) is never served an old product.

An entry is a folder written under a temporary name, then renamed; its ``manifest.json``
records each file's SHA-256, and the manifest's own SHA-256 is recorded beside the folder
(``<key>.sha256``). Every read checks both: altered bytes are never served (the entry is
dropped with a warning and the reference rebuilt). Only a build that finished is stored.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from rhbench import __version__
from rhbench.cache import CACHE_VERSION
from rhbench.fileops import cache_dir, cache_path, file_checksum, sha256_of, write_text_atomic

if TYPE_CHECKING:
    from rhbench.config import RunConfig
    from rhbench.registry import Registry
    from rhbench.sources import Source

log = logging.getLogger(__name__)

#: Sub-folder of :func:`rhbench.fileops.cache_dir` holding the reference builds.
FOLDER = "reference"
MANIFEST = "manifest.json"
#: Written fresh on every restore (the build's own wall-clock facts are kept in it under ``built``).
RUN_LOG = "run_log.json"


def code_fingerprint() -> dict[str, str]:
    """Relative path -> SHA-256 of every Python source file of rhbench and of its plugins.

    The whole package, not only :mod:`rhbench.upscaling`: the product also depends on how the
    stack is read (the loader, the plugins' quirks), on cell areas and the land fraction
    (totals) and on the labels, so any edited module rebuilds the reference (~1.2 MB hashed,
    a few ms).
    """
    package = Path(__file__).parent
    plugins = Path(importlib.import_module("rhbench.plugins").__file__).parent
    return {
        f"{root.name}/{path.relative_to(root).as_posix()}": sha256_of(path)
        for root in (package, plugins)
        for path in sorted(root.rglob("*.py"))
    }


def _input_sha256(path: Path) -> str:
    """Hex SHA-256 of an input file's full bytes, through :func:`rhbench.fileops.file_checksum` (memoised
    and prefetched for the run's provenance, so a run hashes its SRDB table and stack once); a file over
    :data:`rhbench.fileops.FULL_CHECKSUM_BYTES`, which that function only fingerprints, is hashed whole here."""
    checksum = file_checksum(path)
    return checksum.removeprefix("sha256:") if checksum.startswith("sha256:") else sha256_of(path)


def _digest(values: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()


def reference_key(
    files: dict[str, Path | None],
    *,
    seed: int,
    quick: bool,
    target: xr.Dataset,
    classes: xr.DataArray | None,
    entries: dict[str, dict],
) -> str:
    """Hex SHA-256 key of the reference built from ``files`` (role -> path, None: not used).

    ``entries`` maps each source used to its catalog metadata. Raises OSError when a file
    cannot be read (the uncached build then reports it).
    """
    from rhbench.upscaling.forest import FULL_GRID, QUICK_GRID

    document = {
        "cache_version": CACHE_VERSION,
        "rhbench": __version__,
        "files": {
            role: None if p is None else [Path(p).name, _input_sha256(Path(p))] for role, p in sorted(files.items())
        },
        "catalog": entries,
        "seed": int(seed),
        "quick": bool(quick),
        "grids": {"full": FULL_GRID, "quick": QUICK_GRID},
        "target": [_digest(target["lat"].values.astype("float64")), _digest(target["lon"].values.astype("float64"))],
        "classes": None
        if classes is None
        else [
            _digest(np.asarray(classes.values, dtype="float64")),
            json.dumps(classes.attrs, sort_keys=True, default=str),
        ],
        "code": code_fingerprint(),
        "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH", "").strip(),  # dates the map's history
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def entry_dir(key: str) -> Path:
    """The folder that holds (or would hold) the reference build of ``key``."""
    return cache_dir() / FOLDER / key


def _checksum_path(key: str) -> Path:
    return cache_dir() / FOLDER / f"{key}.sha256"


def _drop(key: str, why: str) -> None:
    log.warning("reference cache entry %s %s: ignored, the reference is rebuilt", entry_dir(key), why)
    shutil.rmtree(entry_dir(key), ignore_errors=True)
    _checksum_path(key).unlink(missing_ok=True)


def _verified_manifest(key: str) -> dict[str, str] | None:
    """The entry's manifest (file -> SHA-256) when it and every file match their checksums; else drop it."""
    folder, recorded = entry_dir(key), _checksum_path(key)
    if not folder.is_dir():
        return None
    try:
        manifest_path = folder / MANIFEST
        if not recorded.is_file() or recorded.read_text(encoding="ascii").strip() != sha256_of(manifest_path):
            _drop(key, "does not match its recorded checksum")
            return None
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        bad = [name for name, digest in manifest.items() if sha256_of(folder / name) != digest]
    except (OSError, UnicodeDecodeError, ValueError, AttributeError) as exc:
        _drop(key, f"is unreadable ({exc})")
        return None
    if bad:
        _drop(key, f"has files that do not match their recorded checksums ({', '.join(sorted(bad))})")
        return None
    return manifest


def restore(key: str, out_dir: Path) -> bool:
    """Copy the cached build of ``key`` into ``out_dir``; False (nothing copied) when absent or altered."""
    start = time.perf_counter()
    manifest = _verified_manifest(key)
    if manifest is None:
        return False
    out_dir.mkdir(parents=True, exist_ok=True)
    folder = entry_dir(key)
    for name in manifest:
        if name != RUN_LOG:
            shutil.copyfile(folder / name, out_dir / name)
    built = json.loads((folder / RUN_LOG).read_text(encoding="utf-8")) if RUN_LOG in manifest else None
    run_log = {
        "rhbench_version": __version__,
        "seconds": time.perf_counter() - start,
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "from_cache": key,
        "built": built,
    }
    write_text_atomic(out_dir / RUN_LOG, json.dumps(run_log, indent=2) + "\n")
    return True


def _restored(key: str, out_dir: Path) -> bool:
    """:func:`restore`, False when the entry cannot be read or vanishes while it is copied (another
    run sharing the cache replaced it, or no usable cache folder): ``out_dir`` emptied of what was
    copied, the reference then built."""
    try:
        return restore(key, out_dir)
    except OSError as exc:
        log.warning("reference cache entry %s not used (%s): the reference is built", key, exc)
        if out_dir.is_dir():
            for path in out_dir.iterdir():
                if path.is_file():
                    path.unlink()
        return False


def store(key: str, out_dir: Path) -> Path:
    """Keep every file of the finished build in ``out_dir`` under ``key`` (folder renamed into place)."""
    parent = cache_dir() / FOLDER
    parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=parent))
    try:
        manifest = {}
        for path in sorted(p for p in out_dir.iterdir() if p.is_file()):
            shutil.copyfile(path, temp / path.name)
            manifest[path.name] = sha256_of(temp / path.name)
        (temp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        shutil.rmtree(entry_dir(key), ignore_errors=True)
        _checksum_path(key).unlink(missing_ok=True)
        os.replace(temp, entry_dir(key))
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    write_text_atomic(_checksum_path(key), sha256_of(entry_dir(key) / MANIFEST) + "\n")
    return entry_dir(key)


def cached_build(
    out_dir: Path,
    build: Callable[[], object],
    *,
    use_cache: bool,
    files: dict[str, Path | None],
    entries: dict[str, dict],
    seed: int,
    quick: bool,
    target: xr.Dataset,
    classes: xr.DataArray | None,
) -> None:
    """Fill ``out_dir`` with the reference: from the cache when an entry matches, else by ``build()``
    (then stored; a build that raises stores nothing). ``use_cache`` False: the cache is neither read nor written."""
    key = None
    if use_cache:
        try:
            key = reference_key(files, seed=seed, quick=quick, target=target, classes=classes, entries=entries)
        except OSError as exc:  # the build names the unreadable file
            log.debug("reference not cached: %s", exc)
        if key is not None and _restored(key, out_dir):
            log.info("reference from the cache (key %s)", key)
            return
    build()
    if key is not None:
        try:
            log.info("reference stored in the cache (key %s): %s", key, store(key, out_dir))
        except OSError as exc:  # the built reference is used; never cache_dir() here (it raises again)
            log.warning("could not store the reference in the cache %s: %s", cache_path() / FOLDER, exc)


def run_inputs(
    config: RunConfig,
    registry: Registry,
    root: Path,
    sites: Source,
    found: tuple[Source, Path],
    target: xr.Dataset,
    classes: xr.DataArray | None,
) -> dict[str, object]:
    """The keyword arguments of :func:`cached_build` for a run building its reference from the
    site table of ``sites`` and the stack ``found`` (source, file) under ``root``."""
    from rhbench import catalog
    from rhbench.upscaling import inputs

    srdb = catalog.resolve_file(root, catalog.entry_for(sites).files["rh"], source=sites.name)
    fraction = inputs.land_fraction_file(registry, root)
    used = [sites, found[0]] + [s for s in registry.of_kind("landfrac")]
    return {
        "use_cache": config.use_cache,
        "files": {"sites": srdb, "stack": found[1], "land_fraction": fraction},
        "entries": {s.name: catalog.entry_for(s).metadata for s in used},
        "seed": config.seed,
        "quick": config.quick_upscaling,
        "target": target,
        "classes": classes,
    }
