"""Orders-of-magnitude plausibility of results: implausible numbers become failed rows.

A units error (a file in g m-2 d-1 read as kg m-2 s-1, a missing ``units`` attribute) does
not crash anything: it produces a global Rh of 4e9 Pg C yr-1 or a turnover time of 1e-6
yr. Such a number must never reach a scorecard as ``ok``. :func:`enforce_plausibility`
checks each source's global rows against :data:`PLAUSIBLE_GLOBAL` and, when one is out of
range or a global total is exactly zero (the field is all zero), fails **every** ``ok``
row of that source: all of them derive from the same suspect fields.

A field that is all zero (:func:`zero_fields`, e.g. a cSoil written as zeros) fails its
source before any metric is computed; a global total of exactly zero fails it afterwards.

The ranges are deliberately wide (orders of magnitude around the observed values: global
Rh about 40-70 Pg C yr-1, tau_soil about 20-60 yr); they catch units errors, not biases.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from rhbench.results import ScoreRow


@dataclass(frozen=True)
class PlausibleRange:
    """Closed range ``[low, high]`` of a global row's value, in ``units``."""

    low: float
    high: float
    units: str


#: Plausible ranges of global rows (metric name -> range). Only ``global``-region rows are
#: checked: a latitude band or a rare vegetation class can legitimately hold tiny totals.
PLAUSIBLE_GLOBAL: dict[str, PlausibleRange] = {
    "rh_global": PlausibleRange(1.0, 1000.0, "Pg C yr-1"),
    "csoil_global": PlausibleRange(10.0, 100_000.0, "Pg C"),  # observed ~1500-3000 (incl. litter)
    "cveg_global": PlausibleRange(1.0, 10_000.0, "Pg C"),  # observed ~450-650
    "tau_soil_global": PlausibleRange(0.1, 10_000.0, "yr"),
    "tau_veg_global": PlausibleRange(0.1, 10_000.0, "yr"),
}
#: Global totals that are zero only when the field is zero everywhere on land.
TOTALS_NONZERO = ("rh_global", "csoil_global", "cveg_global")


def implausible_reason(row: ScoreRow) -> str | None:
    """Why an ``ok`` global row is implausible, or None when it is plausible (or not checked)."""
    if row.status != "ok" or row.region != "global" or not isinstance(row.value, int | float):
        return None
    value = float(row.value)
    if row.metric in TOTALS_NONZERO and value == 0.0:
        return f"{row.metric} is exactly 0 {row.units}: the field is all zero over land"
    bounds = PLAUSIBLE_GLOBAL.get(row.metric)
    if bounds is None or (math.isfinite(value) and bounds.low <= value <= bounds.high):
        return None
    return (
        f"implausible {row.metric} = {value:.4g} {row.units}, expected {bounds.low:g}..{bounds.high:g} "
        f"{bounds.units} (likely a units error: check the units attribute of the source's files, listed with "
        "their units by `rhbench data`, against the units its plugin declares)"
    )


def enforce_plausibility(rows: Iterable[ScoreRow]) -> tuple[list[ScoreRow], dict[str, str]]:
    """Fail every ``ok`` row of each source that has an implausible global row.

    Returns
    -------
    rows: the same rows, in order; those of a suspect source are ``failed`` with NaN value
        and a reason naming the implausible number.
    failures: source name -> reason, for each source failed here (for the run's exit code).
    """
    rows = list(rows)
    suspect: dict[str, str] = {}
    for row in rows:
        reason = implausible_reason(row)
        if reason is not None and row.source not in suspect:
            suspect[row.source] = reason
    checked = []
    for row in rows:
        if row.source in suspect and row.status == "ok":
            reason = f"{suspect[row.source]}; every number of this source is suspect"
            row = replace(row, value=math.nan, status="failed", reason=reason)
        checked.append(row)
    return checked, suspect


def zero_fields(fields: Mapping[str, object]) -> list[str]:
    """Names of the fields (arrays of any kind) whose valid values are all exactly zero.

    A field with no valid value at all is not listed (that is another error, raised at load).
    """
    zero = []
    for name, field in fields.items():
        values = np.asarray(getattr(field, "values", field), dtype=float)
        valid = values[np.isfinite(values)]
        if valid.size and not np.any(valid):
            zero.append(name)
    return zero


def zero_fields_reason(fields: Mapping[str, object]) -> str | None:
    """Why a source with all-zero fields fails, or None when none is all zero."""
    names = zero_fields(fields)
    if not names:
        return None
    return f"field(s) {', '.join(names)} are zero everywhere (a broken file or a units error); expected non-zero values"
