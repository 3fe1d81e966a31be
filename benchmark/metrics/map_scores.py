"""Scores of one period-mean map against the reference's: Taylor statistics and ilamb3's scores
(rows of :mod:`rhbench.metrics.suite`; units of the maps, scores in 1)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from rhbench.metrics import ilamb
from rhbench.metrics.definitions import TAYLOR_STATISTICS
from rhbench.metrics.reference import Reference
from rhbench.metrics.rows import row
from rhbench.metrics.taylor import taylor_statistics, taylor_statistics_values
from rhbench.metrics.totals import grid_values
from rhbench.results import ScoreRow

#: Reason of the skipped ilamb3 RMSE rows: the suite scores period-mean maps (the reference file
#: may well have years, e.g. Tang2020's 1982-2016).
PERIOD_MEAN_RMSE = (
    "ilamb3's RMSE score needs time series of at least 24 steps; rhbench scores period-mean maps "
    "(the reference and every source averaged over the benchmark period first), so it is not computed"
)
#: Taylor statistic of the table -> key of :func:`rhbench.metrics.taylor.taylor_statistics`.
_TAYLOR_KEYS = {"sd": "sd_model"}


def taylor_rows(
    source: str, kind: str, prefix: str, reference_map: xr.DataArray, model_map: xr.DataArray, ref: Reference
) -> list[ScoreRow]:
    """The Taylor statistics of ``model_map`` against ``reference_map`` over the vegetated cells (units of the maps)."""
    veg = ref.vegetated_mask
    try:  # two (lat, lon) maps on the reference's grid (the suite's): on numpy arrays, the same operations
        if reference_map.dims != ("lat", "lon"):
            raise ValueError("cells in another order")
        x, y, veg_values, area = grid_values(ref.rh, reference_map, model_map, veg, ref.area)
    except ValueError:
        stats = taylor_statistics(reference_map.where(veg), model_map.where(veg), ref.area)
    else:
        on_veg = veg_values.astype(bool)
        stats = taylor_statistics_values(np.where(on_veg, x, np.nan), np.where(on_veg, y, np.nan), area)
    return [
        row(source, kind, f"{prefix}_taylor_{key}", "global", stats[_TAYLOR_KEYS.get(key, key)])
        for key in TAYLOR_STATISTICS
    ]


def ilamb_rows(
    source: str, kind: str, prefix: str, reference_map: xr.DataArray, model_map: xr.DataArray, ref: Reference
) -> list[ScoreRow]:
    """ilamb3's four scores of one variable over the land cells both maps cover (1)."""
    scores, reasons = ilamb.ilamb_scores(reference_map, model_map, ref.area)
    if "rmse_score" in reasons and "year" not in reference_map.dims:  # what the suite passes: period means
        reasons["rmse_score"] = PERIOD_MEAN_RMSE
    rows = []
    for metric in ilamb.metric_names(prefix):
        score = metric[len(prefix) + 1 :]
        rows.append(
            ScoreRow(source, kind, metric, "global", "1", float("nan"), status="skipped", reason=reasons[score])
            if score in reasons
            else row(source, kind, metric, "global", scores[score])
        )
    return rows
