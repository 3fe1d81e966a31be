"""Find the upscaling's inputs among the registered plugins: predictor stack, land fraction,
site table, and the data versions that label the product.

Used by ``rhbench upscale`` and by the run's reference stage. :func:`provenance` labels a
product REAL, UNVERIFIED or SYNTHETIC by the one rule (:func:`rhbench.datalabel.decide`),
from its inputs (never from the data root's name or marker). No plugin is named here:
a ``predictors`` plugin whose layers go beyond the demo's ``tas``/``pr`` climate grids is
a *stack*; a ``landfrac`` plugin gives the land fraction; a ``sites`` plugin the site table.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import xarray as xr

from rhbench import catalog, datalabel, loader
from rhbench.errors import DataError, RhbenchError
from rhbench.fileops import sha256_of
from rhbench.registry import Registry
from rhbench.sources import Source
from rhbench.upscaling.stack import PredictorStack, load_stack, stack_from_grids

logger = logging.getLogger(__name__)

#: Variables of the demo's climate-only predictors (not a full stack).
CLIMATE_ONLY = frozenset({"tas", "pr", "landCoverFrac"})


def stack_sources(registry: Registry) -> list[Source]:
    """``predictors`` sources that provide more than climate grids (real stacks)."""
    return [s for s in registry.of_kind("predictors") if set(s.variables) - CLIMATE_ONLY]


def _first_file(source: Source, root: Path) -> Path | None:
    try:
        entry = catalog.entry_for(source)
        path = catalog.resolve_file(root, next(iter(entry.files.values())), source=source.name)
    except (RhbenchError, StopIteration):
        return None
    return path if path.is_file() else None


def source_files(source: Source, root: Path) -> list[Path]:
    """Every file ``source``'s catalog entry names, resolved under the data root."""
    entry = catalog.entry_for(source)
    return [catalog.resolve_file(root, rel, source=source.name) for rel in entry.files.values()]


def _first_present(sources: Sequence[Source], root: Path | None) -> tuple[Source, Path] | None:
    """The first of ``sources`` whose file is present under the data root, with its path."""
    if root is None:
        return None
    for source in sources:
        path = _first_file(source, root)
        if path is not None:
            return source, path
    return None


def fetched_stack(registry: Registry, root: Path | None) -> tuple[Source, Path] | None:
    """The first stack source whose file is present under the data root, with its path."""
    return _first_present(stack_sources(registry), root)


def fetched_sites(registry: Registry, root: Path | None) -> Path | None:
    """The first ``sites`` source's table under the data root, when present."""
    found = _first_present(registry.of_kind("sites"), root)
    return found[1] if found else None


def _land_fraction_source(registry: Registry, root: Path | None, path: Path | None) -> tuple[Source, Path] | None:
    """The ``landfrac`` source and file :func:`land_fraction` reads: ``path`` (read with the
    first ``landfrac`` source's declaration), else the first such source with a file under
    the data root."""
    sources = registry.of_kind("landfrac")
    if path is not None:
        return (sources[0], Path(path)) if sources else None
    return _first_present(sources, root)


def land_fraction_file(registry: Registry, root: Path | None, path: Path | None = None) -> Path | None:
    """The land-fraction file :func:`land_fraction` reads: ``path``, else the first
    ``landfrac`` source's file under the data root, else None."""
    found = _land_fraction_source(registry, root, path)
    return found[1] if found else None


def land_fraction(registry: Registry, root: Path | None, path: Path | None = None) -> tuple[xr.DataArray | None, str]:
    """Land fraction (0-1) from ``path`` or the first ``landfrac`` source under the data root,
    read with that source's own declaration, and a note naming it; ``(None, reason)`` when
    there is none."""
    found = _land_fraction_source(registry, root, path)
    if found is None:
        return None, "no land fraction found: every valid cell counted fully"
    source, file = found
    data = loader.open_variable(source, "sftlf", file).compute()
    return data, f"{source.name} ({file.name}, sha256 {sha256_of(file)})"


