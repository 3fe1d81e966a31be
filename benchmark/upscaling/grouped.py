"""Location-grouped cross-validation: the forest's skill at locations it never saw.

SRDB holds several rows per location (other years, plots or treatments of one study; on
SRDB v5 the 634 product rows come from 285 locations). Rows of one location share their
predictors, so the paper-style CV (:func:`rhbench.upscaling.forest.zone_folds`: folds over
*rows*, stratified by climate zone) scores a held-out row largely by recalling its
location's other rows in training. The map predicts mostly cells without any site, so its
skill far from the sites is better measured with folds that keep every row of one location
in one fold (``StratifiedGroupKFold`` on the climate zone, groups = location).

One place for the definition of a *location* (:func:`location_key`), used by the product
and by the experiments in ``benchmarks/rf_experiments*.py``.

:func:`location_grouped_cv` scores the CHOSEN set-up (the paper-style grid's best ntree x
mtry, same seed): one forest per grouped fold, fitted on the other folds' rows, scored on
the pooled held-out predictions only. It adds no tuning and leaves the product (the
paper-style fold forests) untouched.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from rhbench.upscaling.forest import cv_scores, ensemble_predictions, fit_forest

logger = logging.getLogger(__name__)

#: A location is a site's (latitude, longitude) rounded to this many decimals (1e-4 degree, ~11 m).
LOCATION_DECIMALS = 4
#: Columns of a site table naming a location (``by="location"``) or its predictor cell (``by="cell"``).
KEY_COLUMNS = {"location": ("Latitude", "Longitude"), "cell": ("cell_lat", "cell_lon")}


def location_key(sites: pd.DataFrame, by: str = "location") -> pd.Series:
    """One label per site location: ``"lat|lon"`` in degrees rounded to 1e-4 degree; with
    ``by="cell"``, per predictor cell (the cell centre each site takes its predictors from)."""
    if by not in KEY_COLUMNS:
        raise ValueError(f"location_key: by must be one of {sorted(KEY_COLUMNS)}, got {by!r}")
    lat, lon = KEY_COLUMNS[by]
    # + 0.0 makes a rounded -0.0 (e.g. -0.00001 degree) the 0.0 of its neighbour across the equator or meridian
    rounded = [(sites[name].round(LOCATION_DECIMALS) + 0.0).astype(str) for name in (lat, lon)]
    return rounded[0] + "|" + rounded[1]


def grouped_folds(zones: np.ndarray, groups: np.ndarray, n_splits: int, seed: int) -> np.ndarray:
    """Fold number (0..n_splits-1) of every row: stratified on the climate zone, every
    group's rows (one location, or one cell) in one fold (``StratifiedGroupKFold``,
    shuffled with ``seed``). Needs at least ``n_splits`` groups (sklearn raises otherwise)."""
    zones = np.asarray(zones)
    folds = np.empty(len(zones), dtype=int)
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # a zone smaller than the folds: zone_folds warns in rhbench's words
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        for k, (_, test) in enumerate(splitter.split(np.zeros(len(zones)), zones, np.asarray(groups))):
            folds[test] = k
    return folds


@dataclass
class GroupedCV:
    """Outcome of :func:`location_grouped_cv`.

    ``scores``: r2 (squared Pearson r), nse, rmse (g C m-2 yr-1) of the pooled held-out
    predictions, or None each when there are fewer locations than folds (``note`` says
    so); ``oof``: held-out predictions (g C m-2 yr-1, NaN when skipped); ``fold``: grouped
    fold of each row (-1 when skipped); ``location``: :func:`location_key` of each row.
    """

    scores: dict[str, float | None]
    n_locations: int
    n_splits: int
    oof: np.ndarray
    fold: np.ndarray
    location: np.ndarray
    note: str


def location_grouped_cv(
    X: pd.DataFrame, y: np.ndarray, sites: pd.DataFrame, best: dict[str, int], n_splits: int, seed: int
) -> GroupedCV:
    """Location-grouped ``n_splits``-fold CV of one forest configuration.

    Parameters
    ----------
    X: predictors, one row per site row (as for :func:`forest.tune_forest`).
    y: observed Rh, g C m-2 yr-1.
    sites: the site table aligned with ``X`` (``Latitude``, ``Longitude`` in degrees, ``zone``).
    best: ``n_estimators`` and ``max_features`` (the paper-style grid's choice).
    n_splits: number of folds; seed: seed of the fold split; fold k's forest uses ``seed + k``
        (as in :func:`forest.tune_forest`).
    """
    y = np.asarray(y, dtype=float)
    location = location_key(sites).to_numpy()
    n_locations = int(pd.unique(location).size)
    if n_locations < n_splits:
        note = f"not computed: {n_locations} locations, fewer than the {n_splits} folds"
        logger.warning("location-grouped CV %s", note)
        empty = {"r2": None, "nse": None, "rmse": None}
        return GroupedCV(empty, n_locations, n_splits, np.full(len(y), np.nan), np.full(len(y), -1), location, note)
    folds = grouped_folds(sites["zone"].to_numpy(), location, n_splits, seed)
    mtry = min(best["max_features"], X.shape[1])  # as fit_forest takes it
    oof = np.empty(len(y))
    for k in range(n_splits):
        test = folds == k
        model = fit_forest(X[~test], y[~test], best, seed + k)
        oof[test] = ensemble_predictions([model], X[test])[0]  # trees averaged in a fixed order
    note = (
        f"zone-stratified {n_splits}-fold CV with every row of one location (lat, lon to 1e-4 deg) in one fold; "
        f"ntree {best['n_estimators']}, mtry {mtry} from the paper-style grid; held-out predictions only"
    )
    # scored (and logged by the product's summary line) from the held-out predictions only
    return GroupedCV(cv_scores(y, oof), n_locations, n_splits, oof, folds, location, note)


def grouped_metrics(result: GroupedCV) -> dict:
    """Flat ``cv_metrics.json`` entries of a :class:`GroupedCV` (``location_grouped_*``)."""
    return {
        "location_grouped_r2": result.scores["r2"],
        "location_grouped_nse": result.scores["nse"],
        "location_grouped_rmse": result.scores["rmse"],
        "location_grouped_n_locations": result.n_locations,
        "location_grouped_n_splits": result.n_splits,
        "location_grouped_cv": result.note,
    }
