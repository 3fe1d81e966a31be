"""``cmec.json``: the scorecard as a CMEC metric bundle (the format ILAMB and PMP emit).

The bundle follows the Earth System Metrics and Diagnostics Standards (EMDS, "Common Metric
Output Format"), as implemented by the CMIP Rapid Evaluation Framework's
``climate_ref_core.pycmec.metric.CMECMetric`` (the tests validate against it):

- ``DIMENSIONS.json_structure`` is ``["source", "region", "metric"]``; each dimension lists
  its values: ``source`` with its kind, ``region`` with a long name, ``metric`` with its
  ``units`` and ``definition`` (one-line formula or meaning).
- ``RESULTS[source][region][metric]`` is the value in the metric's units, or null when the
  row is not ``ok``; every source holds every region (possibly empty), as the standard
  requires; ``attributes`` at a (source, region) level give status and reason of the rows
  that are not ``ok``.
- ``PROVENANCE`` has the rhbench version, the ``synthetic`` flag, ``data_label`` (REAL,
  UNVERIFIED or SYNTHETIC) and ``data``: the run's data description (:mod:`rhbench.datalabel`:
  reason, SRDB / predictor versions, each observation product's version and SHA-256);
  ``DISCLAIMER`` says what non-REAL numbers are (:func:`rhbench.datalabel.headline`).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

import rhbench
from rhbench import datalabel
from rhbench.errors import ConfigError
from rhbench.fileops import write_text_atomic
from rhbench.report import manifest
from rhbench.results import RunRecord

log = logging.getLogger(__name__)

CMEC_JSON = manifest.CMEC_JSON  # one of the gated outputs
JSON_STRUCTURE = ("source", "region", "metric")


def _metric_dimension(
    frame: pd.DataFrame, definitions: Mapping[str, str], undocumented: str | None
) -> dict[str, dict[str, str]]:
    metrics: dict[str, dict[str, str]] = {}
    missing = sorted(set(frame["metric"].astype(str)) - {m for m, text in definitions.items() if text})
    if missing and undocumented is None:
        raise ConfigError("a metric has no definition for the CMEC bundle", variable=", ".join(missing))
    if missing:
        log.warning("cmec.json: no definition in the metric table for %s", ", ".join(missing))
    for metric, rows in frame.groupby("metric", sort=True):
        units = sorted(set(rows["units"].astype(str)))
        if len(units) != 1:
            raise ConfigError("a metric has rows in several units", variable=str(metric), found=units)
        definition = definitions.get(str(metric)) or str(undocumented)
        metrics[str(metric)] = {"Name": str(metric), "units": units[0], "definition": definition}
    return metrics


def cmec_bundle(
    rows: pd.DataFrame | Iterable[Mapping[str, Any]],
    definitions: Mapping[str, str],
    *,
    synthetic: bool,
    version: str | None = None,
    undocumented: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The CMEC metric bundle of scorecard ``rows`` (see module doc).

    Parameters
    ----------
    rows: score rows with ``source``, ``kind``, ``metric``, ``region``, ``units``,
        ``value``, ``status``, ``reason`` (a scorecard table or dicts).
    definitions: metric name -> one-line definition; every metric in ``rows`` needs one.
    synthetic: True when the numbers come from synthetic data (used when ``data`` is None).
    version: the rhbench version (default: the installed one).
    undocumented: definition text for metrics missing from ``definitions`` (a warning is
        logged); None makes a missing definition an error.
    data: the run's data description (:func:`rhbench.datalabel.describe`), copied into
        ``PROVENANCE``: ``data_label`` (REAL/UNVERIFIED/SYNTHETIC) and ``data`` (reason,
        versions); a label other than REAL adds ``DISCLAIMER`` in the label's words.

    Raises
    ------
    ConfigError: a metric without a definition, or with rows in several units.
    """
    described = datalabel.of(data, synthetic)
    label = str(described["data_label"])
    frame = pd.DataFrame(list(rows) if not isinstance(rows, pd.DataFrame) else rows)
    sources = {str(s): {"kind": str(k)} for s, k in frame[["source", "kind"]].drop_duplicates("source").values}
    regions = {str(r): {"LongName": str(r)} for r in sorted(frame["region"].astype(str).unique())}
    results = _results(frame, sources, regions)
    bundle: dict[str, Any] = {
        "SCHEMA": {"name": "CMEC", "version": "v1", "package": "rhbench"},
        "DIMENSIONS": {
            "json_structure": list(JSON_STRUCTURE),
            "source": sources,
            "region": regions,
            "metric": _metric_dimension(frame, definitions, undocumented),
        },
        "RESULTS": results,
        "PROVENANCE": {
            "rhbench_version": version or rhbench.__version__,
            "synthetic": bool(synthetic),
            "data_label": label,
            **({"data": dict(data)} if data else {}),
        },
    }
    if label != datalabel.REAL:  # e.g. {"synthetic": "SYNTHETIC demo data: not a scientific result"}
        bundle["DISCLAIMER"] = {label.lower(): datalabel.headline(described)}
    return bundle


def _results(frame: pd.DataFrame, sources: Mapping[str, Any], regions: Mapping[str, Any]) -> dict[str, dict[str, dict]]:
    """The bundle's ``RESULTS``: source -> region -> metric -> value (the unit of the row); a row that is
    not ``ok`` or not finite is None, its status and reason under the leaf's ``attributes``."""
    results: dict[str, dict[str, dict[str, Any]]] = {s: {r: {} for r in regions} for s in sources}
    for row in frame.itertuples(index=False):
        leaf = results[str(row.source)][str(row.region)]
        value = None if row.value is None else float(row.value)
        ok = row.status == "ok" and value is not None and math.isfinite(value)
        leaf[str(row.metric)] = value if ok else None
        if not ok:
            leaf.setdefault("attributes", {})[str(row.metric)] = {"status": row.status, "reason": row.reason}
    return results


def write_cmec(
    out_dir: Path,
    rows: pd.DataFrame | Iterable[Mapping[str, Any]],
    definitions: Mapping[str, str],
    *,
    synthetic: bool,
    undocumented: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> Path:
    """Write :func:`cmec_bundle` to ``out_dir/cmec.json`` (atomically) and return its path."""
    path = Path(out_dir) / CMEC_JSON
    bundle = cmec_bundle(rows, definitions, synthetic=synthetic, undocumented=undocumented, data=data)
    write_text_atomic(path, json.dumps(bundle, indent=2, allow_nan=False))
    return path


def write_run(run: RunRecord) -> None:
    """Writer of ``cmec.json`` from the run's scorecard and the metric table (:data:`rhbench.outputs.WRITERS`)."""
    from rhbench.metrics.definitions import definitions
    from rhbench.report.tables import SCORECARD_JSON, read_scorecard

    scorecard = read_scorecard(run.staging / SCORECARD_JSON)
    write_cmec(
        run.staging,
        scorecard,
        definitions(),
        synthetic=run.synthetic,
        data=run.data,
        undocumented="no definition in the metric table yet",
    )
