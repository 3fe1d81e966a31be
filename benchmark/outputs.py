"""The output folder of a run: claimed without overwriting, filled in a staging folder, moved into place.

Nothing a user made is overwritten without ``--force``; an interrupted run leaves at most
a hidden ``.NAME.partial-*`` folder, never a partial scorecard in the output folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from rhbench import __version__, catalog
from rhbench.fileops import file_checksum, refuse_to_overwrite, write_text_atomic
from rhbench.registry import Registry
from rhbench.report.cfnetcdf import write_results_nc
from rhbench.report.cmec import write_cmec
from rhbench.report.html import write_index_html
from rhbench.report.tables import read_scorecard, write_scorecard
from rhbench.results import Results

log = logging.getLogger(__name__)

RESULTS_NC = "results.nc"
RUN_JSON = "run.json"


def claim_output_dir(out: Path | None, *, force: bool) -> Path:
    """The folder a run will write: ``out``, or ``./rhbench-out/run-<UTC time>`` when None.

    Raises :class:`OutputExistsError` when ``out`` exists and is not empty, unless ``force``.
    """
    if out is None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return Path("rhbench-out").resolve() / f"run-{stamp}"
    out = Path(out).resolve()
    refuse_to_overwrite(out, force)
    return out


@contextlib.contextmanager
def staging_dir(out_dir: Path) -> Iterator[Path]:
    """A hidden sibling folder to write into; moved onto ``out_dir`` only when the block succeeds."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out_dir.exists():
        retired = out_dir.with_name(f".{out_dir.name}.replaced-{os.getpid()}")
        os.replace(out_dir, retired)
        os.replace(staging, out_dir)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, out_dir)


def _inputs(registry: Registry, data_root: Path) -> dict[str, dict[str, str]]:
    inputs: dict[str, dict[str, str]] = {}
    for name, source in sorted(registry.sources.items()):
        try:
            files = catalog.entry_for(source).files
        except Exception as exc:  # a broken catalog entry is recorded, not fatal here
            inputs[name] = {"error": str(exc)}
            continue
        for variable, relative in files.items():
            path = data_root / relative
            inputs.setdefault(name, {})[variable] = file_checksum(path) if path.is_file() else "missing"
    return inputs


def metric_definitions() -> dict[str, str]:
    """Metric name -> one-line definition, for the CMEC bundle."""
    from rhbench.metrics.suite import METRICS

    return {name: definition for name, (_, definition) in METRICS.items()}


def write_all(
    staging: Path, results: Results, *, registry: Registry, config, data_root: Path, synthetic: bool, seconds: float
) -> None:
    """Write scorecard.json, scores.csv, cmec.json, results.nc, run.json and index.html into ``staging``."""
    config_record = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()}
    provenance = {
        "rhbench_version": __version__,
        "python": platform.python_version(),
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "synthetic": synthetic,
        "data_root": str(data_root),
        "seconds": round(seconds, 2),
        "config": config_record,
        "plugins": {
            name: {"kind": s.kind, "package": registry.packages.get(name, ""), "citation": s.citation}
            for name, s in sorted(registry.sources.items())
        },
        "broken_plugins": [asdict(b) for b in registry.broken],
        "failures": results.failures,
    }
    write_scorecard(results, staging, synthetic=synthetic, meta={"config": config_record})
    write_results_nc(staging / RESULTS_NC, results.datasets, synthetic=synthetic)
    write_cmec(
        staging,
        read_scorecard(staging / "scorecard.json"),
        metric_definitions(),
        synthetic=synthetic,
        undocumented="no definition in the metric table yet",
    )
    provenance["inputs"] = _inputs(registry, data_root)
    write_text_atomic(staging / RUN_JSON, json.dumps(provenance, indent=2, default=str))
    upscaling = staging / "upscaling"
    write_index_html(
        staging,
        read_scorecard(staging / "scorecard.json"),
        results.datasets,
        synthetic=synthetic,
        provenance=provenance,
        upscaling_dir=upscaling if upscaling.is_dir() else None,
    )
