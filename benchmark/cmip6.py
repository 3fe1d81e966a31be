"""The CMIP6 source family: every model found in a folder or an intake-esm catalog becomes a source.

Point rhbench at a folder of CMOR-named files (the CMIP6 DRS tree
``<activity>/<institution>/<source_id>/<experiment>/<member>/<table>/<variable>/<grid>/<version>/``
or all files in one flat folder) or at an intake-esm catalog (an ESM-collection JSON file and
its CSV), and each (source_id, member) found is one source named ``source_id.member``
(e.g. ``CanESM5.r1i1p1f1``), with no plugin to write. File names follow CMOR:
``{variable}_{table}_{source_id}_{experiment}_{member}_{grid}[_{period}].nc``.

Per source and variable: the table is chosen by :data:`TABLE_PREFERENCE` (monthly land
first), the grid label ``gn`` (native) before others, the newest DRS version; several
period files are concatenated in time by the loader (a gap or an overlap is an error
naming both files). Without ``cSoil``, ``cSoilPools`` summed over its pools is cSoil.
``fx`` files ``sftlf`` (%) and ``areacella`` (m2) of the same grid become the source's cell
measures (:mod:`rhbench.landfrac`). A model-member with several
experiments yields one source per experiment, named ``source_id.member.experiment``.

Why the catalog is read with pandas and not with the ``intake-esm`` package: rhbench only
needs the file list of the ESM-collection specification (the JSON's ``catalog_file`` and
``assets.column_name``, the CSV's ``source_id``, ``member_id``, ``experiment_id``,
``table_id``, ``variable_id``, ``grid_label``, ``version`` columns); intake-esm would add
33 packages (polars, pyarrow, zarr, kerchunk, bokeh, a web server) to every install.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from rhbench.errors import CatalogError, ConfigError
from rhbench.registry import Registry
from rhbench.sources import TRENDY_UNITS, Source, Var

if TYPE_CHECKING:
    import argparse

log = logging.getLogger(__name__)

#: CMOR file names; ``period`` is absent for fx files.
FILENAME = re.compile(
    r"^(?P<variable_id>[A-Za-z0-9]+)_(?P<table_id>[A-Za-z0-9]+)_(?P<source_id>[A-Za-z0-9-]+)_"
    r"(?P<experiment_id>[A-Za-z0-9-]+)_(?P<member_id>[A-Za-z0-9-]+)_(?P<grid_label>g[a-z0-9]+)"
    r"(?:_(?P<period>\d{4,14}-\d{4,14}))?\.nc$"
)
#: CMIP6 variables rhbench benchmarks, with their CMOR units (TRENDY uses the same names and units).
VARIABLES: dict[str, str] = dict(TRENDY_UNITS)
#: Other variables a caller may ask for (the reader does not care which variable it reads).
EXTRA_VARIABLES: dict[str, str] = {"gpp": "kg m-2 s-1"}
#: Cell measures (fx files) and their CMOR units.
MEASURES: dict[str, str] = {"sftlf": "%", "areacella": "m2"}
#: Tables tried in order for a variable (monthly land, then other monthly, then yearly).
TABLE_PREFERENCE = ("Lmon", "Emon", "Amon", "Eyr", "Lyr", "Oyr", "fx")
#: CMIP6 variables close to a benchmarked one but another quantity: never read in its place; a model
#: that has one and lacks the benchmarked variable is told so (its rows needing it are skipped).
NOT_THE_SAME: dict[str, dict[str, str]] = {
    "cSoil": {"cSoilAbove1m": "soil carbon in the top 1 m only; cSoil is the whole soil column"},
}
CATALOG_NAME = "cmip6"


@dataclass(frozen=True)
class CmorFile:
    """One file and the DRS facets of its name (and version, from the path or the catalog)."""

    path: Path
    variable_id: str
    table_id: str
    source_id: str
    experiment_id: str
    member_id: str
    grid_label: str
    version: str = ""


def parse(path: Path, version: str = "") -> CmorFile | None:
    """The facets of a CMOR file name, or None when the name is not CMOR's."""
    match = FILENAME.match(Path(path).name)
    if match is None:
        return None
    facets = {k: v for k, v in match.groupdict().items() if k != "period"}
    if not version:
        version = next((part for part in reversed(Path(path).parts[:-1]) if re.fullmatch(r"v\d{8}", part)), "")
    return CmorFile(Path(path), version=version, **facets)


