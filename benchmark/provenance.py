"""``run.json``: the provenance record of a run (versions, settings, plugins, input checksums, failures)."""

from __future__ import annotations

import datetime as dt
import json
import platform
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from rhbench import __version__, catalog
from rhbench.fileops import file_checksum, prefetch_checksums, write_text_atomic
from rhbench.registry import Registry
from rhbench.report import manifest
from rhbench.results import Results, RunRecord

if TYPE_CHECKING:
    from rhbench.config import RunConfig

RUN_JSON = manifest.RUN_JSON  # one of the gated outputs


def input_files(registry: Registry, data_root: Path) -> dict[str, dict[str, list[Path] | str]]:
    """Source -> variable -> its input file(s), or the error (a broken catalog entry, an escaping path).

    A source that lists its own files (CMIP6 models found by :mod:`rhbench.cmip6`, one or
    several period files per variable) has no catalog entry: its list is used, as the loader
    does (:func:`rhbench.harmonize.source_files`).
    """
    inputs: dict[str, dict[str, list[Path] | str]] = {}
    for name, source in sorted(registry.sources.items()):
        if source.files is not None:
            inputs[name] = {v: [Path(p) for p in source.files[v]] for v in source.variables if v in source.files}
            continue
        try:
            files = catalog.entry_for(source).files
        except Exception as exc:  # a broken catalog entry is recorded, not fatal here
            inputs[name] = {"error": str(exc)}
            continue
        for variable, relative in files.items():
            try:
                path = catalog.resolve_file(data_root, relative, source=name, variable=variable)
            except Exception as exc:  # an escaping path is recorded, never hashed
                inputs.setdefault(name, {})[variable] = f"error: {exc}"
                continue
            inputs.setdefault(name, {})[variable] = [path]
    return inputs


def input_checksums(registry: Registry, data_root: Path) -> dict[str, dict[str, str | list[str]]]:
    """:func:`checksums_of` the run's :func:`input_files`."""
    return checksums_of(input_files(registry, data_root))


def checksums_of(files_of: dict[str, dict[str, list[Path] | str]]) -> dict[str, dict[str, str | list[str]]]:
    """Source -> variable -> checksum of its file (:func:`rhbench.fileops.file_checksum`), ``missing``
    or the error, for :func:`input_files`' answer; a list of checksums, in time order, for a
    variable read from several files."""
    inputs: dict[str, dict[str, str | list[str]]] = {}
    for name, files in files_of.items():
        for variable, paths in files.items():
            if isinstance(paths, str):
                inputs.setdefault(name, {})[variable] = paths
                continue
            sums = [file_checksum(path) if path.is_file() else "missing" for path in paths]
            inputs.setdefault(name, {})[variable] = sums[0] if len(sums) == 1 else sums
    return inputs


def prefetch_input_checksums(registry: Registry, data_root: Path) -> dict[str, dict[str, list[Path] | str]]:
    """Resolve the run's :func:`input_files` and start hashing them in the background
    (:func:`rhbench.fileops.prefetch_checksums`); returns the files (for run.json and the data
    label, :func:`rhbench.outputs.write_all`: resolved once per run)."""
    files_of = input_files(registry, data_root)
    paths = [p for files in files_of.values() for v in files.values() if not isinstance(v, str) for p in v]
    prefetch_checksums([p for p in paths if p.is_file()])
    return files_of


def record(
    results: Results,
    *,
    registry: Registry,
    config: RunConfig,
    data_root: Path,
    files: dict[str, dict[str, list[Path] | str]],
    synthetic: bool,
    seconds: float,
) -> dict:
    """The provenance of a run as a JSON-ready mapping (``files``: the run's
    :func:`input_files`, hashed; ``seconds``: wall time so far)."""
    return {
        "rhbench_version": __version__,
        "python": platform.python_version(),
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "synthetic": synthetic,
        "data_root": str(data_root),
        "seconds": round(seconds, 2),
        "config": {k: _jsonable(v) for k, v in asdict(config).items()},
        "plugins": {
            name: {"kind": s.kind, "package": registry.packages.get(name, ""), "citation": s.citation}
            for name, s in sorted(registry.sources.items())
        },
        "broken_plugins": [asdict(b) for b in registry.broken],
        "failures": results.failures,
        "inputs": checksums_of(files),
    }


def write_run(run: RunRecord) -> None:
    """Writer of ``run.json``."""
    write_text_atomic(run.staging / RUN_JSON, json.dumps(run.provenance, indent=2, default=str))


def _jsonable(value: object) -> object:
    """A config value for JSON: paths as text, also inside tuples (e.g. ``cmip6`` folders)."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value
