"""Bar charts: a global metric per source, regions (classes, zones), constrained vs
unconstrained uptake per class, and multi-model mean +- SD against the observations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from rhbench.report.figure import (
    CONSTRAINED,
    KIND_COLOURS,
    OBS_COLOUR,
    OTHER_KIND_COLOUR,
    UNCONSTRAINED,
    legend_outside,
    message_figure,
    new_figure,
    png,
)


def global_bars(
    values: pd.Series,
    *,
    units: str,
    title: str = "",
    kinds: pd.Series | None = None,
    obs: float | None = None,
    obs_sd: float | None = None,
    obs_label: str = "Observation",
) -> bytes:
    """Bar chart of a global metric per source, with the observation and its band.

    Parameters
    ----------
    values: metric value per source (index = source name), in ``units``.
    units: y-axis label (quantity and units, e.g. ``global Rh (Pg C yr-1)``).
    title: figure title.
    kinds: source kind per source (same index), used for bar colours.
    obs, obs_sd: the observation-based value and its 1-SD uncertainty, same units;
        drawn as a horizontal line and shaded band when given.
    obs_label: legend label of the observation.
    """
    values = values.dropna()
    fig = new_figure(max(5.0, 0.32 * len(values) + 2.5), 3.4)
    ax = fig.add_subplot()
    x = np.arange(len(values))
    kinds = kinds.reindex(values.index) if kinds is not None else None
    colours = [
        KIND_COLOURS.get(str(kinds.iloc[i]), OTHER_KIND_COLOUR) if kinds is not None else KIND_COLOURS["dgvm"]
        for i in range(len(values))
    ]
    ax.bar(x, values.to_numpy(dtype=float), color=colours, width=0.7)
    if obs is not None and math.isfinite(obs):
        ax.axhline(obs, color=OBS_COLOUR, linewidth=1.2, label=f"{obs_label} {obs:.3g}")
        if obs_sd is not None and math.isfinite(obs_sd):
            ax.axhspan(obs - obs_sd, obs + obs_sd, color="0.5", alpha=0.25, label=f"± 1 SD ({obs_sd:.2g})")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.set_xticks(x, [str(s) for s in values.index], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel(units)
    ax.set_xlim(-0.6, len(values) - 0.4)
    if title:
        ax.set_title(title)
    return png(fig)


def region_bars(table: pd.DataFrame, members: pd.DataFrame | None, *, units: str, title: str = "") -> bytes:
    """Observation and DGVM ensemble mean +- SD per region, with each DGVM as a dot.

    Parameters
    ----------
    table: index region; columns ``observation``, ``ensemble_mean``, ``ensemble_sd`` (any
        may be NaN), in ``units``.
    members: index region, one column per DGVM (dots), or None.
    units: y-axis label (quantity and units).
    """
    if table.empty:
        return message_figure("no regional rows")
    fig = new_figure(max(5.0, 0.55 * len(table) + 3.0), 3.4)
    ax = fig.add_subplot()
    x = np.arange(len(table))
    obs = table.get("observation", pd.Series(np.nan, index=table.index)).to_numpy(float)
    mean = table.get("ensemble_mean", pd.Series(np.nan, index=table.index)).to_numpy(float)
    sd = table.get("ensemble_sd", pd.Series(np.nan, index=table.index)).to_numpy(float)
    ax.bar(x - 0.2, obs, width=0.4, color="0.25", label="observation")
    ax.bar(x + 0.2, mean, width=0.4, color=KIND_COLOURS["dgvm"], label="DGVM mean ± 1 SD")
    ax.errorbar(x + 0.2, mean, yerr=np.nan_to_num(sd), fmt="none", ecolor="black", capsize=3, linewidth=1)
    if members is not None and not members.empty:
        values = members.reindex(table.index).to_numpy(float)
        jitter = np.linspace(-0.12, 0.12, values.shape[1]) if values.shape[1] > 1 else np.zeros(1)
        for j in range(values.shape[1]):
            label = "each DGVM" if j == 0 else None
            ax.plot(x + 0.2 + jitter[j], values[:, j], "o", ms=2.5, color="0.35", alpha=0.7, label=label)
    return _finish_class_bars(fig, ax, x, table.index, units, 3, title)


def _finish_class_bars(fig, ax, x: np.ndarray, classes: pd.Index, units: str, legend_cols: int, title: str) -> bytes:
    """Class names under the bars, the units axis label, the legend outside and the title; the PNG."""
    ax.set_xticks(x, [str(r) for r in classes], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(units)
    legend_outside(ax, legend_cols)
    if title:
        ax.set_title(title, fontsize=10)
    return png(fig)


def constraint_bars(table: pd.DataFrame, *, units: str = "Pg C", title: str = "") -> bytes:
    """Unconstrained vs constrained carbon change per class (paper Fig. S9).

    ``table``: index class; columns ``unconstrained``, ``constrained`` and optional
    ``unconstrained_sd``, ``constrained_sd`` (error bars), in ``units``.
    """
    if table.empty:
        return message_figure("no per-class 2-box rows")
    fig = new_figure(max(5.0, 0.6 * len(table) + 3.0), 3.4)
    ax = fig.add_subplot()
    x = np.arange(len(table))
    for offset, name, colour in ((-0.2, "unconstrained", UNCONSTRAINED), (0.2, "constrained", CONSTRAINED)):
        values = table[name].to_numpy(float)
        err = table[f"{name}_sd"].to_numpy(float) if f"{name}_sd" in table else None
        ax.bar(x + offset, values, width=0.4, color=colour, label=name)
        if err is not None:
            ax.errorbar(x + offset, values, yerr=np.nan_to_num(err), fmt="none", ecolor="black", capsize=3)
    ax.axhline(0, color="black", linewidth=0.6)
    return _finish_class_bars(fig, ax, x, table.index, units, 2, title)


def ensemble_panels(items: list[dict], *, title: str = "", ncols: int = 4) -> bytes:
    """Small bar panels, one per quantity: e.g. the observation against the multi-model
    mean +- SD, or the ensemble before and after the constraint.

    ``items``: dicts with ``label`` (quantity), ``units`` and ``bars``, a list of
    ``(name, value, sd)`` (sd NaN: no error bar), in ``units``.
    """
    items = [item for item in items if item["bars"]]
    if not items:
        return message_figure("no ensemble rows")
    ncols = min(ncols, len(items))
    nrows = math.ceil(len(items) / ncols)
    fig = new_figure(2.4 * ncols, 2.3 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    colours = {"observation": "0.25", "unconstrained": UNCONSTRAINED, "constrained": CONSTRAINED}
    colours["Rh products mean"] = OTHER_KIND_COLOUR
    for ax, item in zip(axes.flat, items, strict=False):
        names = [bar[0] for bar in item["bars"]]
        values = np.array([bar[1] for bar in item["bars"]], dtype=float)
        errors = np.array([bar[2] for bar in item["bars"]], dtype=float)
        x = np.arange(len(names))
        ax.bar(x, values, color=[colours.get(n, KIND_COLOURS["dgvm"]) for n in names], width=0.6)
        ax.errorbar(x, values, yerr=np.nan_to_num(errors), fmt="none", ecolor="black", capsize=4)
        ax.set_xticks(x, names, fontsize=7, rotation=20)
        ax.set_title(item["label"], fontsize=8)
        ax.set_ylabel(item["units"], fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[len(items) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=10)
    return png(fig)