def scan_folder(folder: Path) -> list[CmorFile]:
    """Every CMOR-named ``.nc`` file under ``folder`` (DRS tree or flat; links are not followed)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError("CMIP6 folder not found", file=str(folder), expected="a folder of CMOR-named files")
    found = []
    for root, _, names in os.walk(folder, followlinks=False):
        for name in sorted(names):
            parsed = parse(Path(root) / name)
            if parsed is not None:
                found.append(parsed)
            elif name.endswith(".nc"):
                log.info("not a CMOR file name, ignored: %s", Path(root) / name)
    return found


def scan_catalog(json_path: Path) -> list[CmorFile]:
    """The files of an intake-esm catalog (ESM-collection JSON + CSV), read with pandas.

    Raises :class:`CatalogError` naming the file when the JSON or CSV is unreadable or
    lacks the path column or a facet column.
    """
    json_path = Path(json_path)
    try:
        spec = json.loads(json_path.read_text(encoding="utf-8"))
        csv = Path(spec["catalog_file"])
        column = spec["assets"]["column_name"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CatalogError(
            f"not an ESM-collection catalog ({type(exc).__name__}: {exc})",
            file=str(json_path),
            expected="JSON with catalog_file and assets.column_name",
        ) from exc
    csv = csv if csv.is_absolute() else json_path.parent / csv
    needed = ["source_id", "experiment_id", "member_id", "table_id", "variable_id", "grid_label"]
    try:
        table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise CatalogError(f"cannot read the catalog CSV: {exc}", file=str(csv)) from exc
    missing = [c for c in [column, *needed] if c not in table.columns]
    if missing:
        raise CatalogError("catalog CSV lacks columns", file=str(csv), found=list(table.columns), expected=missing)
    files = []
    for row in table.to_dict("records"):
        path = Path(row[column])
        path = path if path.is_absolute() else csv.parent / path
        files.append(CmorFile(path, version=row.get("version", ""), **{k: row[k] for k in needed}))
    return files


def _choose(files: list[CmorFile]) -> list[Path]:
    """One variable's files: preferred table, then grid ``gn``, then the newest version."""

    def rank(f: CmorFile) -> tuple:
        table = TABLE_PREFERENCE.index(f.table_id) if f.table_id in TABLE_PREFERENCE else len(TABLE_PREFERENCE)
        return (table, f.grid_label != "gn", f.grid_label)

    best = min(files, key=rank)
    same = [f for f in files if rank(f) == rank(best)]
    newest = max(f.version for f in same)
    return sorted(f.path for f in same if f.version == newest)


def _soil_pools(members: list[CmorFile], chosen: dict[str, tuple[Path, ...]]) -> dict[str, str]:
    """Without ``cSoil``, its pools: ``cSoilPools`` (kg m-2 per pool; CMIP6 defines cSoil as
    their sum, which the loader takes over the pool dimension). Adds it to ``chosen`` as
    ``cSoil`` and returns the file variable name to read, ``{"cSoil": "cSoilPools"}``."""
    pools = [f for f in members if f.variable_id == "cSoilPools" and f.table_id != "fx"]
    if "cSoil" in chosen or not pools:
        return {}
    chosen["cSoil"] = tuple(_choose(pools))
    log.info("%s: no cSoil file; cSoil is the sum of cSoilPools over its pools", pools[0].source_id)
    return {"cSoil": "cSoilPools"}


def _say_not_the_same(members: list[CmorFile], chosen: dict[str, tuple[Path, ...]], wanted: tuple[str, ...]) -> None:
    """Warn when a model lacks a benchmarked variable but has a :data:`NOT_THE_SAME` one (e.g.
    cSoilAbove1m without cSoil): it is not read in its place, and the rows needing it are skipped."""
    for name, others in NOT_THE_SAME.items():
        found = [f for f in members if f.variable_id in others] if name in wanted and name not in chosen else []
        for f in found[:1]:
            log.warning(
                "CMIP6 %s %s %s: no %s file; %s (%s: %s) is NOT read as %s: the rows needing %s are skipped",
                *(f.source_id, f.member_id, f.experiment_id, name, f.variable_id, f.path.name),
                others[f.variable_id],
                name,
                name,
            )


def _stated_version(path: Path) -> str:
    """The ``version`` global attribute CMOR writes (``v20191115``) of a file outside a DRS
    tree; '' when absent or unreadable (the file's own errors are reported when it is read)."""
    from rhbench.readers import netcdf

    try:
        with netcdf.open_stored(path) as ds:
            version = str(getattr(ds, "version", ""))
    except (OSError, RuntimeError, ValueError):
        return ""
    return version if re.fullmatch(r"v\d{8}", version) else ""


def _versions(members: list[CmorFile], chosen: dict[str, tuple[Path, ...]]) -> str:
    """The DRS version(s) of the chosen files (from the DRS path or catalog, else the file's
    ``version`` attribute), for the citation: ``, version v20191115``, each variable's when they
    differ, ``, DRS version unknown`` when none says."""
    of = {f.path: f.version or _stated_version(f.path) for f in members if any(f.path in p for p in chosen.values())}
    versions = {name: sorted({of.get(path, "") for path in paths}) for name, paths in chosen.items()}
    distinct = sorted({v for vs in versions.values() for v in vs})
    if distinct == [""]:
        return ", DRS version unknown"
    if len(distinct) == 1:
        return f", version {distinct[0]}"
    return ", versions " + ", ".join(f"{name} {'/'.join(v) or 'unknown'}" for name, v in sorted(versions.items()))


