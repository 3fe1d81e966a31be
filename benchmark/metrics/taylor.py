"""Taylor (2001) statistics of a model map against a reference map.

With weights w (cell areas, or all ones) over the cells where both maps are present,
the moments are the weighted population moments::

    mean_x = sum(w x) / sum(w)
    sd_x   = sqrt(sum(w (x - mean_x)^2) / sum(w))
    r      = sum(w (x - mean_x)(y - mean_y)) / sum(w) / (sd_x sd_y)
    crmse  = sqrt(sum(w ((y - mean_y) - (x - mean_x))^2) / sum(w))

so ``crmse^2 = sd_ref^2 + sd_model^2 - 2 sd_ref sd_model r`` holds exactly. The score
is ILAMB's spatial-distribution score, Taylor (2001) eq. 4 with R0 = 1::

    s = sd_model / sd_ref;  score = 4 (1 + r) / (2 (s + 1/s)^2) = 2 (1 + r) / (s + 1/s)^2

which is 1 for identical fields and falls to 0 as r -> -1 or s -> 0 or infinity.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from rhbench.errors import CoordinateError

#: Keys of the dictionary returned by :func:`taylor_statistics`.
TAYLOR_KEYS: tuple[str, ...] = (
    "r",
    "sd_ref",
    "sd_model",
    "crmse",
    "normalized_sd",
    "bias",
    "score",
    "n",
)


def taylor_statistics(
    reference: xr.DataArray, model: xr.DataArray, weights: xr.DataArray | None = None
) -> dict[str, float]:
    """Correlation, standard deviations, centred RMSE, bias and score of ``model``.

    Parameters
    ----------
    reference, model: maps over the same cells (same dims and coordinates), same units.
    weights: per-cell weights (e.g. cell area in m2) or None for equal weights.
        Cells where either map, or the weight, is missing are excluded from everything.

    Returns
    -------
    dict with ``r`` (1), ``sd_ref``, ``sd_model``, ``crmse``, ``bias`` (model minus
    reference mean; all in the maps' units), ``normalized_sd`` (sd_model / sd_ref),
    ``score`` (1; see module doc) and ``n`` (number of cells used). Statistics that are
    undefined (fewer than 2 cells, or a field constant to a relative 1e-12) are NaN.
    """
    try:
        ref, mod = xr.align(reference, model, join="exact")
    except ValueError as err:
        raise CoordinateError(
            "Taylor statistics need two maps on the same grid",
            variable=model.name,
            found=str(err),
            expected="identical coordinates",
        ) from err
    x = np.asarray(ref.values, dtype=float)
    y = np.asarray(mod.transpose(*ref.dims).values, dtype=float)
    if weights is None:
        w = np.ones_like(x)
    else:
        w = np.asarray(weights.broadcast_like(ref).transpose(*ref.dims).values, dtype=float)
    return taylor_statistics_values(x, y, w)


def taylor_statistics_values(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> dict[str, float]:
    """:func:`taylor_statistics` of numpy arrays of one shape (reference ``x``, model ``y``, weights ``w``
    or None for equal weights): the same operations."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=float)
    valid = np.isfinite(x) & np.isfinite(y) & np.isfinite(w) & (w > 0)
    return _weighted_statistics(x[valid], y[valid], w[valid])


def weighted_sd(x: np.ndarray, w: np.ndarray) -> float:
    """``taylor_statistics(x, x, w)["sd_ref"]`` on numpy arrays of one shape (the same operations, bit
    for bit) without the statistics of a second map: the weighted population SD of ``x`` over the
    cells where it and its weight are finite and the weight positive (units of ``x``; NaN without cells)."""
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    valid = np.isfinite(x) & np.isfinite(w) & (w > 0)
    if not valid.any():
        return float("nan")
    w = w[valid]
    return _centred(x[valid], w / w.sum())[2]


def _centred(x: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray, float]:
    """(mean, deviations from it, SD) of ``x`` with weights ``w`` summing to 1."""
    mean = float(np.sum(w * x))
    deviations = x - mean
    return mean, deviations, float(np.sqrt(np.sum(w * deviations**2)))


def _weighted_statistics(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, float]:
    stats = dict.fromkeys(TAYLOR_KEYS, float("nan"))
    stats["n"] = float(x.size)
    if x.size == 0:
        return stats
    w = w / w.sum()
    (mean_x, dx, sd_x), (mean_y, dy, sd_y) = _centred(x, w), _centred(y, w)
    stats.update(
        sd_ref=sd_x,
        sd_model=sd_y,
        bias=mean_y - mean_x,
        crmse=float(np.sqrt(np.sum(w * (dy - dx) ** 2))),
    )
    if x.size < 2 or _is_constant(sd_x, x) or _is_constant(sd_y, y):
        return stats
    r = float(np.clip(np.sum(w * dx * dy) / (sd_x * sd_y), -1.0, 1.0))
    s = sd_y / sd_x
    stats.update(r=r, normalized_sd=s, score=taylor_score(r, s))
    return stats


def _is_constant(sd: float, values: np.ndarray) -> bool:
    """True when the spread is zero up to floating-point noise (relative 1e-12)."""
    return sd <= 1e-12 * float(np.max(np.abs(values)))


def taylor_score(r: float, normalized_sd: float) -> float:
    """ILAMB / Taylor (2001, eq. 4, R0 = 1) score ``2 (1 + r) / (s + 1/s)^2`` (1)."""
    s = normalized_sd
    return 2.0 * (1.0 + r) / (s + 1.0 / s) ** 2
