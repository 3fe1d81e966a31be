"""ILAMB's standard scores, as ilamb3 (2026.6) computes them: Bias, RMSE, Spatial distribution, Overall.

Read from ilamb3's ``analysis/bias.py``, ``analysis/rmse.py``,
``analysis/spatial_distribution.py`` and ``analysis/base.add_overall_score`` (Collier et al.
2018, J. Adv. Model. Earth Syst. 10, 2731-2754, "Collier2018" method). All scores are
dimensionless, in [0, 1], 1 for a model identical to the reference.

Bias score. Per cell, with r_bar and m_bar the time means of reference and model (the maps
themselves when they have no time axis), u the reference uncertainty (0 when absent) and the
normaliser n = the reference's standard deviation over time when it has more than one time
step, else |r_bar|::

    s_bias = exp(-max(|m_bar - r_bar| - u, 0) / |n|)
    Bias score = sum(a s_bias) / sum(a)   over cells where s_bias is defined, a = cell area

RMSE score (only when reference and model are both time series of at least 24 steps; ilamb3
raises AnalysisNotAppropriate otherwise, and the row is skipped with that reason)::

    crmse = sqrt(mean_t(max(|(m - m_bar) - (r - r_bar)| - u, 0)^2))
    crms  = sqrt(mean_t((r - r_bar)^2))
    s_rmse = exp(-crmse / crms);  RMSE score = area-weighted mean of s_rmse

Spatial distribution score, on the period-mean maps: sigma_r and sigma_m the population
standard deviations (unweighted, each over its own valid cells), R the Pearson correlation
over the cells where both are present (unweighted), s = sigma_m / sigma_r::

    score = 4 (1 + R) / (2 (s + 1/s)^2)

undefined when sigma_r is 0. (rhbench's ``*_taylor_score`` is the same formula with
area-weighted moments; this one follows ilamb3 and weights every cell equally.)

Overall score: the plain mean of the scores above that are defined for the variable
(ilamb3 averages every score row of a confrontation, per source and region).

Time means: ilamb3 weights each time step by its length in days; rhbench's steps are
calendar years, which this module weights equally unless ``time_weights`` is given
(the difference is below 0.3 % of a weight).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import xarray as xr

from rhbench.errors import CoordinateError
from rhbench.metrics.definitions import ILAMB_SCORES
from rhbench.metrics.totals import grid_values

#: ilamb3's RMSE analysis needs at least this many time steps in reference and model.
MIN_RMSE_STEPS = 24
#: Score names in the order ilamb3 reports them.
SCORES: tuple[str, ...] = ILAMB_SCORES


class NotAppropriate(ValueError):
    """A score is not defined for these inputs (ilamb3's AnalysisNotAppropriate); the message says why."""


def _aligned(reference: xr.DataArray, model: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    try:
        return xr.align(reference, model, join="exact")
    except ValueError as err:
        raise CoordinateError(
            "ILAMB scores need reference and model on the same grid",
            variable=str(model.name),
            found=str(err),
            expected="identical coordinates",
        ) from err


def _time_mean(da: xr.DataArray, time_dim: str, weights: xr.DataArray | None) -> xr.DataArray:
    if time_dim not in da.dims:
        return da
    if weights is None:
        return da.mean(time_dim)
    return da.weighted(weights.fillna(0)).mean(time_dim)


def _time_sd(da: xr.DataArray, time_dim: str, weights: xr.DataArray | None) -> xr.DataArray:
    if weights is None:
        return da.std(time_dim, ddof=0)
    return da.weighted(weights.fillna(0)).std(time_dim)


def _area_mean(score: xr.DataArray, area: xr.DataArray) -> float:
    """Area-weighted mean over the cells where ``score`` is finite (NaN when there are none)."""
    weights = area.broadcast_like(score).transpose(*score.dims).values
    return _area_mean_values(score.values, weights)


def _area_mean_values(score: np.ndarray, area: np.ndarray) -> float:
    """:func:`_area_mean` of arrays of one shape."""
    values = np.asarray(score, dtype=float)
    weights = np.asarray(area, dtype=float)
    valid = np.isfinite(values) & np.isfinite(weights) & (weights > 0)
    if not valid.any():
        return float("nan")
    return float(np.sum(values[valid] * weights[valid]) / np.sum(weights[valid]))


def bias_score_map(
    reference: xr.DataArray,
    model: xr.DataArray,
    *,
    time_dim: str = "year",
    uncertainty: xr.DataArray | None = None,
    time_weights: xr.DataArray | None = None,
) -> xr.DataArray:
    """Per-cell ilamb3 bias score ``exp(-max(|m_bar - r_bar| - u, 0) / |n|)`` (1; see module doc).

    ``reference`` and ``model`` are (lat, lon) maps or (time_dim, lat, lon) series in the
    same units; ``uncertainty`` is the reference uncertainty in those units (time-averaged
    when it has a time axis).
    """
    reference, model = _aligned(reference, model)
    ref_mean = _time_mean(reference, time_dim, time_weights)
    mod_mean = _time_mean(model, time_dim, time_weights)
    if time_dim in reference.dims and reference.sizes[time_dim] > 1:
        normaliser = _time_sd(reference, time_dim, time_weights)
    else:
        normaliser = ref_mean
    error = abs(mod_mean - ref_mean)
    if uncertainty is not None:
        error = error - _time_mean(uncertainty, time_dim, time_weights)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.exp(-error.clip(min=0) / abs(normaliser))
    return score.rename("bias_score").assign_attrs(units="1", long_name="ILAMB bias score")


def bias_score(
    reference: xr.DataArray,
    model: xr.DataArray,
    area: xr.DataArray,
    *,
    time_dim: str = "year",
    uncertainty: xr.DataArray | None = None,
    time_weights: xr.DataArray | None = None,
) -> float:
    """ilamb3 Bias score (1): the mean of :func:`bias_score_map` (keywords as there) weighted by
    ``area`` (m2; any consistent unit).

    Two (lat, lon) maps (in that order) and an area on one grid, without uncertainty (the suite's
    period means): the same operations on their numpy arrays (:func:`_map_bias_score`)."""
    plain = uncertainty is None and reference.dims == model.dims == ("lat", "lon")
    plain = plain and time_dim not in reference.dims
    if plain:
        try:
            ref, mod, cells = grid_values(reference, reference, model, area)
        except ValueError:  # another grid, or dims: xarray aligns (and says what does not match)
            plain = False
    if not plain:
        kwargs = {"time_dim": time_dim, "uncertainty": uncertainty, "time_weights": time_weights}
        return _area_mean(bias_score_map(reference, model, **kwargs), area)
    return _map_bias_score(ref, mod, cells)


def _map_bias_score(ref: np.ndarray, mod: np.ndarray, area: np.ndarray) -> float:
    """:func:`bias_score` of (lat, lon) period-mean arrays: ``exp(-max(|m - r|, 0) / |r|)`` per cell, as
    :func:`bias_score_map` computes it without a time axis and uncertainty, area-weighted."""
    error = np.abs(mod - ref)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.exp(-np.clip(error, 0, None) / np.abs(ref))
    return _area_mean_values(score, area)


def rmse_score_map(
    reference: xr.DataArray,
    model: xr.DataArray,
    *,
    time_dim: str = "year",
    uncertainty: xr.DataArray | None = None,
    time_weights: xr.DataArray | None = None,
) -> xr.DataArray:
    """Per-cell ilamb3 RMSE score ``exp(-crmse / crms)`` (1; see module doc).

    Raises :class:`NotAppropriate` unless both inputs have at least
    :data:`MIN_RMSE_STEPS` steps along ``time_dim``.
    """
    for label, da in (("reference", reference), ("model", model)):
        steps = da.sizes.get(time_dim, 0)
        if steps < MIN_RMSE_STEPS:
            found = f"{steps} along {time_dim!r}" if time_dim in da.dims else "no time axis (a static map)"
            raise NotAppropriate(
                f"ilamb3's RMSE score needs time series of at least {MIN_RMSE_STEPS} steps; the {label} has {found}"
            )
    reference, model = _aligned(reference, model)
    ref_anom = reference - _time_mean(reference, time_dim, time_weights)
    mod_anom = model - _time_mean(model, time_dim, time_weights)
    error = abs(mod_anom - ref_anom)
    if uncertainty is not None:
        error = error - uncertainty.fillna(0)
    crmse = np.sqrt(_time_mean(error.clip(min=0) ** 2, time_dim, time_weights))
    crms = np.sqrt(_time_mean(ref_anom**2, time_dim, time_weights))
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.exp(-crmse / crms)
    return score.rename("rmse_score").assign_attrs(units="1", long_name="ILAMB RMSE score")


def rmse_score(
    reference: xr.DataArray,
    model: xr.DataArray,
    area: xr.DataArray,
    *,
    time_dim: str = "year",
    uncertainty: xr.DataArray | None = None,
    time_weights: xr.DataArray | None = None,
) -> float:
    """ilamb3 RMSE score (1): the mean of :func:`rmse_score_map` (keywords as there) weighted by
    ``area`` (m2; any consistent unit)."""
    kwargs = {"time_dim": time_dim, "uncertainty": uncertainty, "time_weights": time_weights}
    return _area_mean(rmse_score_map(reference, model, **kwargs), area)


def spatial_distribution(reference: xr.DataArray, model: xr.DataArray, *, time_dim: str = "year") -> dict[str, float]:
    """ilamb3 spatial distribution statistics of the period-mean maps (see module doc).

    Returns ``normalized_sd`` (sigma_m / sigma_r), ``correlation`` and ``score`` (all 1).
    Raises :class:`NotAppropriate` when the reference map has no spatial variance.
    """
    reference, model = _time_mean(reference, time_dim, None), _time_mean(model, time_dim, None)
    try:  # two (lat, lon) maps on one grid: their arrays as they are (else xarray aligns, or says why not)
        if reference.dims != ("lat", "lon"):
            raise ValueError("cells in another order")
        ref_values, mod_values = grid_values(reference, reference, model)
    except ValueError:
        reference, model = _aligned(reference, model)
        ref_values, mod_values = reference.values, model.transpose(*reference.dims).values
    ref, mod = np.asarray(ref_values, dtype=float), np.asarray(mod_values, dtype=float)
    ref_sd = float(np.nanstd(ref)) if np.isfinite(ref).any() else float("nan")
    mod_sd = float(np.nanstd(mod)) if np.isfinite(mod).any() else float("nan")
    if not np.isfinite(ref_sd) or np.allclose(ref_sd, 0):
        raise NotAppropriate("the reference map has no spatial variance: the spatial distribution score is undefined")
    both = np.isfinite(ref) & np.isfinite(mod)
    corr = float(np.corrcoef(ref[both], mod[both])[0, 1]) if both.sum() > 1 else float("nan")
    s = np.float64(mod_sd) / ref_sd  # numpy: a constant model map (s = 0) scores 0, not ZeroDivisionError
    with np.errstate(divide="ignore", invalid="ignore"):
        score = 4.0 * (1.0 + corr) / ((s + 1.0 / s) ** 2 * 2.0)
    return {"normalized_sd": s, "correlation": corr, "score": float(score)}


def overall_score(scores: Mapping[str, float | None]) -> float:
    """ilamb3 Overall score (1): the plain mean of the defined (finite) scores; NaN when none are."""
    values = [float(v) for v in scores.values() if v is not None and math.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def ilamb_scores(
    reference: xr.DataArray,
    model: xr.DataArray,
    area: xr.DataArray,
    *,
    time_dim: str = "year",
    uncertainty: xr.DataArray | None = None,
) -> tuple[dict[str, float], dict[str, str]]:
    """All four ilamb3 scores of ``model`` against ``reference`` (1).

    Returns ``(scores, reasons)``: ``scores`` maps each name of :data:`SCORES` to its value
    (NaN when undefined) and ``reasons`` says why each undefined score is undefined.
    """
    scores: dict[str, float] = {}
    reasons: dict[str, str] = {}
    scores["bias_score"] = bias_score(reference, model, area, time_dim=time_dim, uncertainty=uncertainty)
    try:
        scores["rmse_score"] = rmse_score(reference, model, area, time_dim=time_dim, uncertainty=uncertainty)
    except NotAppropriate as why:
        scores["rmse_score"], reasons["rmse_score"] = float("nan"), str(why)
    try:
        scores["spatial_distribution_score"] = spatial_distribution(reference, model, time_dim=time_dim)["score"]
    except NotAppropriate as why:
        scores["spatial_distribution_score"], reasons["spatial_distribution_score"] = float("nan"), str(why)
    scores["overall_score"] = overall_score(scores)
    for name, value in scores.items():
        if not math.isfinite(value) and name not in reasons:
            reasons[name] = "undefined: no cell where the score is defined"
    return scores, reasons


def metric_names(prefix: str) -> list[str]:
    """The four score metrics of one variable prefix (``rh``, ``csoil`` or ``tau_soil``).

    Their units and definitions are in :data:`rhbench.metrics.definitions.METRIC_TABLE`.
    """
    return [f"{prefix}_{score}" for score in SCORES]