def sources(files: list[CmorFile], *, variables: tuple[str, ...] | None = None, kind: str = "dgvm") -> list[Source]:
    """One :class:`Source` per (source_id, member[, experiment]) holding any of ``variables``.

    ``variables`` defaults to :data:`VARIABLES`; cell measures (:data:`MEASURES`) on the
    grid of the chosen variables are added when present.
    """
    wanted = tuple(variables or VARIABLES)
    units = {**VARIABLES, **EXTRA_VARIABLES}
    groups: dict[tuple[str, str, str], list[CmorFile]] = defaultdict(list)
    for f in files:
        groups[(f.source_id, f.member_id, f.experiment_id)].append(f)
    experiments = defaultdict(set)
    for model, member, experiment in groups:
        experiments[(model, member)].add(experiment)
    found = []
    for (model, member, experiment), members in sorted(groups.items()):
        chosen = {}
        for name in wanted:
            of_variable = [f for f in members if f.variable_id == name and f.table_id != "fx"]
            if of_variable:
                chosen[name] = tuple(_choose(of_variable))
        file_names = _soil_pools(members, chosen) if "cSoil" in wanted else {}
        _say_not_the_same(members, chosen, wanted)
        if not chosen:
            found_vars = sorted({f.variable_id for f in members})
            log.warning(
                "CMIP6 %s %s %s: no variable rhbench benchmarks (%s); found only %s: not benchmarked",
                *(model, member, experiment),
                ", ".join(wanted),
                ", ".join(found_vars),
            )
            continue
        grids = {parse(paths[0]).grid_label if parse(paths[0]) else "" for paths in chosen.values()}
        for name in MEASURES:
            fixed = [f for f in members if f.variable_id == name and (f.grid_label in grids or not grids)]
            if fixed:
                chosen[name] = tuple(_choose(fixed)[:1])
        name = f"{model}.{member}" if len(experiments[(model, member)]) == 1 else f"{model}.{member}.{experiment}"
        found.append(
            Source(
                name=name,
                kind=kind,
                catalog_entry=f"{CATALOG_NAME}.{name}",
                variables={v: Var(file_names.get(v, v), units.get(v) or MEASURES[v]) for v in chosen},
                citation=f"CMIP6 {model} {experiment} {member}{_versions(members, chosen)} "
                "(CC BY 4.0; cite the model's ES-DOC/CMIP6 dataset)",
                files=chosen,
            )
        )
    return found


def discover(location: Path, *, variables: tuple[str, ...] | None = None) -> list[Source]:
    """The sources of a CMIP6 folder (DRS or flat) or of an intake-esm catalog JSON file."""
    location = Path(location)
    files = scan_catalog(location) if location.suffix == ".json" else scan_folder(location)
    found = sources(files, variables=variables)
    log.info("CMIP6 %s: %d file(s), sources %s", location, len(files), [s.name for s in found])
    return found


def register(registry: Registry, locations: list[Path] | tuple[Path, ...]) -> list[Source]:
    """Add the sources of each CMIP6 folder or catalog to ``registry`` (kind ``dgvm``).

    A name a plugin already declares keeps the plugin's source (the discovered one is
    logged and skipped). Returns the sources added.
    """
    added = []
    for location in locations:
        for source in discover(Path(location)):
            if source.name in registry.sources:
                log.warning("CMIP6 source %s from %s clashes with a plugin's source: skipped", source.name, location)
                continue
            registry.sources[source.name] = source
            registry.packages[source.name] = f"CMIP6 files ({location})"
            added.append(source)
    return added


def protected_inputs(locations: list[Path] | tuple[Path, ...], found: list[Source]) -> dict[str, Path]:
    """Label -> path of every CMIP6 input a run must never write into or delete: each folder or
    catalog JSON given, and the folder of every file of the ``found`` sources (a catalog's files
    may lie anywhere; a file that is a symbolic link protects the folder of its target too).
    For :func:`rhbench.outdir.refuse_overlap`."""
    inputs = {f"CMIP6 folder or catalog #{i}": Path(location) for i, location in enumerate(locations, 1)}
    files = [Path(p) for source in found for paths in (source.files or {}).values() for p in paths]
    folders = sorted({f.parent for f in files} | {f.resolve().parent for f in files})
    inputs.update({f"folder of CMIP6 model files #{i}": folder for i, folder in enumerate(folders, 1)})
    return inputs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config`` and ``--cmip6 PATH`` (repeatable) on a listing command (``plugins``, ``data``)."""
    parser.add_argument("--config", type=Path, help="TOML run configuration: its cmip6 and data_root keys")
    parser.add_argument(
        "--cmip6",
        action="append",
        metavar="PATH",
        help="CMIP6 folder or intake-esm catalog JSON whose models are listed as sources (repeatable)",
    )


def registry_for(args: argparse.Namespace) -> tuple[Registry, str | None]:
    """The plugins plus the CMIP6 sources of ``args.config``'s ``cmip6`` and ``--cmip6`` (a listing's view
    of what a run would discover), and the config's ``data_root`` (or None)."""
    from rhbench.config import load_config  # config is a leaf the CLI loads; imported when listing
    from rhbench.registry import build_registry

    config = load_config(args.config) if getattr(args, "config", None) else None
    locations = (*(config.cmip6 if config else ()), *(Path(p).expanduser().resolve() for p in args.cmip6 or ()))
    registry = build_registry()
    register(registry, locations)
    return registry, str(config.data_root) if config and config.data_root else None
