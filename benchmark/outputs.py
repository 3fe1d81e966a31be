"""What a run writes into its output folder: one writer per output, registered in :data:`WRITERS`.

Claiming, locking and staging the folder is :mod:`rhbench.outdir` (re-exported here).
A writer is a function ``write_run(run: RunRecord) -> None`` (:class:`rhbench.results.RunRecord`:
the staging folder, the results, the provenance record and the SYNTHETIC flag) in its own
module; a new output format is that module plus one line in :data:`WRITERS`. Writers are
imported only when a run writes (the page's matplotlib is not imported by ``--help``).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rhbench import datalabel, provenance
from rhbench.fileops import file_checksum
from rhbench.outdir import claim_output_dir, protected_folders, staging_dir
from rhbench.registry import Registry
from rhbench.report import manifest
from rhbench.results import Results, RunRecord

if TYPE_CHECKING:
    from rhbench.config import RunConfig

log = logging.getLogger(__name__)

__all__ = ["WRITERS", "claim_output_dir", "file_checksum", "protected_folders", "staging_dir", "write_all"]

#: The output writers, ``"module:function"``, in the order they run: scorecard.json +
#: scores.csv, index.html (started: its figures are drawn by the page workers, when they run,
#: while the others write), results.nc (CF), cmec.json, run.json (the page and the CMEC
#: bundle read the scorecard written first). A writer that returns a function has work left:
#: that function is called after every writer has run.
WRITERS: tuple[str, ...] = (
    "rhbench.report.tables:write_run",
    "rhbench.report.html:write_run",
    "rhbench.report.cfnetcdf:write_run",
    "rhbench.report.cmec:write_run",
    "rhbench.provenance:write_run",
)


def writer(spec: str) -> Callable[[RunRecord], Callable[[], object] | None]:
    """The writer function named by ``"module:function"``."""
    module, _, function = spec.partition(":")
    return getattr(importlib.import_module(module), function)


def write_all(
    staging: Path,
    results: Results,
    *,
    registry: Registry,
    config: RunConfig,
    data_root: Path,
    synthetic: bool,
    seconds: float,
    files: dict[str, dict[str, list[Path] | str]] | None = None,
    read: dict[str, list[str | None]] | None = None,
) -> RunRecord:
    """Run every writer of :data:`WRITERS` into ``staging``; returns what they were given.

    ``synthetic``: the data root is the SYNTHETIC demo; ``files``: the run's input files
    (:func:`rhbench.provenance.input_files`, resolved at the start of the run; else here); ``read``:
    the observation products the run read and what their files stated
    (:attr:`rhbench.results.Failures.read`; None: every product present counts). The run's data description
    (:func:`rhbench.datalabel.describe`, ``run.json["data"]``) is built here, once; a run whose
    description is ``SYNTHETIC`` (e.g. real observations with a SYNTHETIC upscaled reference) is
    synthetic for every writer; every writer shows a label other than ``REAL``
    (``run.data["data_label"]``, :func:`rhbench.datalabel.headline`).
    """
    if files is None:  # once: hashed for run.json, read by the data label
        files = provenance.input_files(registry, data_root)
    record = provenance.record(
        results,
        registry=registry,
        config=config,
        data_root=data_root,
        files=files,
        synthetic=synthetic,
        seconds=seconds,
    )
    record["data"] = datalabel.describe(record, files, registry, staging, demo_root=synthetic, read=read)
    synthetic = record["synthetic"] = record["data"]["data_label"] == datalabel.SYNTHETIC
    run = RunRecord(staging, results, record, synthetic)
    unfinished = [finish for spec in WRITERS if callable(finish := writer(spec)(run))]
    for finish in unfinished:
        finish()
    manifest.write_manifest(staging, manifest.gate_key(), manifest.gate_context())  # last: digests, signed with a key
    return run
