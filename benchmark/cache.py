"""Cache of each DGVM's reduced products, so a rerun on the same inputs skips reading the model.

A full-size model is ~9 GB of files and takes tens of seconds to read and reduce; what the
benchmarks need of it (:class:`rhbench.reduce.ModelProducts`: period-mean maps and per-class
yearly totals) is a few MB. :func:`load` and :func:`store` keep those products as one small
netCDF file (groups ``period`` and ``totals``) under ``<cache_dir>/products/<key>.nc``
(:func:`rhbench.fileops.cache_dir`, i.e. ``RHBENCH_CACHE``), written atomically (a
temporary file in the same folder, then a rename).

The key (:func:`product_key`) is a SHA-256 over everything the products depend on:

- :data:`CACHE_VERSION` and rhbench's version (the harmonise/reduce code);
- the source descriptor: name, kind, catalog entry, variables (file names, units), quirks,
  period, preprocess function, the plugin package with its version, and the SHA-256 of
  the plugin module's source (and of its preprocess's module): a plugin edited without a
  version bump gets new products;
- every input file: its :func:`rhbench.fileops.file_checksum` (full SHA-256 up to 256 MiB,
  above that the first MiB with size and modification time: reading 9 GB to hash it would
  cost as much as the work the cache saves) plus its size and modification time, so any
  modification, or a mere ``touch``, invalidates the entry;
- the target grid (lat/lon values), the benchmark period and the partition (class names
  and the class index of every cell), and whether the products hold the 2-box totals.

Each entry's SHA-256 is recorded beside it (``<key>.sha256``) and checked on every read:
altered bytes are never served (the entry is dropped and recomputed).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import xarray as xr

from rhbench import __version__, catalog
from rhbench.errors import RhbenchError
from rhbench.fileops import cache_dir, file_checksum, sha256_of, write_atomic, write_text_atomic
from rhbench.hookspecs import PROJECT_NAME
from rhbench.importcost import no_distributed_probe
from rhbench.reduce import ModelProducts, Partition
from rhbench.sources import Source

log = logging.getLogger(__name__)

#: Bump when the content of the cached products changes for the same inputs.
CACHE_VERSION = 25  # 25 (audit 13, B13-24): a unit-less series of implausible magnitude refused (was warned);
# 24 (Review 10, R10-5): a UTC offset after the time units' reference time counted;
# 23 (Review 10, R10-4): a file without units beside files stating others refused;
# 22 (audit 13): files of a series packed or filled each their own way decoded apart (B13-20);
# the time of day of a time units' reference date counted (B13-9); 'ton' refused, was the short ton (B13-1);
# 21 (session 10, Review 9 open item): per-PFT values / max(covered share, the model's land);
# 20 (session 10): per-PFT values per m2 of land (divided by the covered share);
# 19 (audit 12, B12-5): all-zero cells of a model without land fraction missing in its maps;
# 18 (audit 12, A12-4): one lat or lon index beside a global axis refused (was read as degrees);
# 17 (audit 12, B12-5): without a land fraction, cells 0 in every variable and year are not land;
# 16 (audit 12): lat/lon row and column indices without units refused (were read as degrees);
# 15 (Review 8, R8-3): per-month amounts in every spelling pint reads (after 14, below);
# 4: steps labelled by their time bounds; first_year/last_year recorded; 5: 2-box land areas;
# 6: yearly 1 January stamps past the plugin's period decided by evidence; years used = years every variable has;
# 7: the reference-date reading of yearly stamps is stated as an assumption (its note, kept with the products);
# 8: each variable's years recorded (period_years_by_variable); turnover means over common years (rh__tau_soil ...);
# 9: the derived litterfall's own years recorded (a year cVeg lacks costs litterfall the years either side);
# 10: a cLitter not added to cSoil no longer limits tau_soil's common years (rh__tau_soil ...);
# 11: time bounds stating units of their own (xarray's re-write) converted to the time's units;
# 12: cell areas from longitude bounds that wrap across 0/360 taken the short way round (grid.cell_area_from_bounds);
# 13: a series of files one of whose time bounds do not contain their stamps is read by its stamps (Review 7, R7-6)
# 14: fluxes given as amounts per month (g m-2 month-1) divided by each step's own month length (audit 11; the same
# session: vegetation-type dims no longer summed as soil layers, coordinates not in degrees refused)
#: Sub-folder of :func:`rhbench.fileops.cache_dir` holding the products.
FOLDER = "products"
_GROUPS = ("period", "totals", "regions")


def _digest(values: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()


def _file_key(path: Path) -> list:
    stat = path.stat()
    return [str(path), file_checksum(path), stat.st_size, stat.st_mtime_ns]


def _module_files(source: Source) -> list[str]:
    """The modules whose code declares ``source``: its plugin's entry-point module and its preprocess's module."""
    modules = set()
    if source.plugin:
        modules |= {ep.module for ep in entry_points(group=PROJECT_NAME) if ep.name == source.plugin}
    if source.preprocess is not None:
        modules.add(source.preprocess.__module__)
    return sorted(modules)


@lru_cache(maxsize=256)
def _module_hash(module: str) -> str:
    """SHA-256 of a module's source file ("unknown" when it has none, e.g. a built-in)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return "unknown"
    origin = getattr(spec, "origin", None)
    return sha256_of(Path(origin)) if origin and Path(origin).is_file() else "unknown"


def code_fingerprint(source: Source) -> dict[str, str]:
    """Module -> SHA-256 of the source code of the plugin that declares ``source`` (and of its preprocess).

    A plugin edited without a version bump changes its products' key: the cache never
    serves numbers computed by other plugin code.
    """
    return {module: _module_hash(module) for module in _module_files(source)}


