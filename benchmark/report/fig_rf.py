"""Random Forest diagnostics: cross-validation scatter, importance, partial dependence."""

from __future__ import annotations

import math

import pandas as pd

from rhbench.report.figure import message_figure, new_figure, png, styles

#: Cross-validation scores shown on the scatter, with their labels.
CV_SCORES = {"r2": "R²", "nse": "NSE", "rmse": "RMSE", "n_obs": "n"}
#: Scores of the location-grouped CV (``rhbench.upscaling.grouped``), with their labels.
UNSEEN_SCORES = {
    "location_grouped_r2": "R²",
    "location_grouped_nse": "NSE",
    "location_grouped_rmse": "RMSE",
    "location_grouped_n_locations": "locations",
}


def cv_caption(metrics: dict | None, scores: dict[str, str] = CV_SCORES) -> str:
    """``R² 0.62 · NSE 0.63 · RMSE 153 · n 761`` from the known scalar CV scores only
    (``scores``: metric key -> label; :data:`UNSEEN_SCORES` for the location-grouped CV)."""
    parts = []
    for key, label in scores.items():
        value = (metrics or {}).get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            parts.append(f"{label} {value:.3g}" if isinstance(value, float) else f"{label} {value}")
    return " · ".join(parts)


def rf_scatter(oof: pd.DataFrame, *, metrics: dict | None = None, units: str = "g C m-2 yr-1") -> bytes:
    """Observed vs out-of-fold predicted Rh, coloured by climate zone, with a 1:1 line.

    Parameters
    ----------
    oof: columns ``observed``, ``predicted`` (``units``) and optionally ``zone``.
    metrics: cross-validation scores; the known ones (:data:`CV_SCORES`) form the title, and
        the location-grouped CV's (:data:`UNSEEN_SCORES`), when given, its second line.
    units: axis units.
    """
    fig = new_figure(5.4, 3.9)
    ax = fig.add_subplot()
    groups = list(oof.groupby("zone")) if "zone" in oof else [("sites", oof)]
    for (zone, part), style in zip(groups, styles(len(groups)), strict=True):
        ax.scatter(part["observed"], part["predicted"], s=8, alpha=0.6, label=f"{zone} (n={len(part)})", **style)
    both = pd.concat([oof["observed"], oof["predicted"]]).dropna()
    low, high = (float(both.min()), float(both.max())) if len(both) else (0.0, 1.0)
    ax.plot([low, high], [low, high], color="black", linewidth=0.8, label="1:1")
    ax.set_xlabel(f"observed Rh ({units})")
    ax.set_ylabel(f"out-of-fold predicted Rh ({units})")
    caption = cv_caption(metrics)
    title = f"cross-validation: {caption}" if caption else "cross-validation"
    unseen = cv_caption(metrics, UNSEEN_SCORES)
    if unseen:  # the points are the paper-style CV's; the map's skill far from sites is this one
        title += f"\nat unseen locations (location-grouped, not the paper's CV):\n{unseen}"
    ax.set_title(title, fontsize=8 if unseen else 9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    return png(fig)


def rf_importance(importance: pd.DataFrame) -> bytes:
    """Horizontal bars of predictor importance (``predictor``, ``importance_pct`` in %)."""
    ordered = importance.sort_values("importance_pct")
    fig = new_figure(4.2, 0.18 * len(ordered) + 1.0)
    ax = fig.add_subplot()
    ax.barh(ordered["predictor"].astype(str), ordered["importance_pct"], color="#55a868")
    ax.set_xlabel("importance (% of total node-purity increase)")
    ax.tick_params(axis="y", labelsize=7)
    return png(fig)


def rf_partial_dependence(pdp: pd.DataFrame, *, units: str = "g C m-2 yr-1", ncols: int = 4) -> bytes:
    """Partial-dependence lines, one panel per predictor.

    Parameters
    ----------
    pdp: long table with columns ``predictor``, ``value`` (predictor value, its own
        units) and ``rh`` (partial dependence of Rh, ``units``).
    units: y-axis units.
    ncols: panels per row.
    """
    predictors = list(dict.fromkeys(pdp["predictor"].astype(str)))
    if not predictors:
        return message_figure("no partial dependence")
    ncols = min(ncols, len(predictors))
    nrows = math.ceil(len(predictors) / ncols)
    fig = new_figure(2.3 * ncols, 1.8 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    for ax, name in zip(axes.flat, predictors, strict=False):
        part = pdp[pdp["predictor"].astype(str) == name].sort_values("value")
        ax.plot(part["value"], part["rh"], color="#c44e52")
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(predictors) :]:
        ax.set_visible(False)
    axes[0, 0].set_ylabel(f"Rh ({units})", fontsize=7)
    return png(fig)