def open_predictors(registry: Registry, path: Path) -> PredictorStack:
    """A predictor file given on the command line, as a stack.

    A file with ``tas``, ``pr`` and ``vegclass`` is the demo's grid format; otherwise the
    stack plugin whose declared file variables are all in the file reads it (its
    preprocess repairs its quirks).

    Raises
    ------
    DataError
        When the file is missing, unreadable, or matches no predictors plugin.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("predictors file not found", file=str(path))
    try:
        with xr.open_dataset(path, engine="netcdf4") as probe:
            names = set(map(str, probe.variables))
            if {"tas", "pr", "vegclass"} <= names:
                return stack_from_grids(probe.load())
    except (OSError, ValueError) as err:
        raise DataError(
            "predictors file is not readable netCDF", file=str(path), found=str(err), expected="netCDF"
        ) from err
    for source in stack_sources(registry):
        if {spec.file_name for spec in source.variables.values()} <= names:
            logger.info("reading %s as %s (%s)", path, source.name, source.citation)
            return load_stack(source, path)
    raise DataError(
        "predictors file matches no predictors plugin",
        file=str(path),
        found=sorted(names)[:20],
        expected=[f"{s.name}: {sorted(v.file_name for v in s.variables.values())}" for s in stack_sources(registry)]
        + ["demo grids: tas, pr, vegclass"],
    )


def marked_synthetic(path: Path) -> bool:
    """True when the data file ``path`` says it is synthetic: its global attribute ``synthetic``
    is true (every file ``rhbench demo`` writes carries ``synthetic = 1``). A file that cannot
    be opened is not marked (reading it later fails with its own error)."""
    return stated_label(path) == datalabel.SYNTHETIC


def stated_label(path: Path) -> str:
    """The label the data file ``path`` states of itself (one open): ``SYNTHETIC`` when its
    global attribute ``synthetic`` is true, else its attribute ``data_label`` when that is
    ``UNVERIFIED`` (an ``rh_rf.nc`` of ``rhbench upscale`` carries one), else "" (nothing
    stated, or a file that cannot be opened: reading it later fails with its own error)."""
    try:
        with loader.open_dataset(Path(path)) as ds:
            return datalabel.stated_by(ds.attrs)
    except (RhbenchError, OSError, ValueError):
        return ""


def table_marked_synthetic(path: Path) -> bool:
    """True when the site table ``path`` says it is synthetic: a ``synthetic`` column true on
    any row (the demo's table carries one; a CSV has no global attributes)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            if "synthetic" not in next(csv.reader(handle), []):
                return False
        flags = pd.read_csv(path, usecols=["synthetic"], dtype=str, encoding_errors="replace")["synthetic"]
    except (OSError, ValueError, csv.Error):
        return False
    return bool(flags.fillna("").str.strip().str.lower().isin(datalabel.TRUE_WORDS).any())


def provenance(
    registry: Registry, srdb: Path, stack: PredictorStack | None, predictor_files: Sequence[Path] = ()
) -> dict[str, str | bool]:
    """Data versions and the label (:func:`rhbench.datalabel.decide`) of an upscaling: used by
    ``rhbench upscale`` and by a run's reference stage, decided from the inputs alone.

    SYNTHETIC when an input says so: the site table (a true ``synthetic`` column), the stack
    (its provenance) or a file in ``predictor_files`` (global attribute ``synthetic``).
    Else UNVERIFIED when the site table is not a pinned release (its SHA-256 is not a
    ``sites`` entry's ``sha256``: a CSV carries no other provenance) or a file in
    ``predictor_files`` (the stack, the land fraction) is not (its SHA-256 is no
    ``predictors``/``landfrac`` entry's: a regridded, flipped or edited copy of the real
    stack is not the pinned data). Else REAL, whatever the data root is called.
    Without a stack (CV report on site columns) the site table alone decides.

    Returns ``srdb_version``, ``srdb_checksum``, ``data_label``, ``synthetic`` (the label is
    SYNTHETIC) and ``data_label_reason`` (why the label, for the product and the log).
    """
    info: dict[str, str | bool] = dict(srdb_versions(registry, Path(srdb)))
    synthetic, unverified = [], []
    if table_marked_synthetic(Path(srdb)):
        synthetic.append(f"site table {Path(srdb).name} is marked synthetic (its synthetic column)")
    elif info["srdb_checksum"] != "pinned":
        unverified.append(f"site table {Path(srdb).name} is not a pinned release (SHA-256 differs)")
    marked = [Path(p).name for p in predictor_files if marked_synthetic(Path(p))]
    if marked or (stack is not None and stack.synthetic):
        synthetic.append(f"predictor grids are synthetic ({', '.join(marked) or stack.provenance.get('source', '')})")
    pinned = pinned_digests(registry)
    unpinned = [Path(p).name for p in predictor_files if Path(p).name not in marked and sha256_of(p) not in pinned]
    if unpinned:
        unverified.append(f"grid file(s) {', '.join(unpinned)} not a pinned release (SHA-256 differs)")
    real = "pinned site table" + (" and real predictor grids" if stack is not None else " (no predictor grids)")
    label, reason = datalabel.decide(synthetic, unverified, real)
    info.update(data_label=label, synthetic=label == datalabel.SYNTHETIC, data_label_reason=reason)
    if label != datalabel.REAL:
        logger.info("upscaling labelled %s: %s", label, reason)
    return info


def pinned_digests(registry: Registry) -> frozenset[str]:
    """SHA-256 (lower case) of every pinned ``predictors`` and ``landfrac`` catalog file."""
    digests = set()
    for source in [*registry.of_kind("predictors"), *registry.of_kind("landfrac")]:
        try:
            digest = str(catalog.entry_for(source).metadata.get("sha256", "")).lower()
        except RhbenchError:
            continue
        if digest:
            digests.add(digest)
    return frozenset(digests)


def srdb_versions(registry: Registry, path: Path) -> dict[str, str]:
    """``srdb_version`` of a site table: the catalog version when its SHA-256 is the pinned one."""
    digest = sha256_of(Path(path))
    for source in registry.of_kind("sites"):
        meta = catalog.entry_for(source).metadata
        if str(meta.get("sha256", "")).lower() == digest:
            return {"srdb_version": f"{source.name} {meta.get('version', '')}".strip(), "srdb_checksum": "pinned"}
    return {"srdb_version": "unknown (SHA-256 not a pinned release)", "srdb_checksum": "not pinned"}


def build_from_stack(
    registry: Registry,
    root: Path,
    srdb: Path,
    found: tuple[Source, Path],
    out: Path,
    *,
    classes: xr.DataArray | None,
    quick: bool,
    seed: int,
) -> None:
    """A run's reference built into ``out`` from the site table ``srdb`` and the stack ``found``
    (source, file), with the ``landfrac`` source's land fraction (:func:`rhbench.upscaling.product.run_upscaling`)."""
    from rhbench.upscaling.product import run_upscaling

    fraction, note = land_fraction(registry, root)
    stack = load_stack(*found)
    grid_files = [found[1]] + ([land_fraction_file(registry, root)] if fraction is not None else [])
    versions = provenance(registry, srdb, stack, grid_files)  # REAL or SYNTHETIC: the one rule
    run_upscaling(
        srdb,
        out,
        stack=stack,
        land_fraction=fraction,
        land_fraction_note=note,
        classes=classes,
        versions=versions,
        quick=quick,
        seed=seed,
    )