def _descriptor(source: Source, package: str) -> dict:
    preprocess = source.preprocess
    return {
        "name": source.name,
        "kind": source.kind,
        "catalog_entry": source.catalog_entry,
        "variables": {name: [var.file_name, var.units] for name, var in sorted(source.variables.items())},
        "quirks": sorted(source.quirks),
        "period": list(source.period) if source.period else None,
        "preprocess": None if preprocess is None else f"{preprocess.__module__}.{preprocess.__qualname__}",
        "plugin": source.plugin,
        "package": package,
        "code": code_fingerprint(source),
        **({"year_stamps": source.year_stamps} if source.year_stamps else {}),
    }


def product_key(
    source: Source,
    files: dict[str, Path],
    *,
    package: str,
    target: xr.Dataset,
    period: tuple[int, int],
    parts: Partition,
    land_mask: xr.DataArray | None = None,
    twobox: bool = True,
) -> str:
    """The cache key of ``source``'s products (hex SHA-256; see the module docstring).

    ``files`` maps each canonical variable to its input file; ``package`` is the plugin's
    distribution and version (``Registry.packages``); ``twobox`` False: products without
    the 2-box totals (:func:`rhbench.reduce.reduce_native`), a key of their own (the keys of
    products with them are those of before). Raises OSError when a file is missing.
    """
    document = {
        "cache_version": CACHE_VERSION,
        "rhbench": __version__,
        "source": _descriptor(source, package),
        "files": {name: _file_key(path) for name, path in sorted(files.items())},
        "grid": [_digest(target["lat"].values.astype("float64")), _digest(target["lon"].values.astype("float64"))],
        "period": list(period),
        "partition": [list(parts.names), _digest(parts.index.astype("int32"))],
        "land_mask": None if land_mask is None else _digest(np.asarray(land_mask.values, dtype="float64")),
    }
    if not twobox:
        document["without_twobox_totals"] = True
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def key_for(
    source: Source,
    root: Path,
    *,
    package: str,
    target: xr.Dataset,
    period: tuple[int, int],
    parts: Partition,
    land_mask: xr.DataArray | None = None,
    twobox: bool = True,
) -> str | None:
    """The cache key of ``source``'s products under data root ``root`` (:func:`product_key`).

    None when its files cannot be fingerprinted (a missing file or a broken catalog entry):
    the uncached path then reports the error.
    """
    try:
        if source.files is not None:  # a source family (CMIP6): each period file is an input
            files = {f"{name}[{i}]": Path(p) for name, paths in source.files.items() for i, p in enumerate(paths)}
        else:
            paths = catalog.declared_paths(source, root)  # None: a broken catalog entry
            if paths is None:
                return None
            files = dict(zip(source.variables, paths, strict=True))
        return product_key(
            source,
            files,
            package=package,
            target=target,
            period=period,
            parts=parts,
            land_mask=land_mask,
            twobox=twobox,
        )
    except (RhbenchError, OSError, KeyError):
        return None


def path_for(key: str) -> Path:
    """The file that holds (or would hold) the products of ``key``."""
    return cache_dir() / FOLDER / f"{key}.nc"


def _checksum_path(path: Path) -> Path:
    return path.with_suffix(".sha256")


def _verified(path: Path) -> bool:
    """True when ``path``'s bytes have the SHA-256 recorded when it was stored; else drop the entry."""
    recorded = _checksum_path(path)
    try:
        ok = recorded.is_file() and recorded.read_text(encoding="ascii").strip() == sha256_of(path)
    except (OSError, UnicodeDecodeError):
        ok = False
    if not ok:
        log.warning("cache entry %s does not match its recorded checksum: ignored, recomputed", path)
        for stale in (path, recorded):
            stale.unlink(missing_ok=True)
    return ok


def load(key: str) -> ModelProducts | None:
    """The cached products of ``key``, or None when absent, altered or unreadable (then recomputed).

    Each entry's bytes are checked against the SHA-256 recorded by :func:`store` before use.
    """
    try:
        path = path_for(key)
    except OSError as exc:  # no usable cache folder (a CacheError names RHBENCH_CACHE): computed, as without
        log.warning("products cache not used: %s", exc)
        return None
    if not path.is_file() or not _verified(path):
        return None
    try:
        datasets = {}
        for group in _GROUPS:
            with xr.open_dataset(path, group=group, engine="netcdf4", decode_times=False, decode_timedelta=False) as ds:
                datasets[group] = ds.load()
    except (OSError, ValueError, KeyError) as exc:
        log.warning("ignoring unreadable cache file %s: %s", path, exc)
        return None
    log.debug("reduced products read from the cache: %s", path)
    regions = datasets["regions"] if datasets["regions"].data_vars else None
    return ModelProducts(period=datasets["period"], totals=datasets["totals"], regions=regions)


def _without_encoding(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` without the encodings inherited from the input files (chunk sizes, dtypes)."""
    ds = ds.copy()
    for var in ds.variables.values():
        var.encoding = {}
    return ds


def store(key: str, products: ModelProducts) -> Path:
    """Write ``products`` under ``key``, atomically; returns the file."""
    path = path_for(key)

    def write_groups(temp: Path) -> None:
        for mode, group in zip(("w", "a", "a"), _GROUPS, strict=True):
            data = getattr(products, group)
            data = xr.Dataset() if data is None else data
            _without_encoding(data).to_netcdf(temp, mode=mode, group=group, engine="netcdf4")

    with no_distributed_probe():  # no client can exist unless dask.distributed was imported
        write_atomic(path, write_groups)
    write_text_atomic(_checksum_path(path), sha256_of(path) + "\n")
    return path
