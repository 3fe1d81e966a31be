"""Score rows of the benchmark metrics: units from the one table, NaN turned into ``skipped`` rows."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import xarray as xr

from rhbench.metrics.definitions import Metric, units
from rhbench.results import ScoreRow

#: Reason of a row whose value could not be defined.
UNDEFINED = "undefined: no valid cells, or a constant field"


def row(source: str, kind: str, metric: str, region: str, value: float) -> ScoreRow:
    """One ``ok`` row, or a ``skipped`` one when ``value`` is not finite."""
    value = float(value)
    if np.isfinite(value):
        return ScoreRow(source, kind, metric, region, units(metric), value)
    return ScoreRow(source, kind, metric, region, units(metric), float("nan"), status="skipped", reason=UNDEFINED)


def status_rows(
    source: str, kind: str, metrics: Iterable[Metric], regions: list[str], status: str, reason: str
) -> list[ScoreRow]:
    """Rows without a value (``failed`` or ``skipped``) for ``metrics`` over their regions.

    ``regions`` lists every region name, ``global`` included; a regional metric gets one row
    per region other than ``global``, any other metric one ``global`` row.
    """
    return [
        ScoreRow(source, kind, metric.name, region, metric.units, float("nan"), status=status, reason=reason)
        for metric in metrics
        for region in ([r for r in regions if r != "global"] if metric.regional else ["global"])
    ]


def regional_rows(source: str, kind: str, metric: str, values: xr.DataArray) -> list[ScoreRow]:
    """One row per region of ``values`` (dim ``region``) other than ``global``.

    A 1-D ``values`` over unique regions is read in one step (the same numbers as selecting
    each region); anything else region by region.
    """
    regions = values["region"].values
    if values.dims != ("region",) or len(set(regions.tolist())) != regions.size:
        return [
            row(source, kind, metric, str(region), float(values.sel(region=region)))
            for region in regions
            if region != "global"
        ]
    numbers = values.values
    return [
        row(source, kind, metric, str(region), float(number))
        for region, number in zip(regions, numbers, strict=True)
        if region != "global"
    ]
