"""A reference Rh that cannot be used: the run goes on without it.

One broken source never sinks a run nor changes another source's numbers. A reference
whose inputs are present but unusable (a corrupt SRDB table, an unreadable predictor
stack, a broken product file) is recorded as the reference's failure (a failed ``load``
row naming the file, the variable, what was found and what was expected; exit 3), its map
is all missing, and every row that needs it fails with that reason
(:func:`fail_rows_needing_it`), while the rows each model computes on its own (totals,
turnover times, regional means on its own grid) keep their numbers. A run with no
reference at all (its file and, for a product rhbench builds, the site table absent) is
still a configuration error (exit 2, nothing written).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import xarray as xr

from rhbench import catalog
from rhbench.errors import ConfigError, DataError, RhbenchError
from rhbench.registry import Registry
from rhbench.results import REFERENCE_RH, Failures, ScoreRow
from rhbench.sources import Source

log = logging.getLogger(__name__)

#: The start of the reason of every row that failed because the reference did.
NEEDS_REFERENCE = "needs the reference Rh, which failed"


def refuse_absent(source: Source, registry: Registry, root: Path) -> None:
    """Raise :class:`ConfigError` when the run has no reference at all: its file is absent
    and, for a product rhbench builds (``built_by: upscaling``), so is the site table."""
    if source.files is not None:
        return
    entry = catalog.entry_for(source)
    product = catalog.resolve_file(root, entry.files["rh"], source=source.name)
    if product.exists():
        return
    sites = registry.of_kind("sites") if entry.built_by == "upscaling" else []
    table = catalog.resolve_file(root, catalog.entry_for(sites[0]).files["rh"], source=sites[0].name) if sites else None
    if table is None or not table.exists():
        raise ConfigError(
            "no reference Rh in the data root",
            source=source.name,
            file=str(table or product),
            found="no such file",
            expected="the reference's file, or the site table it is built from (rhbench fetch srdb)",
        )


def record(
    exc: Exception, source: Source, target: xr.Dataset, failures: Failures, *, partial: Path | None = None
) -> tuple[xr.DataArray, str]:
    """Record the reference's failure; return an all-missing Rh map on ``target`` and the reason.
    ``partial``: the folder this run was building the reference in (removed: no half product)."""
    if partial is not None:
        shutil.rmtree(partial, ignore_errors=True)
    error = (
        exc if isinstance(exc, RhbenchError) else DataError(f"cannot read the reference ({type(exc).__name__}: {exc})")
    )
    reason = str(error.add_context(source=source.name))
    log.error("the reference Rh %s is unusable; the rows that need it fail: %s", source.name, reason)
    failures.record(source.name, reason)
    return xr.full_like(target["lat"] * target["lon"], np.nan, dtype="float64").rename("rh"), reason


def fail_rows_needing_it(rows: list[ScoreRow], reason: str) -> list[ScoreRow]:
    """``rows`` with every ``ok`` or ``skipped`` row that needs the failed reference ``failed``
    with ``reason``.

    A row needs it when it was built from the reference Rh (:data:`rhbench.results.REFERENCE_RH`
    in its :attr:`~rhbench.results.ScoreRow.needs`, set where the row is built): the reference's
    own rows, every comparison with it, every value on its land mask and every constraint by
    the observed turnover time. A source's rows computed from its own files (its totals,
    turnover times and regional means on its own grid, its period coverage), rows skipped for
    its own reason (a variable it lacks), rows already failed and ``load`` rows are kept: their
    reasons' wording plays no part.
    """
    why = f"{NEEDS_REFERENCE}: {reason}"

    def needs(r: ScoreRow) -> bool:
        return r.metric != "load" and r.status in ("ok", "skipped") and REFERENCE_RH in r.needs

    return [replace(r, value=float("nan"), status="failed", reason=why) if needs(r) else r for r in rows]
