"""What a run writes into its output folder: scorecard, results.nc, run.json, index.html.

Claiming, locking and staging the folder is :mod:`rhbench.outdir` (re-exported here).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import platform
from dataclasses import asdict
from pathlib import Path

from rhbench import __version__, catalog
from rhbench.fileops import file_checksum, write_text_atomic
from rhbench.outdir import claim_output_dir, staging_dir
from rhbench.registry import Registry
from rhbench.report.cfnetcdf import write_results_nc
from rhbench.report.cmec import write_cmec
from rhbench.report.html import write_index_html
from rhbench.report.tables import read_scorecard, write_scorecard
from rhbench.results import Results

log = logging.getLogger(__name__)

__all__ = ["claim_output_dir", "staging_dir", "write_all", "file_checksum"]

RESULTS_NC = "results.nc"
RUN_JSON = "run.json"


def _inputs(registry: Registry, data_root: Path) -> dict[str, dict[str, str]]:
    inputs: dict[str, dict[str, str]] = {}
    for name, source in sorted(registry.sources.items()):
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
            inputs.setdefault(name, {})[variable] = file_checksum(path) if path.is_file() else "missing"
    return inputs


def metric_definitions() -> dict[str, str]:
    """Metric name -> one-line definition, for the CMEC bundle."""
    from rhbench.metrics.definitions import definitions

    return definitions()


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
