"""What data every source expects: file paths, variable names and units, presence, hashes, how to get it.

:func:`inventory` answers, per source and variable, the questions a user of a new data root
asks: where must the file be, what must it hold (the variable name inside the file and its
declared units), is it there, does it hold that variable, does its hash match the catalog
pin, and what exact command (or instruction) gets it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from rhbench import catalog, fileops, varnames
from rhbench.errors import DataError, MissingVariableError, RhbenchError
from rhbench.fetch import download_specs, hash_matches, not_downloadable_reason
from rhbench.readers.geotiff import is_geotiff
from rhbench.registry import Registry
from rhbench.sources import Source, Var

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExpectedFile:
    """One file a source expects under the data root.

    Attributes
    ----------
    source, kind, variable: the source, its kind and the canonical variable the file gives.
    path: full path where rhbench looks for the file.
    file_variable: the variable name the file must hold (for a GeoTIFF, which names no
        variables: its band, e.g. ``band 1 (GeoTIFF; read as SOCS)``); units: its declared units.
    present: the file exists.
    found_units: the ``units`` attribute of ``file_variable`` in a present netCDF file;
        None when absent, not netCDF, the variable has no units or cannot be found (see
        ``problem``).
    verified: the file's hash matches the catalog pin (None when there is no pin or no file).
    fetchable: the catalog pins a public download for it.
    get: the exact command to fetch it, or what to do instead.
    problem: why a present netCDF file cannot give ``file_variable`` ("missing variable",
        or "ambiguous variable: RH, Rh differ only in case"); "" when it can.
    """

    source: str
    kind: str
    variable: str
    path: str
    file_variable: str
    units: str
    present: bool
    found_units: str | None
    verified: bool | None
    fetchable: bool
    get: str
    problem: str = ""

    def to_dict(self) -> dict:
        """A JSON-ready mapping."""
        return asdict(self)


#: How a file that a source family discovered is obtained.
DISCOVERED = "discovered CMIP6 file (--cmip6 / config cmip6): not fetched by rhbench"


def _header_units(path: Path, name: str) -> tuple[str | None, str]:
    """(the units attribute of ``name`` in a netCDF file or None, the problem finding it or "").

    The name is looked up as the loader does (:func:`rhbench.varnames.find_variable`: ``RH``
    is read as ``rh``); the problem is "missing variable", or "ambiguous variable: ..." for
    several names differing only in case.
    """
    if path.suffix not in (".nc", ".nc4") or not path.is_file():
        return None, ""
    import netCDF4  # deferred: listing must not pay for it when no file is present

    try:
        with netCDF4.Dataset(path) as nc:
            try:
                found = varnames.find_variable(nc.variables, name, file=str(path))
            except MissingVariableError as exc:
                return None, f"ambiguous variable: {', '.join(exc.found)} differ only in case"
            if found is None:
                return None, "missing variable"
            return str(getattr(nc.variables[found], "units", "")) or None, ""
    except OSError as exc:
        log.warning("cannot read the header of %s: %s", path, exc)
        return None, ""


def _fetch_command(source: str, data_root: Path, ilamb_root: Path | None) -> str:
    command = f"rhbench fetch {source} --dest {data_root}"
    return f"{command} --ilamb-root {ilamb_root}" if ilamb_root else command


def inventory(
    registry: Registry, data_root: Path, *, ilamb_root: Path | None = None, verify: bool = True
) -> list[ExpectedFile]:
    """Every file every registered source expects, in source then variable order.

    Parameters
    ----------
    registry: the plugins found.
    data_root: the data root the catalog paths are relative to.
    ilamb_root: the ILAMB data folder for ``ILAMB/`` paths (default ``<data root>/ILAMB``).
    verify: hash present files that have a catalog pin (reads them whole).
    """
    rows: list[ExpectedFile] = []
    for name, source in sorted(registry.sources.items()):
        if source.files is not None:
            rows += _family_rows(source)
            continue
        try:
            entry = catalog.entry_for(source)
        except RhbenchError as exc:
            log.warning("%s: catalog entry unusable: %s", name, exc)
            continue
        try:
            pins = {spec.variable: spec for spec in download_specs(source)}
            why_not = ""
        except RhbenchError:
            pins, why_not = {}, not_downloadable_reason(entry.metadata)
        for variable, spec in sorted(source.variables.items()):
            try:
                path = catalog.resolve_file(data_root, entry.files[variable], source=name, ilamb_root=ilamb_root)
            except DataError as exc:  # a looping link: this row says so, the listing goes on
                path, unusable = Path(data_root) / str(entry.files[variable]), f"unusable path: {exc.message}"
            else:
                unusable = _broken_link(path)
            # a file holding several variables is pinned once: its pin covers all of them
            same_file = (p for p in pins.values() if p.relative_path == entry.files[variable])
            pin = pins.get(variable) or next(same_file, None)
            present = not unusable and path.is_file()
            verified = hash_matches(path, pin.known_hash) if (pin and present and verify) else None
            get = unusable or (_fetch_command(name, data_root, ilamb_root) if pin else f"not fetchable: {why_not}")
            rows.append(_file_row(source, variable, spec, path, verified=verified, fetchable=pin is not None, get=get))
    return rows


def _broken_link(path: Path) -> str:
    """What to do when ``path`` or a folder above it is a symbolic link to nothing, else ""."""
    link = fileops.broken_link(path)
    if link is None:
        return ""
    return fileops.broken_link_message(link)


def _file_row(
    source: Source, variable: str, spec: Var, path: Path, *, verified: bool | None, fetchable: bool, get: str
) -> ExpectedFile:
    """The row of one expected file: whether it is present and, if so, the units its header gives."""
    present = path.is_file()  # False for a looping or broken link too
    file_variable = f"band 1 (GeoTIFF; read as {spec.file_name})" if is_geotiff(path) else spec.file_name
    found_units, problem = _header_units(path, spec.file_name) if present else (None, "")
    return ExpectedFile(
        source=source.name,
        kind=source.kind,
        variable=variable,
        path=str(path),
        file_variable=file_variable,
        units=spec.units,
        present=present,
        found_units=found_units,
        verified=verified,
        fetchable=fetchable,
        get=get,
        problem=problem,
    )


def _family_rows(source) -> list[ExpectedFile]:
    """The files a source family (e.g. a discovered CMIP6 model) found: one row per file."""
    rows = []
    for variable, spec in sorted(source.variables.items()):
        for path in map(Path, source.files.get(variable, ())):
            rows.append(_file_row(source, variable, spec, path, verified=None, fetchable=False, get=DISCOVERED))
    return rows
